"""The batch contracts from Python: deploy, commit a runtime's public output, withdrawal trees.

The withdrawal tree has the same leaves and root as contracts/src/rollup/HeliostatRollup.sol.

``commit_input(output, timestamp)`` turns a ``BatchPublicOutput`` into the contract's
``CommitInput``: the contract rebuilds the public output's head from it and the previous
batch, so ``output_hash(output)`` (keccak256 of the head) is what the proof must attest. A
state diff that fits one chunk (``DIFF_CHUNK_BYTES``) travels inline; a larger one is posted
first, chunk by chunk (``post_chunk_calls``), and the commit names the chunks' hashes.

``escape_withdraw_call(contract, keypair, lamports, recipient, proof)`` signs an escape
authorisation (``escape_message``) with the L2 account's keypair and encodes the call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import encode as abi_encode
from solders.keypair import Keypair
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction

from heliostat.runtime.hashing import keccak256
from heliostat.runtime.interface import BatchPublicOutput, Withdrawal
from heliostat.runtime.kernel_output import DIFF_CHUNK_BYTES, diff_chunks, output_head
from heliostat.runtime.state_tree import MembershipProof, digest_bytes
from heliostat.settlement.errors import ChainError, SettlementError
from heliostat.settlement.toolchain import CONTRACTS_DIR, Artifact, compile_sources

MOCKS = "test/Mocks.sol"  # test doubles of the verifiers, compiled only on request
# StateTreeAccountVerifier.Leaf
ACCOUNT_PROOF_TYPE = "(uint64,bytes32,bytes32,uint64,uint32,bool,bytes32,bytes32[32])"


def rollup_sources(*, with_mocks: bool = False) -> dict[str, str]:
    """Return the rollup's Solidity sources keyed by their path under contracts/."""
    paths = sorted((CONTRACTS_DIR / "src" / "rollup").glob("*.sol"))
    sources = {f"src/rollup/{p.name}": p.read_text() for p in paths}
    if with_mocks:
        sources[MOCKS] = (CONTRACTS_DIR / MOCKS).read_text()
    return sources


def compile_rollup(*, with_mocks: bool = False) -> dict[str, Artifact]:
    """Compile the rollup contracts (and the test doubles if asked)."""
    return compile_sources(rollup_sources(with_mocks=with_mocks))


def deploy(w3: Web3, artifact: Artifact, *args: Any, sender: str | None = None) -> Contract:
    """Deploy ``artifact`` with constructor ``args``; return the contract."""
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    tx_hash = factory.constructor(*args).transact({"from": sender or w3.eth.accounts[0]})
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
    if receipt["status"] != 1 or not receipt["contractAddress"]:
        raise ChainError(f"deploying {artifact.name} failed")
    address = Web3.to_checksum_address(receipt["contractAddress"])
    return w3.eth.contract(address=address, abi=artifact.abi)


def deploy_with_test_verifier(
    w3: Web3, *, genesis_root: bytes = bytes(32), deadline_s: int = 600, state_tree: bool = False
) -> tuple[Contract, Contract]:
    """Deploy HeliostatRollup over the test-only MockBatchVerifier; return both.

    For tests and benchmarks: the verifier's ``setProven`` stands in for a proof.
    Accounts are checked by StateTreeAccountVerifier when ``state_tree``, else by the
    test-only MockAccountVerifier.
    """
    artifacts = compile_rollup(with_mocks=True)
    batches = deploy(w3, artifacts["MockBatchVerifier"])
    account_artifact = "StateTreeAccountVerifier" if state_tree else "MockAccountVerifier"
    accounts = deploy(w3, artifacts[account_artifact])
    rollup = artifacts["HeliostatRollup"]
    contract = deploy(w3, rollup, batches.address, accounts.address, genesis_root, deadline_s)
    return contract, batches


