/* rollupkit.h: write rollupkit contracts in C, for the riscv VM (an RV32IM ELF) and the wasm
 * VM (a wasm32 module) alike.
 *
 * Everything a contract asks of the chain goes through rollupkit's host ABI (documented in
 * rollupkit/hostabi.py): on RISC-V an `ecall` with the function number in a7, arguments in
 * a0..a4 and the answer in a0 (low 32 bits) and a1 (high 32 bits); on wasm an import from
 * module "rollupkit" named after the function (i32 arguments, an i64 answer). A contract
 * implements `void rk_main(void)`; returning from it returns no data. The entry point (RISC-V:
 * `_start`, linked first by link.ld; wasm: the export "run") is defined here.
 *
 * Words (storage keys and values, balances, call values, log topics) are 32-byte big-endian,
 * addresses 20 bytes: the EVM's encodings, so Solidity ABI calls and events work unchanged.
 *
 * This header also defines memcpy, memset and memcmp (the compiler emits calls to them):
 * include it in exactly one file of a contract, or define RK_NO_LIBC in the others.
 *
 * Build (see the Makefiles next to the examples):
 *   RISC-V: clang --target=riscv32-unknown-elf -march=rv32im -mabi=ilp32 -Os -ffreestanding
 *           -nostdlib -fuse-ld=lld -Wl,-T,link.ld -o contract.elf contract.c
 *   wasm:   clang --target=wasm32 -Os -ffreestanding -nostdlib -Wl,--no-entry
 *           -o contract.wasm contract.c
 */
#ifndef ROLLUPKIT_H
#define ROLLUPKIT_H

#include <stddef.h>
#include <stdint.h>

typedef struct { uint8_t bytes[32]; } rk_word;
typedef struct { uint8_t bytes[20]; } rk_address;

enum rk_function {
    RK_STORAGE_LOAD = 1, RK_STORAGE_STORE = 2, RK_CALLDATA_SIZE = 3, RK_CALLDATA_COPY = 4,
    RK_CALLER = 5, RK_CALL_VALUE = 6, RK_RETURN = 7, RK_REVERT = 8, RK_LOG = 9,
    RK_KECCAK256 = 10, RK_BALANCE = 11, RK_TRANSFER = 12, RK_BLOCK_NUMBER = 13,
    RK_TIMESTAMP = 14, RK_CHAIN_ID = 15, RK_CALL = 16, RK_RETURNDATA_SIZE = 17,
    RK_RETURNDATA_COPY = 18, RK_GAS_LEFT = 19, RK_ADDRESS = 20,
};

/* CALL's gas argument for "all the gas the caller may forward" (all but 1/64 of its own). */
#define RK_ALL_GAS 0xFFFFFFFFu

#if defined(__riscv)
static inline uint64_t rk_host(uint32_t function, uint32_t a, uint32_t b, uint32_t c,
                               uint32_t d, uint32_t e) {
    register uint32_t a0 __asm__("a0") = a;
    register uint32_t a1 __asm__("a1") = b;
    register uint32_t a2 __asm__("a2") = c;
    register uint32_t a3 __asm__("a3") = d;
    register uint32_t a4 __asm__("a4") = e;
    register uint32_t a7 __asm__("a7") = function;
    __asm__ volatile("ecall" : "+r"(a0), "+r"(a1) : "r"(a2), "r"(a3), "r"(a4), "r"(a7)
                     : "memory");
    return ((uint64_t)a1 << 32) | a0;
}
#define RK_HOST0(F, n) rk_host(RK_##F, 0, 0, 0, 0, 0)
#define RK_HOST1(F, n, a) rk_host(RK_##F, a, 0, 0, 0, 0)
#define RK_HOST2(F, n, a, b) rk_host(RK_##F, a, b, 0, 0, 0)
#define RK_HOST3(F, n, a, b, c) rk_host(RK_##F, a, b, c, 0, 0)
#define RK_HOST4(F, n, a, b, c, d) rk_host(RK_##F, a, b, c, d, 0)
#define RK_HOST5(F, n, a, b, c, d, e) rk_host(RK_##F, a, b, c, d, e)
#elif defined(__wasm__)
#define RK_IMPORT(name) __attribute__((import_module("rollupkit"), import_name(#name)))
RK_IMPORT(storage_load) uint64_t rk_import_storage_load(uint32_t, uint32_t);
RK_IMPORT(storage_store) uint64_t rk_import_storage_store(uint32_t, uint32_t);
RK_IMPORT(calldata_size) uint64_t rk_import_calldata_size(void);
RK_IMPORT(calldata_copy) uint64_t rk_import_calldata_copy(uint32_t, uint32_t, uint32_t);
RK_IMPORT(caller) uint64_t rk_import_caller(uint32_t);
RK_IMPORT(call_value) uint64_t rk_import_call_value(uint32_t);
RK_IMPORT(return) uint64_t rk_import_return(uint32_t, uint32_t);
RK_IMPORT(revert) uint64_t rk_import_revert(uint32_t, uint32_t);
RK_IMPORT(log) uint64_t rk_import_log(uint32_t, uint32_t, uint32_t, uint32_t);
RK_IMPORT(keccak256) uint64_t rk_import_keccak256(uint32_t, uint32_t, uint32_t);
RK_IMPORT(balance) uint64_t rk_import_balance(uint32_t, uint32_t);
RK_IMPORT(transfer) uint64_t rk_import_transfer(uint32_t, uint32_t);
RK_IMPORT(block_number) uint64_t rk_import_block_number(void);
RK_IMPORT(timestamp) uint64_t rk_import_timestamp(void);
RK_IMPORT(chain_id) uint64_t rk_import_chain_id(void);
RK_IMPORT(call) uint64_t rk_import_call(uint32_t, uint32_t, uint32_t, uint32_t, uint32_t);
RK_IMPORT(returndata_size) uint64_t rk_import_returndata_size(void);
RK_IMPORT(returndata_copy) uint64_t rk_import_returndata_copy(uint32_t, uint32_t, uint32_t);
RK_IMPORT(gas_left) uint64_t rk_import_gas_left(void);
RK_IMPORT(address) uint64_t rk_import_address(uint32_t);
#define RK_HOST0(F, n) rk_import_##n()
#define RK_HOST1(F, n, a) rk_import_##n(a)
#define RK_HOST2(F, n, a, b) rk_import_##n(a, b)
#define RK_HOST3(F, n, a, b, c) rk_import_##n(a, b, c)
#define RK_HOST4(F, n, a, b, c, d) rk_import_##n(a, b, c, d)
#define RK_HOST5(F, n, a, b, c, d, e) rk_import_##n(a, b, c, d, e)
#else
#error "rollupkit.h targets riscv32 (the riscv VM) and wasm32 (the wasm VM)"
#endif

