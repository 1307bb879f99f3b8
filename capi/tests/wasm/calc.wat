;; capi.calc 1.0.0, a WebAssembly plugin for the C host tests: an add, a
;; function that always traps, and two that call a contract of the C host
;; through the host imports polyplug.find and polyplug.call.
;; - via_host: u32(u32) = capi.host's twice(x), which the host registers
;;   with its packed form
;; - via_plain: u32(u32) = capi.host's plain(x), registered without one
;; On an error: -1 when capi.host is not found, else 0xE0000000 | code.
(module
  (import "polyplug" "find" (func $find (param i32 i32 i32 i32) (result i64)))
  (import "polyplug" "call" (func $call (param i64 i32 i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "capi.host")
  (data (i32.const 16) "twice")
  (data (i32.const 32) "u32(u32)")
  (data (i32.const 48) "plain")
  ;; The argument at 128, the result at 160.
  (func $host (param $fn i32) (param $fn_len i32) (param $x i32) (result i32)
    (local $handle i64) (local $code i32)
    (local.set $handle (call $find (i32.const 0) (i32.const 9) (i32.const 1) (i32.const 0)))
    (if (i64.eqz (local.get $handle)) (then (return (i32.const -1))))
    (i32.store (i32.const 128) (local.get $x))
    (local.set $code
      (call $call (local.get $handle) (local.get $fn) (local.get $fn_len)
                  (i32.const 32) (i32.const 8) (i32.const 128) (i32.const 160)))
    (if (local.get $code)
      (then (return (i32.or (i32.const 0xE0000000) (local.get $code)))))
    (i32.load (i32.const 160)))
  (func (export "capi.calc@1.0.0/add:u32(u32,u32)") (param i32 i32) (result i32)
    (i32.add (local.get 0) (local.get 1)))
  (func (export "capi.calc@1.0.0/fail:u32(u32)") (param i32) (result i32)
    unreachable)
  (func (export "capi.calc@1.0.0/via_host:u32(u32)") (param i32) (result i32)
    (call $host (i32.const 16) (i32.const 5) (local.get 0)))
  (func (export "capi.calc@1.0.0/via_plain:u32(u32)") (param i32) (result i32)
    (call $host (i32.const 48) (i32.const 5) (local.get 0))))
