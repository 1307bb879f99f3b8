;; Its polyplug_init never returns.
(module
  (func (export "polyplug_init") (result i32)
    (loop $again (br $again))
    i32.const 0)
  (func (export "test.add@1.0.0/inc:u32(u32)") (param i32) (result i32) (local.get 0)))
