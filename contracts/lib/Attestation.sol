// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title Attestation: EIP-712 typed data of a coordinator-attested contribution report
/// @notice Domain: name "FedSettle", version "1", chainId, verifyingContract (the settlement
///  contract). Primary type:
///      Contribution(uint256 roundId,uint256 index,address account,uint64 x,uint64 f)
///  The digest to sign is keccak256(0x1901 || domainSeparator || hashStruct(Contribution)).
library Attestation {
    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 internal constant NAME_HASH = keccak256("FedSettle");
    bytes32 internal constant VERSION_HASH = keccak256("1");
    bytes32 internal constant CONTRIBUTION_TYPEHASH =
        keccak256("Contribution(uint256 roundId,uint256 index,address account,uint64 x,uint64 f)");
    /// secp256k1 group order / 2: signatures with a larger s are malleable twins and are refused.
    uint256 internal constant HALF_ORDER = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;

    function domainSeparator(uint256 chainId, address verifyingContract) internal pure returns (bytes32) {
        return keccak256(abi.encode(DOMAIN_TYPEHASH, NAME_HASH, VERSION_HASH, chainId, verifyingContract));
    }

    function contributionDigest(
        bytes32 domain,
        uint256 roundId,
        uint256 index,
        address account,
        uint64 x,
        uint64 f
    ) internal pure returns (bytes32) {
        bytes32 structHash = keccak256(abi.encode(CONTRIBUTION_TYPEHASH, roundId, index, account, x, f));
        return keccak256(abi.encodePacked(hex"1901", domain, structHash));
    }

    /// @notice Signer of `digest`, or address(0) when the signature is not a canonical 65-byte
    ///  (r, s, v) with v in {27, 28} and s <= HALF_ORDER, or does not recover.
    function recover(bytes32 digest, bytes calldata signature) internal pure returns (address) {
        if (signature.length != 65) return address(0);
        bytes32 r;
        bytes32 s;
        uint8 v;
        assembly ("memory-safe") {
            r := calldataload(signature.offset)
            s := calldataload(add(signature.offset, 0x20))
            v := byte(0, calldataload(add(signature.offset, 0x40)))
        }
        if (uint256(s) > HALF_ORDER || (v != 27 && v != 28)) return address(0);
        return ecrecover(digest, v, r, s);
    }
}
