/* A compute-heavy loop: spin(uint256 n) runs n rounds of a xorshift generator (n = 2**256 - 1
 * never ends: it runs out of gas) and returns the final state. The benchmark and the gas tests
 * use it. */
#include "rollupkit.h"

#define SPIN 0xa5b6ea8fu  /* spin(uint256) */

void rk_main(void) {
    if (rk_selector() != SPIN) rk_revert("unknown function", 16);
    rk_word n_word = rk_argument(0), all = {{0}};
    for (int i = 0; i < 32; i++) all.bytes[i] = 0xff;
    int forever = rk_word_cmp(&n_word, &all) == 0;
    uint32_t rounds = (uint32_t)rk_word_to_u64(&n_word), x = 2463534242u;
    for (uint32_t i = 0; forever || i < rounds; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
    }
    rk_word result = rk_word_from_u64(x);
    rk_return_word(&result);
}
