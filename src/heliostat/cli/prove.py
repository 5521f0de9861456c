"""`heliostat prove` and `heliostat verify`: a zkVM proof of one program run, made and checked.

`prove` runs an sBPF program (an ELF, as deployed on Solana) on one instruction's data with no
accounts — the BPF loader's ABI v1 input — records it, proves it with the zkVM and writes a
proof file: the job request and the worker artifact of the prover service (docs/prover.md),
so that `verify` checks exactly what a prover worker's answer is checked against.
"""

from __future__ import annotations

import argparse
import struct
import sys
import time
from pathlib import Path
from typing import Any

FILE_MAGIC = b"HELIOSTAT-PROOF\x01"


def register(commands: Any) -> None:
    """Add the `prove` and `verify` subcommands."""
    prove = commands.add_parser(
        "prove",
        help="prove one run of an sBPF program in the zkVM",
        description="Run PROGRAM (an sBPF ELF) on one instruction's data with no accounts, "
        "prove the run with the zkVM and write a proof file.",
    )
    prove.add_argument("program", help="the program's ELF file (.so)")
    data = prove.add_mutually_exclusive_group()
    data.add_argument("--data", default="", help="instruction data as hex (default: none)")
    data.add_argument("--data-file", help="instruction data from a file")
    prove.add_argument("--budget", type=int, default=200_000, help="compute budget (units)")
    prove.add_argument(
        "--params",
        default="default",
        help="STARK parameter set: default, compact, conservative, fast-test",
    )
    prove.add_argument("-o", "--output", required=True, help="where to write the proof file")
    prove.set_defaults(run=run_prove)

    verify = commands.add_parser(
        "verify",
        help="verify a proof file written by `heliostat prove`",
        description="Check a proof file: the STARK proof, and that it proves the program and "
        "input it names. Exit status 0 if it verifies, 1 if not.",
    )
    verify.add_argument("proof", help="the proof file")
    verify.set_defaults(run=run_verify)


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 1


def write_proof_file(path: Path, request: bytes, artifact: bytes) -> None:
    """Write a request and its artifact as one file."""
    path.write_bytes(
        FILE_MAGIC + struct.pack("<I", len(request)) + request + struct.pack("<I", len(artifact))
        + artifact
    )  # fmt: skip


def read_proof_file(path: Path) -> tuple[bytes, bytes]:
    """Read a proof file back as (request, artifact) bytes; ValueError if it is not one."""
    data = path.read_bytes()
    if not data.startswith(FILE_MAGIC):
        raise ValueError(f"{path} is not a Heliostat proof file")
    pos = len(FILE_MAGIC)
    parts = []
    for _ in range(2):
        if pos + 4 > len(data):
            raise ValueError(f"{path} is truncated")
        (n,) = struct.unpack_from("<I", data, pos)
        if pos + 4 + n > len(data):
            raise ValueError(f"{path} is truncated")
        parts.append(data[pos + 4 : pos + 4 + n])
        pos += 4 + n
    if pos != len(data):
        raise ValueError(f"{path} has trailing bytes")
    return parts[0], parts[1]


def _describe(public_values: tuple[int, ...]) -> str:
    from heliostat.zkvm.public_values import COUNT, index
    from heliostat.zkvm.status import Status

    if len(public_values) != COUNT:
        return f"{len(public_values)} public values (expected {COUNT})"
    status = public_values[index("status")]
    name = Status(status).name if status in Status._value2member_map_ else str(status)
    r0 = sum(public_values[index(f"r0_{k}")] << (16 * k) for k in range(4))
    used = public_values[index("budget")] - public_values[index("cu_final")]
    image = "".join(f"{public_values[index(f'image_hash_{k}')]:08x}" for k in range(8))
    return f"status {name}, r0 = {r0}, {used} compute units; image {image}"


def run_prove(args: argparse.Namespace) -> int:
    """Prove the run and write the proof file."""
    from solders.pubkey import Pubkey

    from heliostat.node.prover_service.jobs import (
        ProofArtifact,
        ProofRequest,
        ProverServiceError,
        ZkvmProgramPayload,
        run_job,
    )
    from heliostat.primitives.errors import HeliostatError
    from heliostat.stark.config import PARAMETER_SETS
    from heliostat.svm import abi

    if args.params not in PARAMETER_SETS:
        return _fail(f"unknown parameter set {args.params!r}; one of {sorted(PARAMETER_SETS)}")
    try:
        elf = Path(args.program).read_bytes()
        data = Path(args.data_file).read_bytes() if args.data_file else bytes.fromhex(args.data)
    except (OSError, ValueError) as err:
        return _fail(str(err))
    serialized = abi.serialize([], data, Pubkey.default())
    payload = ZkvmProgramPayload(
        elf,
        serialized.buffer,
        registers=((2, serialized.instruction_data_address),),
        budget=args.budget,
    )
    request = ProofRequest("zkvm-program", args.params, payload.to_bytes()).to_bytes()
    start = time.perf_counter()
    try:
        artifact = run_job(request)
    except (HeliostatError, ProverServiceError) as err:
        return _fail(f"cannot prove {args.program}: {err}")
    seconds = time.perf_counter() - start
    write_proof_file(Path(args.output), request, artifact)
    decoded = ProofArtifact.from_bytes(artifact)
    print(f"proved in {seconds:.1f} s: {_describe(decoded.public_values)}")
    print(f"wrote {args.output} ({len(decoded.proof):,} bytes of proof)")
    return 0


def run_verify(args: argparse.Namespace) -> int:
    """Verify a proof file."""
    from heliostat.node.prover_service.jobs import (
        JobFormatError,
        JobRejectedError,
        ProofArtifact,
        ProofRequest,
        kind_of,
    )

    try:
        request_bytes, artifact_bytes = read_proof_file(Path(args.proof))
        request = ProofRequest.from_bytes(request_bytes)
        artifact = ProofArtifact.from_bytes(artifact_bytes)
        kind_of(request).verify(request, artifact)
    except (OSError, ValueError, JobFormatError) as err:
        return _fail(str(err))
    except JobRejectedError as err:
        print(f"REJECTED: {err}")
        return 1
    print(f"verified: {_describe(artifact.public_values)}")
    return 0
