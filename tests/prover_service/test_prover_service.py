"""The prover service: real zkVM proofs by local and Ray workers; lost workers, retries."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from solders.pubkey import Pubkey

from heliostat.node.prover_service import (
    JobQueue,
    JobState,
    ProofArtifact,
    ProofRequest,
    ProverService,
    RayWorker,
    ServiceConfig,
    ZkvmProgramPayload,
)
from heliostat.node.prover_service.jobs import (
    KINDS,
    JobFormatError,
    JobRejectedError,
    run_job,
)
from heliostat.svm import abi
from heliostat.toolchain import program_elf

PROGRAM_ID = Pubkey(bytes([7] * 32))


def compute_heavy(iterations: int, budget: int = 200_000) -> ProofRequest:
    """A zkvm-program job: the toolchain's compute_heavy.c for ``iterations`` loop turns."""
    serialized = abi.serialize([], iterations.to_bytes(8, "little"), PROGRAM_ID)
    payload = ZkvmProgramPayload(
        program_elf("compute_heavy"),
        serialized.buffer,
        registers=((2, serialized.instruction_data_address),),
        budget=budget,
    )
    return ProofRequest("zkvm-program", "fast-test", payload.to_bytes())


def test_request_and_artifact_round_trip_and_reject_garbage() -> None:
    request = compute_heavy(3)
    assert ProofRequest.from_bytes(request.to_bytes()) == request
    payload = ZkvmProgramPayload.from_bytes(request.payload)
    assert payload.registers[0][0] == 2 and payload.budget == 200_000
    artifact = ProofArtifact(b"proof", (1, 2, 2013265920))
    assert ProofArtifact.from_bytes(artifact.to_bytes()) == artifact
    encoded = request.to_bytes()
    for bad in (b"", b"nonsense", encoded[:-1], encoded + b"\0", encoded[:7]):
        with pytest.raises(JobFormatError):
            ProofRequest.from_bytes(bad)
    with pytest.raises(JobFormatError, match="unknown job kind"):
        run_job(ProofRequest("mystery", "fast-test", b"").to_bytes())