@dataclass(frozen=True)
class StoredBatch:
    """HeliostatRollup.StoredBatch: what the contract remembers of a committed batch."""

    number: int
    new_root: bytes
    priority_ops_end: int
    timestamp: int
    withdrawals_root: bytes
    output_hash: bytes

    def as_tuple(self) -> tuple[int, bytes, int, int, bytes, bytes]:
        """Return the ABI tuple."""
        return (
            self.number,
            self.new_root,
            self.priority_ops_end,
            self.timestamp,
            self.withdrawals_root,
            self.output_hash,
        )

    @classmethod
    def from_tuple(cls, value: Any) -> StoredBatch:
        """Read the ABI tuple a call returned (or the struct an event decoded)."""
        if isinstance(value, Mapping):
            names = ("number", "newRoot", "priorityOpsEnd", "timestamp", "withdrawalsRoot")
            value = tuple(value[n] for n in (*names, "outputHash"))
        number, root, ops_end, timestamp, withdrawals, output = value
        return cls(int(number), bytes(root), int(ops_end), int(timestamp), bytes(withdrawals),
                   bytes(output))  # fmt: skip


def genesis(root: bytes) -> StoredBatch:
    """Return batch 0 as the constructor stores it."""
    return StoredBatch(0, root, 0, 0, bytes(32), bytes(32))


def state_diff_bytes(output: BatchPublicOutput) -> bytes:
    """Return the encoded state diff: the public output's bytes after the diff hash."""
    return output.encoded[output_head(output.encoded).diff_start :]


def state_diff_chunks(output: BatchPublicOutput) -> list[bytes]:
    """Return the chunks of the batch's state diff as L1 receives them."""
    return diff_chunks(state_diff_bytes(output))


def is_chunked(output: BatchPublicOutput) -> bool:
    """Whether the diff is posted in chunks before the commit (larger than one chunk)."""
    return len(state_diff_bytes(output)) > DIFF_CHUNK_BYTES


def post_chunk_calls(contract: Contract, output: BatchPublicOutput) -> list[ContractFunction]:
    """Return the ``postDiffChunk`` calls of a chunked batch whose chunk is not on chain yet.

    Empty for a diff that travels inline, or once every chunk is posted (a restarted sender
    posts only what is missing).
    """
    if not is_chunked(output):
        return []
    f = contract.functions
    n = output.batch_number
    return [
        f.postDiffChunk(n, i, chunk)
        for i, chunk in enumerate(state_diff_chunks(output))
        if bytes(f.diffChunkHash(n, i).call()) != keccak256(chunk)
    ]


def _withdrawal_tuple(w: Withdrawal) -> tuple[bytes, str, int]:
    return (bytes(w.sender), Web3.to_checksum_address(w.recipient), w.lamports)


def commit_input(
    output: BatchPublicOutput, timestamp: int, *, chunked: bool | None = None
) -> tuple[Any, ...]:
    """Return HeliostatRollup.CommitInput for a batch whose runtime published ``output``.

    The diff is inline, or (``chunked``; by default when it exceeds one chunk) named by its
    chunks' hashes, which must have been posted (``post_chunk_calls``).
    """
    head = output_head(output.encoded)
    diff = output.encoded[head.diff_start :]
    if chunked is None:
        chunked = len(diff) > DIFF_CHUNK_BYTES
    hashes = [keccak256(chunk) for chunk in diff_chunks(diff)] if chunked else []
    return (
        output.batch_number,
        timestamp,
        output.new_root,
        output.priority_count,
        output.priority_hash,
        [_withdrawal_tuple(w) for w in output.withdrawals],
        head.kernel_flags,
        b"" if chunked else diff,
        hashes,
    )


def output_hash(output: BatchPublicOutput) -> bytes:
    """Return what a batch proof attests: keccak256 of the public output's head.

    The head ends with the state diff's hash, which binds the diff that follows it. The kernel
    publishes the same hash first (the decoder checks it), and the zkVM proof exposes it.
    """
    return keccak256(output_head(output.encoded).head(output.encoded))


def withdrawal_leaf(index: int, w: Withdrawal) -> bytes:
    """Return keccak256(u64 index ‖ sender ‖ recipient ‖ u64 lamports)."""
    return keccak256(
        index.to_bytes(8, "big") + bytes(w.sender) + w.recipient + w.lamports.to_bytes(8, "big")
    )


