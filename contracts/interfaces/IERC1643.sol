// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IERC1643
/// @notice Document management: named documents (prospectus, terms) with a URI and a content hash.
interface IERC1643 {
    /// @notice Emitted when a document is added or replaced.
    /// @param name document name
    /// @param uri where the document can be read
    /// @param documentHash hash of the document's content
    event DocumentUpdated(bytes32 indexed name, string uri, bytes32 documentHash);

    /// @notice Emitted when a document is removed.
    /// @param name document name
    /// @param uri the URI it had
    /// @param documentHash the hash it had
    event DocumentRemoved(bytes32 indexed name, string uri, bytes32 documentHash);

    /// @notice A document by name.
    /// @param name document name
    /// @return uri where it can be read
    /// @return documentHash hash of its content
    /// @return lastModified unix time of the last change
    function getDocument(bytes32 name) external view returns (string memory uri, bytes32 documentHash, uint256 lastModified);

    /// @notice Adds or replaces a document.
    /// @param name document name
    /// @param uri where it can be read
    /// @param documentHash hash of its content
    function setDocument(bytes32 name, string calldata uri, bytes32 documentHash) external;

    /// @notice Removes a document.
    /// @param name document name
    function removeDocument(bytes32 name) external;

    /// @notice The names of every document.
    /// @return names the document names
    function getAllDocuments() external view returns (bytes32[] memory names);
}
