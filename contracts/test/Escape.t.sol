// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {HeliostatRollup} from "../src/rollup/HeliostatRollup.sol";
import {Ed25519Signer} from "./Ed25519Harness.sol";
import {MockAccountVerifier, MockBatchVerifier, Recipient} from "./Mocks.sol";
import {Vm} from "./Vm.sol";

/// @notice Escape withdrawals: the account's ed25519 key must authorise the recipient, the
/// amount, this rollup and this chain; each account withdraws once.
contract EscapeTest {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));
    uint64 internal constant DEADLINE = 3600;
    bytes32 internal constant GENESIS = bytes32(uint256(0x6e6e));
    address internal constant USER = address(0x05e4);
    bytes32 internal constant SEED = keccak256("escape test key");
    uint64 internal constant LAMPORTS = 10;

    HeliostatRollup internal rollup;
    bytes32 internal account;
    Recipient internal to;
    bytes internal proof; // what MockAccountVerifier accepts for (account, LAMPORTS)

    function setUp() public {
        vm.warp(1_700_000_000);
        rollup = new HeliostatRollup(new MockBatchVerifier(), new MockAccountVerifier(), GENESIS, DEADLINE);
        vm.deal(USER, 100 ether);
        account = Ed25519Signer.publicKey(SEED);
        vm.prank(USER);
        rollup.depositETH{value: 10 gwei}(account); // never processed: escape mode follows
        vm.warp(block.timestamp + DEADLINE + 1);
        rollup.activateEscapeMode();
        to = new Recipient();
        proof = abi.encodePacked(keccak256(abi.encode(GENESIS, account, LAMPORTS)));
    }

    function _message(uint256 chainId, address rollupAddress, uint64 lamports, address recipient)
        internal
        view
        returns (bytes memory)
    {
        return abi.encodePacked("heliostat-escape", chainId, rollupAddress, account, lamports, recipient);
    }

    function _sign(bytes memory message) internal view returns (bytes memory) {
        return Ed25519Signer.sign(SEED, message);
    }

    function test_escape_message_layout() public view {
        bytes memory m = rollup.escapeMessage(account, LAMPORTS, address(to));
        require(m.length == 128, "128 bytes");
        require(keccak256(m) == keccak256(_message(block.chainid, address(rollup), LAMPORTS, address(to))), "layout");
    }

    function test_escape_withdrawal_once() public {
        bytes memory signature = _sign(rollup.escapeMessage(account, LAMPORTS, address(to)));
        rollup.escapeWithdraw(account, LAMPORTS, address(to), signature, proof);
        require(address(to).balance == LAMPORTS * 1 gwei, "paid");
        require(rollup.escapeClaimed(account), "recorded");
        vm.expectRevert(bytes("escape withdrawal already made")); // the same call replayed
        rollup.escapeWithdraw(account, LAMPORTS, address(to), signature, proof);
    }

    function test_escape_needs_escape_mode() public {
        HeliostatRollup live = new HeliostatRollup(new MockBatchVerifier(), new MockAccountVerifier(), GENESIS, DEADLINE);
        bytes memory signature = _sign(live.escapeMessage(account, LAMPORTS, address(to)));
        vm.expectRevert(bytes("not in escape mode"));
        live.escapeWithdraw(account, LAMPORTS, address(to), signature, proof);
    }

    function test_signature_by_another_key_is_refused() public {
        bytes memory message = rollup.escapeMessage(account, LAMPORTS, address(to));
        bytes memory signature = Ed25519Signer.sign(keccak256("another key"), message);
        vm.expectRevert(bytes("invalid owner signature"));
        rollup.escapeWithdraw(account, LAMPORTS, address(to), signature, proof);
    }

    function test_signature_for_another_recipient_is_refused() public {
        bytes memory signature = _sign(rollup.escapeMessage(account, LAMPORTS, USER));
        vm.expectRevert(bytes("invalid owner signature"));
        rollup.escapeWithdraw(account, LAMPORTS, address(to), signature, proof);
    }

    function test_signature_for_another_amount_is_refused() public {
        bytes memory signature = _sign(rollup.escapeMessage(account, LAMPORTS - 1, address(to)));
        vm.expectRevert(bytes("invalid owner signature"));
        rollup.escapeWithdraw(account, LAMPORTS, address(to), signature, proof);
    }

    function test_signature_for_another_rollup_or_chain_is_refused() public {
        HeliostatRollup other = new HeliostatRollup(new MockBatchVerifier(), new MockAccountVerifier(), GENESIS, DEADLINE);
        bytes memory signature = _sign(other.escapeMessage(account, LAMPORTS, address(to)));
        vm.expectRevert(bytes("invalid owner signature"));
        rollup.escapeWithdraw(account, LAMPORTS, address(to), signature, proof);
        signature = _sign(_message(block.chainid + 1, address(rollup), LAMPORTS, address(to)));
        vm.expectRevert(bytes("invalid owner signature"));
        rollup.escapeWithdraw(account, LAMPORTS, address(to), signature, proof);
    }

    function test_tampered_or_short_signature_is_refused() public {
        bytes memory signature = _sign(rollup.escapeMessage(account, LAMPORTS, address(to)));
        signature[40] ^= 0x01; // a bit of s
        vm.expectRevert(bytes("invalid owner signature"));
        rollup.escapeWithdraw(account, LAMPORTS, address(to), signature, proof);
        bytes memory short = new bytes(63);
        vm.expectRevert(bytes("signature must be 64 bytes"));
        rollup.escapeWithdraw(account, LAMPORTS, address(to), short, proof);
    }

    function test_signed_but_unproven_amount_is_refused() public {
        uint64 more = LAMPORTS + 1;
        bytes memory signature = _sign(rollup.escapeMessage(account, more, address(to)));
        vm.expectRevert(bytes("invalid account proof"));
        rollup.escapeWithdraw(account, more, address(to), signature, proof);
    }
}