def _levels(withdrawals: tuple[Withdrawal, ...]) -> list[list[bytes]]:
    level = [withdrawal_leaf(i, w) for i, w in enumerate(withdrawals)]
    levels = [level]
    while len(level) > 1:
        if len(level) % 2:
            level = [*level, bytes(32)]  # an odd node pairs with zero
        level = [keccak256(level[i] + level[i + 1]) for i in range(0, len(level), 2)]
        levels.append(level)
    return levels


def withdrawals_root(withdrawals: tuple[Withdrawal, ...]) -> bytes:
    """Return the root of a batch's withdrawal tree (zero when there are none)."""
    return _levels(withdrawals)[-1][0] if withdrawals else bytes(32)


def withdrawal_proof(withdrawals: tuple[Withdrawal, ...], index: int) -> list[bytes]:
    """Return the siblings from withdrawal ``index`` up to the root."""
    proof = []
    for level in _levels(withdrawals)[:-1]:
        sibling = index ^ 1
        proof.append(level[sibling] if sibling < len(level) else bytes(32))
        index >>= 1
    return proof


def encode_account_proof(proof: MembershipProof) -> bytes:
    """Return a state-tree membership proof as StateTreeAccountVerifier decodes it."""
    leaf = proof.leaf
    fields = (
        leaf.index,
        leaf.next_key,
        leaf.owner,
        leaf.rent_epoch,
        leaf.data_len,
        leaf.executable,
        digest_bytes(leaf.data_hash),
        [digest_bytes(s) for s in proof.siblings],
    )
    return bytes(abi_encode([ACCOUNT_PROOF_TYPE], [fields]))


# HeliostatRollup.ESCAPE_DOMAIN: the first bytes of every escape authorisation
ESCAPE_DOMAIN = b"heliostat-escape"


class EscapeInputError(SettlementError):
    """An escape authorisation's field out of range (``expected`` vs ``got``)."""

    reason = "escape_input"

    def __init__(self, what: str, expected: int, got: int) -> None:
        super().__init__(f"{what}: expected {expected}, got {got}")
        self.what = what
        self.expected = expected
        self.got = got


def escape_message(
    chain_id: int, rollup_address: str, account: bytes, lamports: int, recipient: str
) -> bytes:
    """Return the 128 bytes an L2 account's key signs to escape with ``lamports`` to ``recipient``.

    ``"heliostat-escape" ‖ be256 chain id ‖ rollup ‖ account ‖ be64 lamports ‖ recipient``,
    as HeliostatRollup.escapeMessage builds it.
    """
    if len(account) != 32:
        raise EscapeInputError("account bytes", 32, len(account))
    if not 0 <= lamports < 1 << 64:
        raise EscapeInputError("lamports below 2^64", 1 << 64, lamports)
    return (
        ESCAPE_DOMAIN
        + chain_id.to_bytes(32, "big")
        + Web3.to_bytes(hexstr=Web3.to_checksum_address(rollup_address))
        + account
        + lamports.to_bytes(8, "big")
        + Web3.to_bytes(hexstr=Web3.to_checksum_address(recipient))
    )


def sign_escape(
    keypair: Keypair, *, chain_id: int, rollup_address: str, lamports: int, recipient: str
) -> bytes:
    """Return the keypair's ed25519 signature (64 bytes) authorising its escape withdrawal."""
    account = bytes(keypair.pubkey())
    message = escape_message(chain_id, rollup_address, account, lamports, recipient)
    return bytes(keypair.sign_message(message))


def escape_withdraw_call(
    contract: Contract, keypair: Keypair, lamports: int, recipient: str, proof: MembershipProof
) -> ContractFunction:
    """Return ``escapeWithdraw`` of the keypair's account, signed for this chain and rollup.

    ``proof`` is the account's membership proof against the rollup's last executed root; the
    call is ready to ``transact`` (from any sender: the signature names the recipient).
    """
    recipient = Web3.to_checksum_address(recipient)
    signature = sign_escape(
        keypair,
        chain_id=contract.w3.eth.chain_id,
        rollup_address=contract.address,
        lamports=lamports,
        recipient=recipient,
    )
    account = bytes(keypair.pubkey())
    blob = encode_account_proof(proof)
    return contract.functions.escapeWithdraw(account, lamports, recipient, signature, blob)
