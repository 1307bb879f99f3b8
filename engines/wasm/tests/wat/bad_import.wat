;; Imports a function the host does not provide.
(module
  (import "env" "system" (func $system (param i32) (result i32)))
  (func (export "test.add@1.0.0/inc:u32(u32)") (param i32) (result i32)
    (call $system (local.get 0))))
