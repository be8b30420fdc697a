// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IERC1404
/// @notice Simple Restricted Token Standard: say before a transfer whether it would be refused, and why.
interface IERC1404 {
    /// @notice The restriction code for a transfer of `value` from `from` to `to` (0 = allowed).
    /// @param from sender (the zero address for a mint)
    /// @param to recipient
    /// @param value amount in token units
    /// @return code restriction code; see {messageForTransferRestriction}
    function detectTransferRestriction(address from, address to, uint256 value) external view returns (uint8 code);

    /// @notice A human-readable explanation of a restriction code.
    /// @param restrictionCode a code returned by {detectTransferRestriction}
    /// @return message the explanation
    function messageForTransferRestriction(uint8 restrictionCode) external view returns (string memory message);
}
