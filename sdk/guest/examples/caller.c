/* A contract that calls another.
 *
 *   callIncrement(address counter) -> uint256   calls counter.increment(), returns its result
 *                                               (reverts if the call fails)
 *   tryFail(address counter) -> uint256         calls counter.fail(), records in slot 0 that it
 *                                               failed (1) and returns the length of its revert
 *                                               data: the caller goes on after a callee reverts
 *   lastStatus() -> uint256                     slot 0
 *   depth() -> uint256                          calls itself until a call fails and returns
 *                                               how deep it got: the host's call depth limit
 *   fresh() -> uint256                          counts its calls in a global variable: always
 *                                               1, as no memory survives a call
 */
#include "rollupkit.h"

#define CALL_INCREMENT 0x29e5b417u  /* callIncrement(address) */
#define TRY_FAIL 0xb1e77e52u        /* tryFail(address) */
#define LAST_STATUS 0xd6d86712u     /* lastStatus() */
#define DEPTH 0x631c56efu           /* depth() */
#define FRESH 0xb466b76fu           /* fresh() */

static uint32_t calls;

static int call_counter(uint32_t selector) {
    rk_word target_word = rk_argument(0), zero = {{0}};
    rk_address target = rk_address_from_word(&target_word);
    uint8_t data[4] = {selector >> 24, selector >> 16, selector >> 8, selector};
    return rk_call(&target, &zero, data, 4, RK_ALL_GAS);
}

void rk_main(void) {
    rk_word slot = {{0}};
    switch (rk_selector()) {
    case CALL_INCREMENT: {
        if (call_counter(0xd09de08au) != 0) rk_revert("the counter failed", 18);
        rk_word result = {{0}};
        if (rk_returndata_size() >= 32) rk_returndata_copy(&result, 0, 32);
        rk_return_word(&result);
    }
    case TRY_FAIL: {
        rk_word status = rk_word_from_u64((uint64_t)call_counter(0xa9cc4718u));
        rk_storage_store(&slot, &status);
        rk_word length = rk_word_from_u64(rk_returndata_size());
        rk_return_word(&length);
    }
    case LAST_STATUS: {
        rk_word status;
        rk_storage_load(&slot, &status);
        rk_return_word(&status);
    }
    case DEPTH: {
        rk_address self;
        rk_self(&self);
        rk_word zero = {{0}}, deeper = {{0}};
        uint8_t data[4] = {0x63, 0x1c, 0x56, 0xef};
        if (rk_call(&self, &zero, data, 4, RK_ALL_GAS) == 0) rk_returndata_copy(&deeper, 0, 32);
        else deeper = rk_word_from_u64(0);
        rk_word one = rk_word_from_u64(1);
        rk_word_add(&deeper, &one, &deeper);
        rk_return_word(&deeper);
    }
    case FRESH: {
        calls++;
        rk_word count = rk_word_from_u64(calls);
        rk_return_word(&count);
    }
    default:
        rk_revert("unknown function", 16);
    }
}