#define RK_PTR(p) ((uint32_t)(uintptr_t)(p))

static inline void rk_storage_load(const rk_word *key, rk_word *value) {
    RK_HOST2(STORAGE_LOAD, storage_load, RK_PTR(key), RK_PTR(value));
}
static inline void rk_storage_store(const rk_word *key, const rk_word *value) {
    RK_HOST2(STORAGE_STORE, storage_store, RK_PTR(key), RK_PTR(value));
}
static inline uint32_t rk_calldata_size(void) {
    return (uint32_t)RK_HOST0(CALLDATA_SIZE, calldata_size);
}
/* Copy call data [offset, offset + length) to dst; zeros past its end. */
static inline void rk_calldata_copy(void *dst, uint32_t offset, uint32_t length) {
    RK_HOST3(CALLDATA_COPY, calldata_copy, RK_PTR(dst), offset, length);
}
static inline void rk_caller(rk_address *out) { RK_HOST1(CALLER, caller, RK_PTR(out)); }
static inline void rk_self(rk_address *out) { RK_HOST1(ADDRESS, address, RK_PTR(out)); }
static inline void rk_call_value(rk_word *out) {
    RK_HOST1(CALL_VALUE, call_value, RK_PTR(out));
}
__attribute__((noreturn)) static inline void rk_return(const void *data, uint32_t length) {
    RK_HOST2(RETURN, return, RK_PTR(data), length);
    __builtin_unreachable();
}
/* End the call as failed, undoing its writes; the caller gets `data` as the return data. */
__attribute__((noreturn)) static inline void rk_revert(const void *data, uint32_t length) {
    RK_HOST2(REVERT, revert, RK_PTR(data), length);
    __builtin_unreachable();
}
static inline void rk_log(const rk_word *topics, uint32_t topic_count, const void *data,
                          uint32_t length) {
    RK_HOST4(LOG, log, RK_PTR(topics), topic_count, RK_PTR(data), length);
}
static inline void rk_keccak256(const void *data, uint32_t length, rk_word *out) {
    RK_HOST3(KECCAK256, keccak256, RK_PTR(data), length, RK_PTR(out));
}
static inline void rk_balance(const rk_address *account, rk_word *out) {
    RK_HOST2(BALANCE, balance, RK_PTR(account), RK_PTR(out));
}
/* Move `value` wei to `to` without running its code. 0: done; 1: refused. */
static inline int rk_transfer(const rk_address *to, const rk_word *value) {
    return (int)RK_HOST2(TRANSFER, transfer, RK_PTR(to), RK_PTR(value));
}
static inline uint64_t rk_block_number(void) { return RK_HOST0(BLOCK_NUMBER, block_number); }
static inline uint64_t rk_timestamp(void) { return RK_HOST0(TIMESTAMP, timestamp); }
static inline uint64_t rk_chain_id(void) { return RK_HOST0(CHAIN_ID, chain_id); }
static inline uint64_t rk_gas_left(void) { return RK_HOST0(GAS_LEFT, gas_left); }
/* Call `to` with `value` and `data`. 0: it succeeded; 1: it failed (reverted, ran out of gas,
 * or could not start). Either way its output is the return data. */
