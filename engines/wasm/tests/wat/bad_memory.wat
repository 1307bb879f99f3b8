;; Asks for 4 GiB of initial memory.
(module
  (memory 65536)
  (func (export "test.add@1.0.0/inc:u32(u32)") (param i32) (result i32) (local.get 0)))
