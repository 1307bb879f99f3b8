;; Registers test.add and a contract its manifest does not declare.
(module
  (func (export "test.add@1.0.0/inc:u32(u32)") (param i32) (result i32) (local.get 0))
  (func (export "undeclared.extra@1.0.0/f:u32()") (result i32) i32.const 1))
