/* A counter. increment() adds one, logs Incremented(count) and returns the new count;
 * count() returns it; fail() reverts with the message "nope". */
#include "rollupkit.h"

#define INCREMENT 0xd09de08au  /* increment() */
#define COUNT 0x06661abdu      /* count() */
#define FAIL 0xa9cc4718u       /* fail() */

static const rk_word INCREMENTED = {{  /* keccak256("Incremented(uint256)") */
    0x20, 0xd8, 0xa6, 0xf5, 0xa6, 0x93, 0xf9, 0xd1, 0xd6, 0x27, 0xa5, 0x98, 0xe8, 0x82, 0x0f, 0x7a,
    0x55, 0xee, 0x74, 0xc1, 0x83, 0xaa, 0x8f, 0x1a, 0x30, 0xe8, 0xd4, 0xe8, 0xdd, 0x9a, 0x8d, 0x84}};

void rk_main(void) {
    rk_word slot = {{0}}, count;
    rk_storage_load(&slot, &count);
    switch (rk_selector()) {
    case INCREMENT: {
        rk_word one = rk_word_from_u64(1);
        rk_word_add(&count, &one, &count);
        rk_storage_store(&slot, &count);
        rk_log(&INCREMENTED, 1, &count, 32);
        rk_return_word(&count);
    }
    case COUNT:
        rk_return_word(&count);
    case FAIL:
        rk_revert("nope", 4);
    default:
        rk_revert("unknown function", 16);
    }
}
