;; The example counter written by hand in WAT: the same functions, storage, event and gas
;; behaviour as counter.c (increment() adds one, logs Incremented(count) and returns the new
;; count; count() returns it; fail() reverts with "nope"), without a compiler.
;;
;; Memory: 0..32 the storage slot (zero), 32..64 the count as a 32-byte big-endian word,
;; 64..68 the call's selector, 96..128 the event's topic, 128.. the revert messages.
(module
  (import "rollupkit" "storage_load" (func $storage_load (param i32 i32) (result i64)))
  (import "rollupkit" "storage_store" (func $storage_store (param i32 i32) (result i64)))
  (import "rollupkit" "calldata_size" (func $calldata_size (result i64)))
  (import "rollupkit" "calldata_copy" (func $calldata_copy (param i32 i32 i32) (result i64)))
  (import "rollupkit" "return" (func $return (param i32 i32) (result i64)))
  (import "rollupkit" "revert" (func $revert (param i32 i32) (result i64)))
  (import "rollupkit" "log" (func $log (param i32 i32 i32 i32) (result i64)))
  (memory (export "memory") 1)
  ;; keccak256("Incremented(uint256)")
  (data (i32.const 96) "\20\d8\a6\f5\a6\93\f9\d1\d6\27\a5\98\e8\82\0f\7a\55\ee\74\c1\83\aa\8f\1a\30\e8\d4\e8\dd\9a\8d\84")
  (data (i32.const 128) "nope")
  (data (i32.const 132) "unknown function")

  ;; The low 64 bits of the count (bytes 56..64, big-endian).
  (func $get (result i64) (local $i i32) (local $value i64)
    (local.set $i (i32.const 56))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (i32.const 64)))
        (local.set $value (i64.or (i64.shl (local.get $value) (i64.const 8))
                                  (i64.load8_u (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $value))

  (func $put (param $value i64) (local $i i32)
    (local.set $i (i32.const 63))
    (block $done
      (loop $next
        (br_if $done (i32.lt_u (local.get $i) (i32.const 56)))
        (i64.store8 (local.get $i) (local.get $value))
        (local.set $value (i64.shr_u (local.get $value) (i64.const 8)))
        (local.set $i (i32.sub (local.get $i) (i32.const 1)))
        (br $next))))

  (func (export "run") (local $selector i32)
    (drop (call $storage_load (i32.const 0) (i32.const 32)))
    (if (i64.ge_u (call $calldata_size) (i64.const 4))
      (then (drop (call $calldata_copy (i32.const 64) (i32.const 0) (i32.const 4)))))
    (local.set $selector
      (i32.or
        (i32.or (i32.shl (i32.load8_u (i32.const 64)) (i32.const 24))
                (i32.shl (i32.load8_u (i32.const 65)) (i32.const 16)))
        (i32.or (i32.shl (i32.load8_u (i32.const 66)) (i32.const 8))
                (i32.load8_u (i32.const 67)))))
    (if (i32.eq (local.get $selector) (i32.const 0xd09de08a))  ;; increment()
      (then
        (call $put (i64.add (call $get) (i64.const 1)))
        (drop (call $storage_store (i32.const 0) (i32.const 32)))
        (drop (call $log (i32.const 96) (i32.const 1) (i32.const 32) (i32.const 32)))
        (drop (call $return (i32.const 32) (i32.const 32)))
        (unreachable)))
    (if (i32.eq (local.get $selector) (i32.const 0x06661abd))  ;; count()
      (then (drop (call $return (i32.const 32) (i32.const 32))) (unreachable)))
    (if (i32.eq (local.get $selector) (i32.const 0xa9cc4718))  ;; fail()
      (then (drop (call $revert (i32.const 128) (i32.const 4))) (unreachable)))
    (drop (call $revert (i32.const 132) (i32.const 16)))
    (unreachable))
)
