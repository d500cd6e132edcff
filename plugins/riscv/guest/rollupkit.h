/* rollupkit.h: write rollupkit RISC-V contracts in C.
 *
 * A contract is a static RV32IM ELF linked with link.ld. Its entry point calls the contract's
 * `void rk_main(void)`; returning from rk_main returns no data. Everything the contract asks
 * of the chain goes through rollupkit's host ABI (documented in rollupkit/hostabi.py): an
 * `ecall` with the function number in a7, arguments in a0..a4, and the answer in a0 (low 32
 * bits) and a1 (high 32 bits).
 *
 * Words (storage keys and values, balances, call values, log topics) are 32-byte big-endian,
 * addresses 20 bytes: the EVM's encodings, so Solidity ABI calls and events work unchanged.
 *
 * This header also defines memcpy, memset and memcmp (the compiler emits calls to them):
 * include it in exactly one file of a contract, or define RK_NO_LIBC in the others.
 *
 * Build: clang --target=riscv32-unknown-elf -march=rv32im -mabi=ilp32 -Os -ffreestanding
 *        -nostdlib -fuse-ld=lld -Wl,-T,link.ld -o contract.elf contract.c  (see Makefile)
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

#define RK_PTR(p) ((uint32_t)(uintptr_t)(p))

static inline void rk_storage_load(const rk_word *key, rk_word *value) {
    rk_host(RK_STORAGE_LOAD, RK_PTR(key), RK_PTR(value), 0, 0, 0);
}
static inline void rk_storage_store(const rk_word *key, const rk_word *value) {
    rk_host(RK_STORAGE_STORE, RK_PTR(key), RK_PTR(value), 0, 0, 0);
}
static inline uint32_t rk_calldata_size(void) {
    return (uint32_t)rk_host(RK_CALLDATA_SIZE, 0, 0, 0, 0, 0);
}
/* Copy call data [offset, offset + length) to dst; zeros past its end. */
static inline void rk_calldata_copy(void *dst, uint32_t offset, uint32_t length) {
    rk_host(RK_CALLDATA_COPY, RK_PTR(dst), offset, length, 0, 0);
}
static inline void rk_caller(rk_address *out) { rk_host(RK_CALLER, RK_PTR(out), 0, 0, 0, 0); }
static inline void rk_self(rk_address *out) { rk_host(RK_ADDRESS, RK_PTR(out), 0, 0, 0, 0); }
static inline void rk_call_value(rk_word *out) {
    rk_host(RK_CALL_VALUE, RK_PTR(out), 0, 0, 0, 0);
}
__attribute__((noreturn)) static inline void rk_return(const void *data, uint32_t length) {
    rk_host(RK_RETURN, RK_PTR(data), length, 0, 0, 0);
    __builtin_unreachable();
}
/* End the call as failed, undoing its writes; the caller gets `data` as the return data. */
__attribute__((noreturn)) static inline void rk_revert(const void *data, uint32_t length) {
    rk_host(RK_REVERT, RK_PTR(data), length, 0, 0, 0);
    __builtin_unreachable();
}
static inline void rk_log(const rk_word *topics, uint32_t topic_count, const void *data,
                          uint32_t length) {
    rk_host(RK_LOG, RK_PTR(topics), topic_count, RK_PTR(data), length, 0);
}
static inline void rk_keccak256(const void *data, uint32_t length, rk_word *out) {
    rk_host(RK_KECCAK256, RK_PTR(data), length, RK_PTR(out), 0, 0);
}
static inline void rk_balance(const rk_address *account, rk_word *out) {
    rk_host(RK_BALANCE, RK_PTR(account), RK_PTR(out), 0, 0, 0);
}
/* Move `value` wei to `to` without running its code. 0: done; 1: refused. */
static inline int rk_transfer(const rk_address *to, const rk_word *value) {
    return (int)rk_host(RK_TRANSFER, RK_PTR(to), RK_PTR(value), 0, 0, 0);
}
static inline uint64_t rk_block_number(void) { return rk_host(RK_BLOCK_NUMBER, 0, 0, 0, 0, 0); }
static inline uint64_t rk_timestamp(void) { return rk_host(RK_TIMESTAMP, 0, 0, 0, 0, 0); }
static inline uint64_t rk_chain_id(void) { return rk_host(RK_CHAIN_ID, 0, 0, 0, 0, 0); }
static inline uint64_t rk_gas_left(void) { return rk_host(RK_GAS_LEFT, 0, 0, 0, 0, 0); }
/* Call `to` with `value` and `data`. 0: it succeeded; 1: it failed (reverted, ran out of gas,
 * or could not start). Either way its output is the return data. */
static inline int rk_call(const rk_address *to, const rk_word *value, const void *data,
                          uint32_t length, uint32_t gas) {
    return (int)rk_host(RK_CALL, RK_PTR(to), RK_PTR(value), RK_PTR(data), length, gas);
}
static inline uint32_t rk_returndata_size(void) {
    return (uint32_t)rk_host(RK_RETURNDATA_SIZE, 0, 0, 0, 0, 0);
}
static inline void rk_returndata_copy(void *dst, uint32_t offset, uint32_t length) {
    rk_host(RK_RETURNDATA_COPY, RK_PTR(dst), offset, length, 0, 0);
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

/* The host starts here, with sp at the top of the stack. */
__attribute__((section(".text._start"), noreturn)) void _start(void) {
    rk_main();
    rk_return(0, 0);
}
#endif

#endif /* ROLLUPKIT_H */
