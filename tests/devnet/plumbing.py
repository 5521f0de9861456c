"""Stand-ins for tests of the devnet's plumbing only — never a proof.

Until `Runtime.prove_batch` proves batches, the queue, submitter, restart and shutdown are
tested with:

- the job kind ``batch-replay-test``: the "worker" re-executes the batch natively from the job's
  payload (witness checked against the old root by the kernel) and returns the public output
  with EMPTY proof bytes; the service's check re-executes it again and compares. It proves
  nothing: it only moves a batch through the queue the way a proof would.
- `ThreadWorker`: runs jobs in a thread of the test process (where the test kind is registered).
- the rollup deployed with the test-only ``MockBatchVerifier`` (contracts/test/Mocks.sol), and
  `MockPoster`, which tells it the batch's output hash is proven.

The production path (`heliostat devnet`) uses none of these: the "batch" kind, local worker
processes, the generated zkVM verifier.
"""

from __future__ import annotations

import threading
import traceback
from pathlib import Path

from solders.keypair import Keypair
from web3 import Web3
from web3.contract import Contract

from heliostat.devnet.config import DevnetConfig
from heliostat.devnet.l1 import Deployment
from heliostat.devnet.runner import Devnet
from heliostat.node.prover_service.batch_job import (
    BatchPayload,
    decode_artifact_proof,
    encode_artifact_proof,
    native_public_output,
)
from heliostat.node.prover_service.jobs import (
    KINDS,
    JobKind,
    JobRejectedError,
    ProofArtifact,
    ProofRequest,
    run_job,
)
from heliostat.node.prover_service.workers import WorkerEvent
from heliostat.runtime.interface import BatchPublicOutput
from heliostat.sdk import bridge
from heliostat.settlement import rollup

REPLAY_KIND = "batch-replay-test"


def _replay(request: ProofRequest) -> ProofArtifact:
    output = native_public_output(BatchPayload.from_bytes(request.payload))
    return ProofArtifact(encode_artifact_proof(b"", output.encoded), ())


def _check_replay(request: ProofRequest, artifact: ProofArtifact) -> None:
    _, output = decode_artifact_proof(artifact)
    if output != native_public_output(BatchPayload.from_bytes(request.payload)).encoded:
        raise JobRejectedError("replayed output differs", reason="public_output")


KINDS.setdefault(REPLAY_KIND, JobKind(_replay, _check_replay))


class ThreadWorker:
    """A worker running jobs in a thread of this process."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._job: int | None = None
        self._event: WorkerEvent | None = None
        self._thread: threading.Thread | None = None

    @property
    def busy(self) -> bool:
        return self._job is not None

    def start(self, job_id: int, request: bytes) -> None:
        self._job, self._event = job_id, None

        def work() -> None:
            try:
                self._event = WorkerEvent("done", job_id, artifact=run_job(request))
            except Exception:
                self._event = WorkerEvent("error", job_id, error=traceback.format_exc(limit=4))

        self._thread = threading.Thread(target=work, daemon=True)
        self._thread.start()

    def poll(self) -> WorkerEvent | None:
        if self._job is None or self._event is None:
            return None
        event, self._job = self._event, None
        return event

    def kill(self) -> None:
        pass  # a thread cannot be killed; the tests never time a job out


class MockPoster:
    """Marks a batch's output hash proven in the test-only MockBatchVerifier."""

    def __init__(self, w3: Web3, deployment: Deployment, _signer: object = None) -> None:
        abi = rollup.compile_rollup(with_mocks=True)["MockBatchVerifier"].abi
        self.w3 = w3
        self.mock = w3.eth.contract(address=Web3.to_checksum_address(deployment.batch_verifier),
                                    abi=abi)  # fmt: skip

    def post(self, number: int, output: BatchPublicOutput, proof: bytes) -> bytes:
        output_hash = rollup.output_hash(output)
        tx = self.mock.functions.setProven(output_hash).transact({"from": self.w3.eth.accounts[0]})
        self.w3.eth.wait_for_transaction_receipt(tx)
        return b""


def plumbing_devnet(data_dir: Path, lines: list[str], **config: object) -> Devnet:
    """A devnet with the stand-ins above (mock verifier, replay kind, thread worker)."""
    settings = {"slot_ms": 100, "batch_max_age_s": 0.5, **config}
    return Devnet(
        DevnetConfig(data_dir=data_dir, **settings),  # type: ignore[arg-type]
        verifier="mock",
        workers=[ThreadWorker("thread-0")],
        job_kind=REPLAY_KIND,
        poster=MockPoster,
        out=lines.append,
    )


def started_rollup(devnet: Devnet) -> tuple[Keypair, Contract]:
    """Return a started devnet's L2 faucet and its HeliostatRollup contract."""
    assert devnet.faucet is not None and devnet.w3 is not None
    assert devnet.deployment is not None
    return devnet.faucet, bridge.rollup_contract(devnet.w3, devnet.deployment.rollup)
