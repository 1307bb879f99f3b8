;; budget.test 1.0.0: a guest that breaks each budget, and one call that
;; keeps them all.
(module
  (memory 1)
  (func (export "budget.test@1.0.0/ok:u32()") (result i32) i32.const 7)
  ;; Loops for ever: runs out of fuel.
  (func (export "budget.test@1.0.0/spin:u32()") (result i32)
    (loop $again (br $again))
    i32.const 0)
  ;; Recurses for ever: runs out of stack.
  (func $down (export "budget.test@1.0.0/recurse:u32()") (result i32)
    (i32.add (call $down) (i32.const 1)))
  ;; Traps at once.
  (func (export "budget.test@1.0.0/trap:u32()") (result i32)
    unreachable)
  ;; Grows memory a page at a time, past the bundle's limit.
  (func (export "budget.test@1.0.0/grow:u32()") (result i32)
    (loop $again
      (br_if $again (i32.ne (memory.grow (i32.const 1)) (i32.const -1))))
    i32.const 0))
