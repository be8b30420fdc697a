// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {CouponEntitlement} from "./CouponEntitlement.sol";

/// @title BondHook
/// @notice The declaration of the bond's single transfer hook and the kinds of balance change it
/// handles; {BondLedger} implements it. Both halves of a bond (the ERC-20 surface in {BondToken}
/// and the agent operations in {BondServicing}) change balances only through it.
abstract contract BondHook is CouponEntitlement {
    /// @dev hook modes: what kind of balance change `_update` is asked to make
    uint8 internal constant MODE_TRANSFER = 0;
    uint8 internal constant MODE_MINT = 1;
    uint8 internal constant MODE_FORCED = 2;
    uint8 internal constant MODE_RECOVERY = 3;
    /// @dev redemption: the holder's units are burned against payment (no rules apply)
    uint8 internal constant MODE_BURN = 4;

    /// @dev The single transfer hook: checks the rules for `mode` and moves the units.
    function _update(address from, address to, uint256 value, uint8 mode) internal virtual;
}
