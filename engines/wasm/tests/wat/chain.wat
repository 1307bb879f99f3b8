;; CONTRACT 1.0.0 (the test substitutes the name): calls other contracts
;; through the host imports polyplug.find and polyplug.call.
;; - inc_via_native: u32(u32) = test.add's inc(x), whatever provides it
;; - via_c: u32(u32) = test.caller's call_wasm(x) (the C fixture c-caller)
;; On an error: -1 when the contract is not found, else 0xE0000000 | code.
(module
  (import "polyplug" "find" (func $find (param i32 i32 i32 i32) (result i64)))
  (import "polyplug" "call" (func $call (param i64 i32 i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "test.add")
  (data (i32.const 16) "inc")
  (data (i32.const 32) "u32(u32)")
  (data (i32.const 48) "test.caller")
  (data (i32.const 64) "call_wasm")
  ;; The arguments at 128, the result at 160.
  (func $relay (param $name i32) (param $name_len i32) (param $fn i32) (param $fn_len i32)
               (param $x i32) (result i32)
    (local $handle i64) (local $code i32)
    (local.set $handle
      (call $find (local.get $name) (local.get $name_len) (i32.const 1) (i32.const 0)))
    (if (i64.eqz (local.get $handle)) (then (return (i32.const -1))))
    (i32.store (i32.const 128) (local.get $x))
    (local.set $code
      (call $call (local.get $handle) (local.get $fn) (local.get $fn_len)
                  (i32.const 32) (i32.const 8) (i32.const 128) (i32.const 160)))
    (if (local.get $code)
      (then (return (i32.or (i32.const 0xE0000000) (local.get $code)))))
    (i32.load (i32.const 160)))
  (func (export "CONTRACT@1.0.0/inc_via_native:u32(u32)") (param i32) (result i32)
    (call $relay (i32.const 0) (i32.const 8) (i32.const 16) (i32.const 3) (local.get 0)))
  (func (export "CONTRACT@1.0.0/via_c:u32(u32)") (param i32) (result i32)
    (call $relay (i32.const 48) (i32.const 11) (i32.const 64) (i32.const 9) (local.get 0))))