static inline int rk_call(const rk_address *to, const rk_word *value, const void *data,
                          uint32_t length, uint32_t gas) {
    return (int)RK_HOST5(CALL, call, RK_PTR(to), RK_PTR(value), RK_PTR(data), length, gas);
}
static inline uint32_t rk_returndata_size(void) {
    return (uint32_t)RK_HOST0(RETURNDATA_SIZE, returndata_size);
}
static inline void rk_returndata_copy(void *dst, uint32_t offset, uint32_t length) {
    RK_HOST3(RETURNDATA_COPY, returndata_copy, RK_PTR(dst), offset, length);
}

/* --- words ------------------------------------------------------------------------------ */

static inline rk_word rk_word_from_u64(uint64_t value) {
    rk_word w = {{0}};
    for (int i = 0; i < 8; i++) w.bytes[31 - i] = (uint8_t)(value >> (8 * i));
    return w;
}
/* The low 64 bits of a word. */
static inline uint64_t rk_word_to_u64(const rk_word *w) {
    uint64_t value = 0;
    for (int i = 24; i < 32; i++) value = (value << 8) | w->bytes[i];
    return value;
}
static inline rk_word rk_word_from_address(const rk_address *a) {
    rk_word w = {{0}};
    for (int i = 0; i < 20; i++) w.bytes[12 + i] = a->bytes[i];
    return w;
}
/* An ABI-encoded address argument (the low 20 bytes of the word). */
static inline rk_address rk_address_from_word(const rk_word *w) {
    rk_address a;
    for (int i = 0; i < 20; i++) a.bytes[i] = w->bytes[12 + i];
    return a;
}
/* -1, 0, 1 as a is below, equal to or above b (unsigned). */
static inline int rk_word_cmp(const rk_word *a, const rk_word *b) {
    for (int i = 0; i < 32; i++) {
        if (a->bytes[i] != b->bytes[i]) return a->bytes[i] < b->bytes[i] ? -1 : 1;
    }
    return 0;
}
/* out = a + b mod 2**256; returns the carry. */
static inline int rk_word_add(const rk_word *a, const rk_word *b, rk_word *out) {
    unsigned carry = 0;
    for (int i = 31; i >= 0; i--) {
        unsigned sum = (unsigned)a->bytes[i] + b->bytes[i] + carry;
        out->bytes[i] = (uint8_t)sum;
        carry = sum >> 8;
    }
    return (int)carry;
}
/* out = a - b mod 2**256; returns the borrow (1 when b > a). */
static inline int rk_word_sub(const rk_word *a, const rk_word *b, rk_word *out) {
    int borrow = 0;
    for (int i = 31; i >= 0; i--) {
        int diff = (int)a->bytes[i] - b->bytes[i] - borrow;
        borrow = diff < 0;
        out->bytes[i] = (uint8_t)(diff + (borrow << 8));
    }
    return borrow;
}
/* The 4-byte function selector of the call data (0 with less than 4 bytes). */
static inline uint32_t rk_selector(void) {
    uint8_t s[4];
    if (rk_calldata_size() < 4) return 0;
    rk_calldata_copy(s, 0, 4);
    return ((uint32_t)s[0] << 24) | ((uint32_t)s[1] << 16) | ((uint32_t)s[2] << 8) | s[3];
}
/* ABI argument `index` (0-based) of the call: the 32-byte word after the selector. */
static inline rk_word rk_argument(uint32_t index) {
    rk_word w;
    rk_calldata_copy(&w, 4 + 32 * index, 32);
    return w;
}
__attribute__((noreturn)) static inline void rk_return_word(const rk_word *w) {
    rk_return(w, 32);
}

/* --- the entry point and the C library the compiler needs --------------------------------- */

void rk_main(void);

#ifndef RK_NO_LIBC
void *memcpy(void *dst, const void *src, size_t n) {
    uint8_t *d = dst;
    const uint8_t *s = src;
    while (n--) *d++ = *s++;
    return dst;
}
void *memset(void *dst, int c, size_t n) {
    uint8_t *d = dst;
    while (n--) *d++ = (uint8_t)c;
    return dst;
}
int memcmp(const void *a, const void *b, size_t n) {
    const uint8_t *x = a, *y = b;
    for (; n--; x++, y++) {
        if (*x != *y) return *x < *y ? -1 : 1;
    }
    return 0;
}

#if defined(__riscv)
/* The host starts here, with sp at the top of the stack. */
__attribute__((section(".text._start"), noreturn)) void _start(void) {
    rk_main();
    rk_return(0, 0);
}
#else
/* The host calls the export "run". */
__attribute__((export_name("run"))) void rk_run(void) {
    rk_main();
    rk_return(0, 0);
}
#endif
#endif

#endif /* ROLLUPKIT_H */
