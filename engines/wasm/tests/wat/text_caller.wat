;; demo.shout 1.0.0: calls demo.text (text.wat) through the host imports,
;; with bytes both ways.
;; - sum_hello: u64() = demo.text's checksum("hello")
;; - upper_abc: u32() = demo.text's upper("abc"), as its first byte | len << 8
;; On an error: 0xE0000000 | code (-1 when demo.text is not found).
;; polyplug_alloc bumps from 1024, for the string result the host copies in.
(module
  (import "polyplug" "find" (func $find (param i32 i32 i32 i32) (result i64)))
  (import "polyplug" "call" (func $call (param i64 i32 i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (global $next (mut i32) (i32.const 1024))
  (data (i32.const 0) "demo.text")
  (data (i32.const 16) "checksum")
  (data (i32.const 32) "u64(bytes)")
  (data (i32.const 48) "upper")
  (data (i32.const 64) "string(str)")
  (data (i32.const 80) "hello")
  (data (i32.const 96) "abc")
  (func (export "polyplug_alloc") (param $size i32) (param $align i32) (result i32)
    (local $at i32)
    (local.set $at (global.get $next))
    (global.set $next (i32.add (global.get $next) (local.get $size)))
    (local.get $at))
  ;; Calls demo.text's `fn` (sig) with the view (ptr, len) at 128; the
  ;; result lands at 160. 0 or the error word.
  (func $relay (param $fn i32) (param $fn_len i32) (param $sig i32) (param $sig_len i32)
               (param $ptr i32) (param $len i32) (result i32)
    (local $handle i64) (local $code i32)
    (local.set $handle (call $find (i32.const 0) (i32.const 9) (i32.const 1) (i32.const 0)))
    (if (i64.eqz (local.get $handle)) (then (return (i32.const -1))))
    (i32.store (i32.const 128) (local.get $ptr))
    (i32.store (i32.const 132) (local.get $len))
    (local.set $code
      (call $call (local.get $handle) (local.get $fn) (local.get $fn_len)
                  (local.get $sig) (local.get $sig_len) (i32.const 128) (i32.const 160)))
    (if (local.get $code)
      (then (return (i32.or (i32.const 0xE0000000) (local.get $code)))))
    (i32.const 0))
  (func (export "demo.shout@1.0.0/sum_hello:u64()") (result i64)
    (local $code i32)
    (local.set $code
      (call $relay (i32.const 16) (i32.const 8) (i32.const 32) (i32.const 10) (i32.const 80) (i32.const 5)))
    (if (local.get $code) (then (return (i64.extend_i32_u (local.get $code)))))
    (i64.load (i32.const 160)))
  (func (export "demo.shout@1.0.0/upper_abc:u32()") (result i32)
    (local $code i32)
    (local.set $code
      (call $relay (i32.const 48) (i32.const 5) (i32.const 64) (i32.const 11) (i32.const 96) (i32.const 3)))
    (if (local.get $code) (then (return (local.get $code))))
    (i32.or (i32.load8_u (i32.load (i32.const 160)))
      (i32.shl (i32.load (i32.const 164)) (i32.const 8)))))
