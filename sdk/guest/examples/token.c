/* An ERC-20-like token, with Solidity's storage layout (total supply in slot 0, balances in
 * the mapping at slot 1) and events, so wallets and eth_getStorageAt read it as they would a
 * Solidity token.
 *
 *   initialize(uint256 supply)        once: mints `supply` to the caller
 *   transfer(address to, uint256 v)   moves v from the caller; logs Transfer; returns true
 *   balanceOf(address) -> uint256,    totalSupply() -> uint256
 */
#include "rollupkit.h"

#define TRANSFER 0xa9059cbbu      /* transfer(address,uint256) */
#define BALANCE_OF 0x70a08231u    /* balanceOf(address) */
#define TOTAL_SUPPLY 0x18160dddu  /* totalSupply() */
#define INITIALIZE 0xfe4b84dfu    /* initialize(uint256) */

static const rk_word TRANSFER_EVENT = {{  /* keccak256("Transfer(address,address,uint256)") */
    0xdd, 0xf2, 0x52, 0xad, 0x1b, 0xe2, 0xc8, 0x9b, 0x69, 0xc2, 0xb0, 0x68, 0xfc, 0x37, 0x8d, 0xaa,
    0x95, 0x2b, 0xa7, 0xf1, 0x63, 0xc4, 0xa1, 0x16, 0x28, 0xf5, 0x5a, 0x4d, 0xf5, 0x23, 0xb3, 0xef}};

/* Solidity's slot of balances[owner]: keccak256(owner as a word ++ the mapping's slot, 1). */
static rk_word balance_slot(const rk_address *owner) {
    rk_word key[2] = {rk_word_from_address(owner), rk_word_from_u64(1)};
    rk_word slot;
    rk_keccak256(key, sizeof key, &slot);
    return slot;
}

static void log_transfer(const rk_address *from, const rk_address *to, const rk_word *value) {
    rk_word topics[3] = {TRANSFER_EVENT, rk_word_from_address(from), rk_word_from_address(to)};
    rk_log(topics, 3, value, 32);
}

void rk_main(void) {
    rk_word supply_slot = {{0}};
    rk_address caller;
    rk_caller(&caller);
    switch (rk_selector()) {
    case TRANSFER: {
        rk_word to_word = rk_argument(0), value = rk_argument(1);
        rk_address to = rk_address_from_word(&to_word);
        rk_word from_slot = balance_slot(&caller), to_slot = balance_slot(&to);
        rk_word from_balance, to_balance;
        rk_storage_load(&from_slot, &from_balance);
        if (rk_word_sub(&from_balance, &value, &from_balance)) rk_revert("balance too low", 15);
        rk_storage_store(&from_slot, &from_balance);
        rk_storage_load(&to_slot, &to_balance);
        rk_word_add(&to_balance, &value, &to_balance);  /* cannot carry: supply is bounded */
        rk_storage_store(&to_slot, &to_balance);
        log_transfer(&caller, &to, &value);
        rk_word yes = rk_word_from_u64(1);
        rk_return_word(&yes);
    }
    case BALANCE_OF: {
        rk_word owner_word = rk_argument(0), balance;
        rk_address owner = rk_address_from_word(&owner_word);
        rk_word slot = balance_slot(&owner);
        rk_storage_load(&slot, &balance);
        rk_return_word(&balance);
    }
    case TOTAL_SUPPLY: {
        rk_word supply;
        rk_storage_load(&supply_slot, &supply);
        rk_return_word(&supply);
    }
    case INITIALIZE: {
        rk_word supply, zero = {{0}};
        rk_storage_load(&supply_slot, &supply);
        if (rk_word_cmp(&supply, &zero) != 0) rk_revert("already initialized", 19);
        supply = rk_argument(0);
        rk_storage_store(&supply_slot, &supply);
        rk_word slot = balance_slot(&caller);
        rk_storage_store(&slot, &supply);
        rk_address nobody = {{0}};
        log_transfer(&nobody, &caller, &supply);
        return;
    }
    default:
        rk_revert("unknown function", 16);
    }
}
