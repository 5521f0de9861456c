"""The devnet's L1: deploy the rollup with its verifiers, remember where, post batch proofs.

`deploy_rollup` puts on a chain: the generated zkVM STARK verifier (its evaluators and the two
shared phase contracts) behind `StarkBatchVerifier`, the state tree's `StateTreeAccountVerifier`
for escape mode, and `HeliostatRollup` with the node's genesis root; the operator account gets
the sequencer and operator roles. The result (`Deployment`) is saved as JSON in the devnet's
directory so a restart reuses it.

Before `proveBatch`, a batch's STARK must be on record in the verifier contract:
`StarkProofPoster.post` verifies it there, section by section over a few transactions, with
the statement `StarkBatchVerifier` derives from the batch's output hash and the proof's facts,
which it returns as `proveBatch`'s proof argument. The devnet's anvil lifts EIP-7825's gas cap
and takes transactions larger than Ethereum's 128 KB: a zkVM proof's statement phase and its
largest sections (header, main opening) do not fit those limits yet (docs/settlement.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract

from heliostat.runtime.interface import BatchPublicOutput
from heliostat.settlement import rollup
from heliostat.settlement.errors import ChainError, SettlementError

# Oldest unprocessed priority operation's deadline before escape mode (a day, as a devnet
# should never fall into escape mode while it runs).
PRIORITY_DEADLINE_S = 86_400
VERIFIER_CALL_GAS = 1 << 29  # no EIP-7825 cap on the devnet: the zkVM statement phase needs more
VERIFIER_STEP_BYTES = 900_000  # proof bytes per verification transaction (anvil: 2 MiB requests)


class DeploymentError(SettlementError):
    """The rollup could not be deployed, or a saved deployment does not match the chain."""

    reason = "deployment"


@dataclass(frozen=True)
class Deployment:
    """Where the rollup lives on L1."""

    chain_id: int
    rollup: str
    batch_verifier: str
    stark_verifier: str  # "" when the batch verifier is not a STARK verifier (tests)
    account_verifier: str
    genesis_root: str  # hex
    operator: str
    verifier_kind: str  # "stark" (production) or "mock" (tests of the plumbing only)
    deployed_block: int
    stark_abi: tuple[Any, ...] = ()  # the generated verifier's ABI (its entry points)

    def save(self, path: Path) -> None:
        """Write as JSON (atomically)."""
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2) + "\n")
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> Deployment:
        """Read a saved deployment."""
        try:
            fields = json.loads(path.read_text())
            fields["stark_abi"] = tuple(fields.get("stark_abi", ()))
            return cls(**fields)
        except (OSError, ValueError, TypeError) as err:
            raise DeploymentError(f"{path}: not a saved deployment ({err})") from None

    def contract(self, w3: Web3) -> Contract:
        """Return the rollup contract (checked to have code on this chain)."""
        if not w3.eth.get_code(Web3.to_checksum_address(self.rollup)):
            raise DeploymentError(
                f"no contract at {self.rollup} on this chain: the L1 state was lost "
                "(delete the devnet directory to start a new chain)"
            )
        abi = rollup.compile_rollup()["HeliostatRollup"].abi
        return w3.eth.contract(address=Web3.to_checksum_address(self.rollup), abi=abi)


def deploy_rollup(
    w3: Web3,
    genesis_root: bytes,
    operator: str,
    *,
    verifier: str = "stark",
    config: str = "default",
    progress: Callable[[str], None] = lambda _: None,
) -> Deployment:
    """Deploy the verifiers and the rollup from ``operator`` (an unlocked or funded account).

    ``verifier="mock"`` deploys the test-only MockBatchVerifier (contracts/test/Mocks.sol),
    for tests of the plumbing; everything else uses the generated zkVM verifier.
    """
    artifacts = rollup.compile_rollup(with_mocks=verifier == "mock")
    stark = ""
    stark_abi: tuple[Any, ...] = ()
    if verifier == "stark":
        progress("generating and compiling the zkVM STARK verifier (cached after the first run)")
        stark_contract = _deploy_stark_verifier(w3, config, operator)
        stark, stark_abi = stark_contract.address, tuple(stark_contract.abi)
        from heliostat.settlement.batch_verifier import constructor_args

        template, positions = constructor_args()
        batch_verifier = rollup.deploy(
            w3, artifacts["StarkBatchVerifier"], stark, template, positions, sender=operator
        )
    elif verifier == "mock":
        batch_verifier = rollup.deploy(w3, artifacts["MockBatchVerifier"], sender=operator)
    else:
        raise DeploymentError(f"unknown verifier {verifier!r} (stark or mock)")
    progress("deploying HeliostatRollup")
    accounts = rollup.deploy(w3, artifacts["StateTreeAccountVerifier"], sender=operator)
    contract = rollup.deploy(
        w3, artifacts["HeliostatRollup"], batch_verifier.address, accounts.address,
        genesis_root, PRIORITY_DEADLINE_S, sender=operator,
    )  # fmt: skip
    for role in (contract.functions.setSequencer, contract.functions.setOperator):
        tx = role(operator, True).transact({"from": operator})
        receipt = w3.eth.wait_for_transaction_receipt(tx)
        if receipt["status"] != 1:
            raise ChainError("granting the operator its roles failed")
    return Deployment(
        chain_id=int(w3.eth.chain_id),
        rollup=contract.address,
        batch_verifier=batch_verifier.address,
        stark_verifier=stark,
        account_verifier=accounts.address,
        genesis_root=genesis_root.hex(),
        operator=operator,
        verifier_kind=verifier,
        deployed_block=int(w3.eth.block_number),
        stark_abi=stark_abi,
    )


def _deploy_stark_verifier(w3: Web3, config: str, operator: str) -> Contract:
    from heliostat.settlement.stark_verifier import OnChainVerifier
    from heliostat.settlement.verifier_gen.generator import generate_verifier
    from heliostat.stark.config import get_config
    from heliostat.zkvm.verifier import zkvm_verifying_key

    vk = zkvm_verifying_key(get_config(config))
    generated = generate_verifier(vk, "ZkvmVerifier")
    onchain = OnChainVerifier.deploy(
        w3, generated, sender=operator, call_gas=VERIFIER_CALL_GAS,
        max_calldata=2 * VERIFIER_STEP_BYTES,
    )  # fmt: skip
    return onchain.contract


class ProofNotBindableError(SettlementError):
    """A batch proof L1 cannot accept: another statement, too large, or rejected on chain."""

    reason = "proof_not_bindable"


class ProofPoster(Protocol):
    """Makes a batch's proof acceptable to the batch verifier; returns `proveBatch`'s bytes."""

    def post(self, number: int, output: BatchPublicOutput, proof: bytes) -> bytes:
        """Put the proof where the batch verifier looks; return the proof argument."""
        ...


class StarkProofPoster:
    """Records a batch's STARK in the generated verifier; returns the facts `proveBatch` takes.

    `StarkBatchVerifier` builds the zkVM statement of a batch from its output hash (the
    kernel publishes keccak256 of its head first, the proof shows those 32 bytes) and the
    proof's facts; `post` checks that statement equals the Python verifier's
    (`heliostat.runtime.proving.statement`) before paying for the on-chain verification.
    """

    def __init__(self, w3: Web3, deployment: Deployment, signer: LocalAccount) -> None:
        from heliostat.settlement.stark_verifier import OnChainVerifier

        artifacts = rollup.compile_rollup()
        self.batch_verifier = w3.eth.contract(
            address=Web3.to_checksum_address(deployment.batch_verifier),
            abi=artifacts["StarkBatchVerifier"].abi,
        )
        stark = w3.eth.contract(
            address=Web3.to_checksum_address(deployment.stark_verifier),
            abi=list(deployment.stark_abi),
        )
        self.onchain = OnChainVerifier(
            w3, stark, signer.address, call_gas=VERIFIER_CALL_GAS,
            max_calldata=2 * VERIFIER_STEP_BYTES, signer=signer,
        )  # fmt: skip

    def post(self, number: int, output: BatchPublicOutput, proof: bytes) -> bytes:
        """Verify the STARK on chain (recorded as a fact), unless it is already recorded."""
        from eth_abi.abi import decode

        from heliostat.runtime.proving import decode_proof, statement
        from heliostat.settlement.batch_verifier import FACTS_TYPE, facts_bytes

        facts, stark_proof = decode_proof(proof)
        publics = [int(v) for v in statement(facts, output.encoded).to_fields()]
        args = facts_bytes(facts, output.encoded)
        (decoded,) = decode([FACTS_TYPE], args)
        contract = self.batch_verifier.functions.statementOf(rollup.output_hash(output), decoded)
        expected = [int(v) for v in contract.call()]
        if publics != expected:
            raise ProofNotBindableError(
                f"batch {number}: StarkBatchVerifier's statement is not the proof's "
                f"({sum(a != b for a, b in zip(publics, expected, strict=False))} of "
                f"{len(publics)} values differ): was the rollup deployed for another kernel?"
            )
        if not self.onchain.is_verified(publics):
            try:
                self.onchain.verify_in_steps(stark_proof, publics, budget=VERIFIER_STEP_BYTES)
            except ChainError:
                raise  # the chain or its RPC: the next step tries again
            except SettlementError as err:  # a verdict or a size: the same every time
                message = f"batch {number}: L1 does not take its proof: {err}"
                raise ProofNotBindableError(message) from err
        return args
