;; test.add 1.0.0: add, inc, and a 64-bit add.
(module
  (func (export "test.add@1.0.0/add:u32(u32,u32)") (param i32 i32) (result i32)
    (i32.add (local.get 0) (local.get 1)))
  (func (export "test.add@1.0.0/inc:u32(u32)") (param i32) (result i32)
    (i32.add (local.get 0) (i32.const 1)))
  (func (export "test.add@1.0.0/add64:u64(u64,u64)") (param i64 i64) (result i64)
    (i64.add (local.get 0) (local.get 1))))
