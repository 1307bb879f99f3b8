;; handover.counter, stateful, with a state handover in the format of the
;; native fixtures (fixtures/plugins/handover-common): 8 bytes, count then
;; armed, little-endian u32s. The test substitutes VERSION (the contract
;; version), ANSWER (what `version` returns) and STEP (how far one step
;; counts) before compiling.
;; - version: u32() = ANSWER
;; - step: u32() on an instance: count += STEP, returns count
;; - count: u32() on an instance: count
;; - arm: u32(u32) on an instance: armed = a (1: the next +save traps;
;;   2: the next +save writes state +restore refuses), returns a
;; - frees: u32() on an instance: how many times polyplug_free ran
;; - +instance: count = 0
;; - +save: the 8 bytes at 64, returned as 64 | (8 << 32)
;; - +restore(ptr, len): refuses (ERR_INVALID, 7) anything but 8 bytes
;;   with armed != 2; else count = the saved count, armed = 0
;; State: count at 0, armed at 4, frees at 8; polyplug_alloc bumps from
;; 1024.
(module
  (memory (export "memory") 1)
  (global $next (mut i32) (i32.const 1024))
  (func (export "polyplug_alloc") (param $size i32) (param $align i32) (result i32)
    (local $at i32)
    (local.set $at (global.get $next))
    (global.set $next (i32.add (global.get $next) (local.get $size)))
    (local.get $at))
  (func (export "polyplug_free") (param i32 i32 i32)
    (i32.store (i32.const 8) (i32.add (i32.load (i32.const 8)) (i32.const 1))))
  (func (export "handover.counter@VERSION/version:u32()") (result i32)
    i32.const ANSWER)
  (func (export "handover.counter@VERSION/step:u32()") (result i32)
    (i32.store (i32.const 0) (i32.add (i32.load (i32.const 0)) (i32.const STEP)))
    (i32.load (i32.const 0)))
  (func (export "handover.counter@VERSION/count:u32()") (result i32)
    (i32.load (i32.const 0)))
  (func (export "handover.counter@VERSION/frees:u32()") (result i32)
    (i32.load (i32.const 8)))
  (func (export "handover.counter@VERSION/arm:u32(u32)") (param i32) (result i32)
    (i32.store (i32.const 4) (local.get 0))
    (local.get 0))
  (func (export "handover.counter@VERSION/+instance") (result i32)
    (i32.store (i32.const 0) (i32.const 0))
    i32.const 0)
  (func (export "handover.counter@VERSION/+save") (result i64)
    (if (i32.eq (i32.load (i32.const 4)) (i32.const 1)) (then unreachable))
    (i32.store (i32.const 64) (i32.load (i32.const 0)))
    (i32.store (i32.const 68) (i32.load (i32.const 4)))
    (i64.or (i64.const 64) (i64.shl (i64.const 8) (i64.const 32))))
  (func (export "handover.counter@VERSION/+restore") (param $ptr i32) (param $len i32) (result i32)
    (if (i32.ne (local.get $len) (i32.const 8)) (then (return (i32.const 7))))
    (if (i32.eq (i32.load offset=4 (local.get $ptr)) (i32.const 2)) (then (return (i32.const 7))))
    (i32.store (i32.const 0) (i32.load (local.get $ptr)))
    (i32.store (i32.const 4) (i32.const 0))
    i32.const 0))
