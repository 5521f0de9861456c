"""Deploy a generated STARK verifier and submit proofs to it, in one transaction or several.

``OnChainVerifier.deploy(w3, generate_verifier(vk, "Name"))`` compiles and deploys the
evaluators, the shared query- and statement-phase contracts and the verifier. ``check`` runs
verifyProof as a call (no transaction) and raises ``ProofRejectedOnChainError`` with the
contract's reason; ``verify_in_one`` and ``verify_in_steps`` send transactions within
Ethereum's limits (2^24 gas and about 128 KiB per transaction) and report gas and calldata
per transaction.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractLogicError

from heliostat.settlement.anvil import TX_GAS_CAP
from heliostat.settlement.errors import ChainError, ProofRejectedOnChainError, SettlementError
from heliostat.settlement.proof_sections import Chunk, plan_chunks, section_name
from heliostat.settlement.toolchain import Artifact, compile_sources, stark_library_sources
from heliostat.settlement.verifier_gen.generator import GeneratedVerifier

PHASES = ("stark/StarkQueryPhase.sol", "stark/StarkStatementPhase.sol")
IMPORT = re.compile(r'^import \{[^}]*\} from "([^"]+)";', re.MULTILINE)
MAX_TX_CALLDATA = 128 * 1024  # the usual txpool limit on a transaction's size
DEFAULT_STEP_BUDGET = 120_000  # proof bytes per step: room for the session state and ABI
PROOF_REJECTED = Web3.keccak(text="ProofRejected(string,string)")[:4]


@dataclass(frozen=True)
class TxReport:
    """One transaction: what it carried and what it cost."""

    step: str
    sections: str
    calldata_bytes: int
    gas_used: int


@dataclass(frozen=True)
class VerificationReport:
    """Every transaction of one proof's verification."""

    transactions: tuple[TxReport, ...]

    @property
    def total_gas(self) -> int:
        """Gas of all transactions together."""
        return sum(t.gas_used for t in self.transactions)

    @property
    def total_calldata(self) -> int:
        """Calldata bytes of all transactions together."""
        return sum(t.calldata_bytes for t in self.transactions)


EVALUATORS_PER_RUN = 16


def compile_verifier(generated: GeneratedVerifier) -> dict[str, Artifact]:
    """Compile the generated sources with the protocol contracts they import.

    The evaluators are compiled apart (without the Yul optimizer), and the shared phase
    contracts in a compilation of their own, the same (so cached) for every verifier.
    """
    library = stark_library_sources()
    evaluators = {generated.source_of[name] for name in generated.evaluators}
    rest = {unit: text for unit, text in generated.sources.items() if unit not in evaluators}
    out = compile_sources(_with_imports({**library, **rest}, list(rest)))
    out.update(compile_sources(_with_imports(library, list(PHASES))))
    # a few evaluators per solc run: all of the zkVM's at once (about 9 MB of Solidity since
    # the Keccak-f table) exhaust solc-js's wasm memory
    units = sorted(evaluators)
    for start in range(0, len(units), EVALUATORS_PER_RUN):
        chunk = units[start : start + EVALUATORS_PER_RUN]
        out.update(
            compile_sources({unit: generated.sources[unit] for unit in chunk}, yul_optimizer=False)
        )
    return out


def _with_imports(sources: dict[str, str], roots: list[str]) -> dict[str, str]:
    """Return the sources ``roots`` need: themselves and what they import, transitively."""
    needed: set[str] = set()
    stack = list(roots)
    while stack:
        unit = stack.pop()
        if unit in needed:
            continue
        needed.add(unit)
        base = posixpath.dirname(unit)
        for target in IMPORT.findall(sources[unit]):
            path = target if not target.startswith(".") else posixpath.join(base, target)
            stack.append(posixpath.normpath(path))
    return {unit: sources[unit] for unit in sorted(needed)}


def decode_rejection(data: Any) -> tuple[str, str] | None:
    """(check, reason) if revert data is ProofRejected(string, string), else None."""
    if isinstance(data, str):
        try:
            raw = bytes.fromhex(data.removeprefix("0x"))
        except ValueError:
            return None
    elif isinstance(data, bytes | bytearray):
        raw = bytes(data)
    else:
        return None
    if raw[:4] != PROOF_REJECTED:
        return None
    check, reason = abi_decode(["string", "string"], raw[4:])
    return str(check), str(reason)


