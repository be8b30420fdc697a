// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title RestrictionCodes
/// @notice The ERC-1404 restriction codes of a munibond bond and their messages. A refused
/// transfer or mint reverts with `TransferRestricted(code, ...)` carrying the same code that
/// `detectTransferRestriction` returns beforehand.
library RestrictionCodes {
    uint8 internal constant SUCCESS = 0;
    uint8 internal constant PAUSED = 1;
    uint8 internal constant BOND_CLOSED = 2;
    uint8 internal constant BOND_MATURED = 3;
    uint8 internal constant SENDER_NOT_REGISTERED = 4;
    uint8 internal constant RECIPIENT_NOT_REGISTERED = 5;
    uint8 internal constant SENDER_KYC_EXPIRED = 6;
    uint8 internal constant RECIPIENT_KYC_EXPIRED = 7;
    uint8 internal constant SENDER_SUSPENDED = 8;
    uint8 internal constant RECIPIENT_SUSPENDED = 9;
    uint8 internal constant CLASS_NOT_ALLOWED = 10;
    uint8 internal constant COUNTRY_NOT_ALLOWED = 11;
    uint8 internal constant REGION_NOT_ALLOWED = 12;
    uint8 internal constant MAX_BALANCE_EXCEEDED = 13;
    uint8 internal constant MAX_HOLDERS_REACHED = 14;
    uint8 internal constant LOCKED_UP = 15;
    uint8 internal constant NOT_TRADING_UNIT_MULTIPLE = 16;
    uint8 internal constant SENDER_FROZEN = 17;
    uint8 internal constant RECIPIENT_FROZEN = 18;
    uint8 internal constant AMOUNT_FROZEN = 19;
    uint8 internal constant INSUFFICIENT_BALANCE = 20;
    uint8 internal constant INVALID_RECIPIENT = 21;
    uint8 internal constant ISSUE_VOLUME_EXCEEDED = 22;
    uint8 internal constant NO_PAYMENT_SCHEDULE = 23;
    uint8 internal constant MAX_CODE = 23;

    /// @notice The message for `code` (an unknown code says so).
    function message(uint8 code) internal pure returns (string memory) {
        if (code == SUCCESS) return "Transfer allowed";
        if (code == PAUSED) return "Transfers are paused";
        if (code == BOND_CLOSED) return "The bond is closed";
        if (code == BOND_MATURED) return "The bond has matured: transfers have stopped";
        if (code == SENDER_NOT_REGISTERED) return "Sender is not a registered investor";
        if (code == RECIPIENT_NOT_REGISTERED) return "Recipient is not a registered investor";
        if (code == SENDER_KYC_EXPIRED) return "Sender's KYC has expired";
        if (code == RECIPIENT_KYC_EXPIRED) return "Recipient's KYC has expired";
        if (code == SENDER_SUSPENDED) return "Sender is suspended by the registrar";
        if (code == RECIPIENT_SUSPENDED) return "Recipient is suspended by the registrar";
        if (code == CLASS_NOT_ALLOWED) return "Recipient's investor class may not hold this bond";
        if (code == COUNTRY_NOT_ALLOWED) return "Recipient's country may not hold this bond";
        if (code == REGION_NOT_ALLOWED) return "Recipient does not live in the bond's region";
        if (code == MAX_BALANCE_EXCEEDED) return "Recipient would exceed the maximum holding";
        if (code == MAX_HOLDERS_REACHED) return "The maximum number of holders is reached";
        if (code == LOCKED_UP) return "Transfers are locked up until the lock-up date";
        if (code == NOT_TRADING_UNIT_MULTIPLE) return "Amount is not a multiple of the trading unit";
        if (code == SENDER_FROZEN) return "Sender's wallet is frozen";
        if (code == RECIPIENT_FROZEN) return "Recipient's wallet is frozen";
        if (code == AMOUNT_FROZEN) return "Amount exceeds the sender's unfrozen balance";
        if (code == INSUFFICIENT_BALANCE) return "Amount exceeds the sender's balance";
        if (code == INVALID_RECIPIENT) return "Recipient address is invalid";
        if (code == ISSUE_VOLUME_EXCEEDED) return "Mint would exceed the issue volume";
        if (code == NO_PAYMENT_SCHEDULE) return "The bond pays coupons but has no payment schedule yet";
        return "Unknown restriction code";
    }
}