def test_a_proof_is_checked_against_its_request() -> None:
    request = compute_heavy(5)
    artifact = ProofArtifact.from_bytes(run_job(request.to_bytes()))
    verify = KINDS["zkvm-program"].verify
    verify(request, artifact)  # accepted
    flipped = bytearray(artifact.proof)
    flipped[len(flipped) // 2] ^= 1
    with pytest.raises(JobRejectedError):
        verify(request, ProofArtifact(bytes(flipped), artifact.public_values))
    # a valid proof of another input is not a proof of this request
    with pytest.raises(JobRejectedError, match="input_hash"):
        verify(compute_heavy(6), artifact)


def test_service_proves_jobs_with_two_workers(tmp_path: Path) -> None:
    proved: list[int] = []
    service = ProverService.local(
        tmp_path / "jobs.sqlite", workers=2, on_proved=lambda job, _: proved.append(job)
    )
    service.start()
    try:
        for job_id in (1, 2, 3):
            assert service.submit(job_id, compute_heavy(job_id))
        assert not service.submit(1, compute_heavy(1))  # idempotent resubmission
        for job_id in (1, 2, 3):
            job = service.wait(job_id, timeout_s=900)
            assert job.state is JobState.PROVED, job.error
            assert job.artifact is not None
            KINDS["zkvm-program"].verify(
                compute_heavy(job_id), ProofArtifact.from_bytes(job.artifact)
            )
        assert sorted(proved) == [1, 2, 3]
    finally:
        service.stop()


def _wait_until_running(service: ProverService, job_id: int) -> Any:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = service.queue.get(job_id)
        if job.state is JobState.PROVING and job.worker is not None:
            return next(w for w in service.workers if w.name == job.worker)
        time.sleep(0.02)
    raise AssertionError(f"job {job_id} never started")


def test_killing_a_worker_mid_proof_loses_nothing(tmp_path: Path) -> None:
    service = ProverService.local(tmp_path / "jobs.sqlite", workers=2)
    service.start()
    try:
        service.submit(7, compute_heavy(3_000))
        worker = _wait_until_running(service, 7)
        time.sleep(1.0)  # into the job: the process has imported and started proving
        assert service.queue.get(7).state is JobState.PROVING
        assert worker.pid is not None
        os.kill(worker.pid, signal.SIGKILL)
        job = service.wait(7, timeout_s=900)
        assert job.state is JobState.PROVED, job.error
        assert job.attempts == 2
        assert job.error is not None and "lost" in job.error  # the lost attempt is on record
        assert job.artifact is not None
        KINDS["zkvm-program"].verify(compute_heavy(3_000), ProofArtifact.from_bytes(job.artifact))
    finally:
        service.stop()


def test_a_job_no_worker_can_prove_fails_and_the_service_carries_on(tmp_path: Path) -> None:
    bad = ProofRequest(
        "zkvm-program", "fast-test", ZkvmProgramPayload(b"not an elf", b"").to_bytes()
    )
    service = ProverService.local(
        tmp_path / "jobs.sqlite", workers=1, config=ServiceConfig(max_attempts=2)
    )
    service.start()
    try:
        service.submit(1, bad)
        service.submit(2, compute_heavy(4))
        failed = service.wait(1, timeout_s=900)
        assert failed.state is JobState.FAILED and failed.attempts == 2
        assert failed.error is not None and "ELF" in failed.error.upper()
        assert service.wait(2, timeout_s=900).state is JobState.PROVED
    finally:
        service.stop()


def test_a_job_past_its_timeout_is_taken_back(tmp_path: Path) -> None:
    service = ProverService.local(
        tmp_path / "jobs.sqlite", workers=1, config=ServiceConfig(max_attempts=2, timeout_s=0.5)
    )
    service.start()
    try:
        service.submit(1, compute_heavy(20_000, budget=1_400_000))
        job = service.wait(1, timeout_s=60)
        assert job.state is JobState.FAILED and job.attempts == 2
        assert job.error is not None and "lost" in job.error
    finally:
        service.stop()


def test_jobs_survive_a_restart_of_the_service(tmp_path: Path) -> None:
    path = tmp_path / "jobs.sqlite"
    first = ProverService.local(path, workers=1)
    first.start()
    first.submit(1, compute_heavy(1_000))
    _wait_until_running(first, 1)
    first.stop()  # the worker goes with it, mid-proof
    reopened = JobQueue(path)
    assert reopened.get(1).state is JobState.QUEUED  # taken back on open
    reopened.close()
    second = ProverService.local(path, workers=1)
    second.start()
    try:
        assert second.wait(1, timeout_s=900).state is JobState.PROVED
    finally:
        second.stop()


@pytest.fixture(scope="module")
def local_ray():  # type: ignore[no-untyped-def]
    """A Ray instance on this machine, as `heliostat` starts one when no cluster is named."""
    ray = pytest.importorskip("ray", reason="ray is a dependency; its absence is a setup bug")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield ray
    ray.shutdown()


@pytest.mark.slow
def test_ray_workers_prove_and_survive_a_killed_actor(tmp_path: Path, local_ray) -> None:  # type: ignore[no-untyped-def]
    workers = [RayWorker("ray-0"), RayWorker("ray-1")]
    service = ProverService(JobQueue(tmp_path / "jobs.sqlite"), workers)
    try:
        service.submit(1, compute_heavy(10))
        service.start()
        assert service.wait(1, timeout_s=900).state is JobState.PROVED
        service.submit(2, compute_heavy(3_000))
        running = _wait_until_running(service, 2)
        time.sleep(1.0)
        assert service.queue.get(2).state is JobState.PROVING
        assert running.pid is not None
        os.kill(running.pid, signal.SIGKILL)
        job = service.wait(2, timeout_s=900)
        assert job.state is JobState.PROVED, job.error
        assert job.attempts == 2 and job.error is not None and "lost" in job.error
        assert job.artifact is not None
        KINDS["zkvm-program"].verify(compute_heavy(3_000), ProofArtifact.from_bytes(job.artifact))
    finally:
        service.stop()
