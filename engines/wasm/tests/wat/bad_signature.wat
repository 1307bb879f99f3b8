;; Declares add as u32(u32,u32) but takes and returns i64.
(module
  (func (export "test.add@1.0.0/add:u32(u32,u32)") (param i64 i64) (result i64)
    (i64.add (local.get 0) (local.get 1))))
