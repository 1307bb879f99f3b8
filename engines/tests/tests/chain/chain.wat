;; chain.wasm 1.0.0: the last engine link. inc(x) asks test.add, the native
;; fixture, through the host imports; a missing contract or a failed call
;; traps, so the failure travels back up the chain as an error.
(module
  (import "polyplug" "find" (func $find (param i32 i32 i32 i32) (result i64)))
  (import "polyplug" "call" (func $call (param i64 i32 i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "test.add")
  (data (i32.const 16) "inc")
  (data (i32.const 32) "u32(u32)")
  ;; The argument at 128, the result at 160.
  (func (export "chain.wasm@1.0.0/inc:u32(u32)") (param $x i32) (result i32)
    (local $handle i64)
    (local.set $handle (call $find (i32.const 0) (i32.const 8) (i32.const 1) (i32.const 0)))
    (if (i64.eqz (local.get $handle)) (then unreachable))
    (i32.store (i32.const 128) (local.get $x))
    (if (call $call (local.get $handle) (i32.const 16) (i32.const 3)
                    (i32.const 32) (i32.const 8) (i32.const 128) (i32.const 160))
      (then unreachable))
    (i32.load (i32.const 160))))