class OnChainVerifier:
    """A deployed verifier and a funded sender."""

    def __init__(
        self,
        w3: Web3,
        contract: Contract,
        sender: str,
        *,
        call_gas: int = TX_GAS_CAP,
        max_calldata: int = MAX_TX_CALLDATA,
        signer: LocalAccount | None = None,
    ) -> None:
        """``signer`` signs the transactions (else ``sender`` must be unlocked on the node)."""
        self.w3 = w3
        self.contract = contract
        self.sender = sender if signer is None else signer.address
        self.signer = signer
        # gas and calldata of a call or transaction: Ethereum's limits unless the chain lifts
        # them (a devnet verifying proofs of big machines)
        self.call_gas = call_gas
        self.max_calldata = max_calldata

    @classmethod
    def deploy(
        cls,
        w3: Web3,
        generated: GeneratedVerifier,
        *,
        sender: str | None = None,
        phases: tuple[str, str] | None = None,
        call_gas: int = TX_GAS_CAP,
        max_calldata: int = MAX_TX_CALLDATA,
    ) -> OnChainVerifier:
        """Compile and deploy; reuse deployed (query, statement) phase contracts if given."""
        artifacts = compile_verifier(generated)
        account = sender or w3.eth.accounts[0]
        evaluators = [_deploy(w3, artifacts[name], account, []) for name in generated.evaluators]
        if phases is None:
            phases = (
                _deploy(w3, artifacts["StarkQueryPhase"], account, []),
                _deploy(w3, artifacts["StarkStatementPhase"], account, []),
            )
        address = _deploy(w3, artifacts[generated.verifier], account, [*phases, evaluators])
        abi = artifacts[generated.verifier].abi
        contract = w3.eth.contract(address=Web3.to_checksum_address(address), abi=abi)
        return cls(w3, contract, account, call_gas=call_gas, max_calldata=max_calldata)

    @property
    def phases(self) -> tuple[str, str]:
        """Return the (query, statement) phase contracts this verifier uses."""
        functions = self.contract.functions
        return (functions.QUERY_PHASE().call(), functions.STATEMENT_PHASE().call())

    # --- calls ---------------------------------------------------------------------------

    def check(self, proof: bytes, publics: Sequence[int]) -> bytes:
        """Run verifyProof as a call; return the statement or raise ProofRejectedOnChainError."""
        fn = self.contract.functions.verifyProof(proof, [int(v) for v in publics])
        return bytes(self._call(fn, "verifyProof"))

    def is_verified(self, publics: Sequence[int]) -> bool:
        """Whether a proof of ``publics`` has been recorded as verified."""
        statement = self.contract.functions.statementOf([int(v) for v in publics]).call()
        return bool(self.contract.functions.verified(statement).call())

    # --- transactions --------------------------------------------------------------------

    def verify_in_one(self, proof: bytes, publics: Sequence[int]) -> VerificationReport:
        """Send verifyAndRecord in one transaction (the proof must fit one)."""
        fn = self.contract.functions.verifyAndRecord(proof, [int(v) for v in publics])
        tx = self._send(fn, "verifyAndRecord", "whole proof")
        return VerificationReport((tx,))

    def verify_in_steps(
        self, proof: bytes, publics: Sequence[int], budget: int = DEFAULT_STEP_BUDGET
    ) -> VerificationReport:
        """Verify over several transactions, each carrying at most ``budget`` proof bytes."""
        chunks = plan_chunks(proof, budget)
        values = [int(v) for v in publics]
        first = chunks[0]
        fn = self.contract.functions.beginVerification(proof[first.start : first.end], values)
        reports = [self._send(fn, "beginVerification", _label(first))]
        receipt = self._last_receipt
        for chunk in chunks[1:]:
            session, state = self._session_event(receipt)
            fn = self.contract.functions.continueVerification(
                session, state, proof[chunk.start : chunk.end]
            )
            reports.append(self._send(fn, "continueVerification", _label(chunk)))
            receipt = self._last_receipt
        if not self.is_verified(values):
            raise ChainError("the last step did not record the proof as verified")
        return VerificationReport(tuple(reports))

    def _session_event(self, receipt: Any) -> tuple[bytes, bytes]:
        events = self.contract.events.SessionAdvanced().process_receipt(receipt)
        if not events:
            raise ChainError("no SessionAdvanced event: the session ended early")
        args = events[-1]["args"]
        return bytes(args["id"]), bytes(args["state"])

    def _call(self, fn: Any, step: str) -> Any:
        try:
            return fn.call({"from": self.sender, "gas": self.call_gas})
        except ContractLogicError as err:
            raise _rejection(err, step) from err

    def _send(self, fn: Any, step: str, label: str) -> TxReport:
        data = fn._encode_transaction_data()
        size = len(bytes.fromhex(data.removeprefix("0x")))
        if size > self.max_calldata:
            raise SettlementError(
                f"{step} carries {size} bytes of calldata, more than {self.max_calldata}",
                reason="calldata_too_large",
            )
        try:
            gas = fn.estimate_gas({"from": self.sender, "gas": self.call_gas})
        except ContractLogicError as err:
            raise _rejection(err, step) from err
        params = {"from": self.sender, "gas": min(self.call_gas, gas + gas // 10)}
        if self.signer is None:
            tx_hash = fn.transact(params)
        else:
            nonce = self.w3.eth.get_transaction_count(self.signer.address, "pending")
            tx = fn.build_transaction({**params, "nonce": nonce})
            signed = self.signer.sign_transaction(tx)
            tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash)
        if receipt["status"] != 1:
            raise ChainError(f"{step} reverted after a successful estimate")
        self._last_receipt = receipt
        return TxReport(step, label, size, int(receipt["gasUsed"]))


def _label(chunk: Chunk) -> str:
    last = chunk.first_section + chunk.sections - 1
    if chunk.sections == 1:
        return section_name(chunk.first_section)
    return f"{section_name(chunk.first_section)} .. {section_name(last)}"


def _rejection(err: ContractLogicError, step: str) -> SettlementError:
    decoded = decode_rejection(getattr(err, "data", None))
    if decoded is None:
        return ChainError(f"{step} reverted: {err}")
    return ProofRejectedOnChainError(*decoded, step=step)


def _deploy(w3: Web3, artifact: Artifact, sender: str, args: list[Any]) -> str:
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    tx_hash = factory.constructor(*args).transact({"from": sender})
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
    if receipt["status"] != 1 or not receipt["contractAddress"]:
        raise ChainError(
            f"deploying {artifact.name} failed ({artifact.deployed_size} bytes of code)"
        )
    return str(receipt["contractAddress"])
