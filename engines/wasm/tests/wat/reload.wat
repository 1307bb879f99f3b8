;; reload.test, stateful. ANSWER is 100 (v1) or 200 (v2); the test
;; substitutes it and the version before compiling.
;; - version: u32() = ANSWER
;; - bump: u32() on an instance: its own counter in linear memory
;; - +instance: logs "reload.test instance" through the host, returns 0
(module
  (import "polyplug" "log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "reload.test instance")
  (func (export "reload.test@VERSION/version:u32()") (result i32)
    i32.const ANSWER)
  (func (export "reload.test@VERSION/bump:u32()") (result i32)
    (i32.store (i32.const 0) (i32.add (i32.load (i32.const 0)) (i32.const 1)))
    (i32.load (i32.const 0)))
  (func (export "reload.test@VERSION/+instance") (result i32)
    (call $log (i32.const 2) (i32.const 16) (i32.const 20))
    i32.const 0))
