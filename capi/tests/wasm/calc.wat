;; capi.calc 1.0.0, a WebAssembly plugin for the C host test: an add, and a
;; function that always traps.
(module
  (func (export "capi.calc@1.0.0/add:u32(u32,u32)") (param i32 i32) (result i32)
    (i32.add (local.get 0) (local.get 1)))
  (func (export "capi.calc@1.0.0/fail:u32(u32)") (param i32) (result i32)
    unreachable))
