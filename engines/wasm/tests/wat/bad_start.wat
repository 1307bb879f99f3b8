;; Its start function traps.
(module
  (func $start unreachable)
  (start $start)
  (func (export "test.add@1.0.0/inc:u32(u32)") (param i32) (result i32) (local.get 0)))
