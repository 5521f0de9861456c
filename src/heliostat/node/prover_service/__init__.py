"""The prover service: sealed batches (and other proof jobs) proven by local or Ray workers."""

from heliostat.node.prover_service.jobs import (
    ProofArtifact,
    ProofRequest,
    ProverServiceError,
    ZkvmProgramPayload,
)
from heliostat.node.prover_service.queue import JobQueue, JobState
from heliostat.node.prover_service.service import ProverService, ServiceConfig
from heliostat.node.prover_service.workers import LocalWorker, RayWorker

__all__ = [
    "JobQueue",
    "JobState",
    "LocalWorker",
    "ProofArtifact",
    "ProofRequest",
    "ProverService",
    "ProverServiceError",
    "RayWorker",
    "ServiceConfig",
    "ZkvmProgramPayload",
]
