;; demo.text 1.0.0 with bytes across the boundary:
;; - upper: string(str): the ASCII upper case of the argument, in fresh
;;   memory, returned as ptr | (len << 32)
;; - checksum: u64(bytes): the wrapping sum of the bytes
;; - echo: buf(bytes, u32): a copy of the first `n` bytes of the argument
;;   (all when n is larger)
;; - bad: string(): 0xff 0xfe, not UTF-8
;; - far: string(): a range past the memory's end
;; - frees: u32(): how many times polyplug_free ran
;; polyplug_alloc bumps from 1024; polyplug_free counts its calls at 0.
(module
  (memory (export "memory") 4)
  (global $next (mut i32) (i32.const 1024))
  (data (i32.const 16) "\ff\fe")
  (func $alloc (export "polyplug_alloc") (param $size i32) (param $align i32) (result i32)
    (local $at i32)
    (local.set $at (global.get $next))
    (global.set $next (i32.add (global.get $next) (local.get $size)))
    (local.get $at))
  (func (export "polyplug_free") (param i32 i32 i32)
    (i32.store (i32.const 0) (i32.add (i32.load (i32.const 0)) (i32.const 1))))
  (func $pack (param $ptr i32) (param $len i32) (result i64)
    (i64.or (i64.extend_i32_u (local.get $ptr))
      (i64.shl (i64.extend_i32_u (local.get $len)) (i64.const 32))))
  (func (export "demo.text@1.0.0/upper:string(str)") (param $ptr i32) (param $len i32) (result i64)
    (local $i i32) (local $c i32) (local $out i32)
    (local.set $out (call $alloc (local.get $len) (i32.const 1)))
    (memory.copy (local.get $out) (local.get $ptr) (local.get $len))
    (local.set $ptr (local.get $out))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (local.set $c (i32.load8_u (i32.add (local.get $ptr) (local.get $i))))
        (if (i32.and (i32.ge_u (local.get $c) (i32.const 97)) (i32.le_u (local.get $c) (i32.const 122)))
          (then (i32.store8 (i32.add (local.get $ptr) (local.get $i)) (i32.sub (local.get $c) (i32.const 32)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (call $pack (local.get $ptr) (local.get $len)))
  (func (export "demo.text@1.0.0/checksum:u64(bytes)") (param $ptr i32) (param $len i32) (result i64)
    (local $i i32) (local $sum i64)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (local.set $sum (i64.add (local.get $sum)
          (i64.extend_i32_u (i32.load8_u (i32.add (local.get $ptr) (local.get $i))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $sum))
  (func (export "demo.text@1.0.0/echo:buf(bytes,u32)") (param $ptr i32) (param $len i32) (param $n i32) (result i64)
    (local $out i32)
    (if (i32.lt_u (local.get $n) (local.get $len)) (then (local.set $len (local.get $n))))
    (local.set $out (call $alloc (local.get $len) (i32.const 1)))
    (memory.copy (local.get $out) (local.get $ptr) (local.get $len))
    (call $pack (local.get $out) (local.get $len)))
  (func (export "demo.text@1.0.0/bad:string()") (result i64)
    (call $pack (i32.const 16) (i32.const 2)))
  (func (export "demo.text@1.0.0/far:string()") (result i64)
    (call $pack (i32.const 0x3fffa) (i32.const 100)))
  (func (export "demo.text@1.0.0/frees:u32()") (result i32)
    (i32.load (i32.const 0))))
