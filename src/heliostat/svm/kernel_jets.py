"""Jets: native implementations of pure kernel functions, used in native mode only.

A jet replaces every `call` to a named function of the kernel image by a synthetic syscall
that computes the same r0 and writes the same memory (the BPF calling convention already has
the arguments in r1..r5 and the result in r0, and a syscall preserves r6..r10). Proving mode
runs the unmodified image, so the proof covers the real code. Every jet is differential-tested
against the function it replaces (tests/svm/test_kernel_jets.py, tests/runtime).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from solders.pubkey import Pubkey
from solders.signature import Signature

from heliostat.primitives import ed25519
from heliostat.svm.executable import C_AUX, C_OPC, SYSCALL_BASE, Executable
from heliostat.svm.memory import MM_INPUT_START
from heliostat.svm.opcodes import CALL_IMM
from heliostat.svm.syscall_api import BoundSyscall, SyscallContext, syscall_key

Jet = Callable[[SyscallContext, int, int, int, int, int], int]


def ed25519_code(signature: bytes, public_key: bytes, message: bytes) -> int:
    """Return what c/lib/ed25519 `ed25519_verify` returns for these bytes.

    solders' verify wraps ed25519-dalek's verify_strict, Solana's rule, which the C code
    implements; it answers the common case (a valid signature) fast. A rejected signature gets
    its exact code from the Python reference, which the C library's tests pin code by code.
    """
    if Signature(signature).verify(Pubkey(public_key), message):
        return 0
    return int(ed25519.verify_code(signature, public_key, message))


def ed25519_verify(ctx: SyscallContext, sig: int, key: int, msg: int, length: int, _5: int) -> int:
    """Jet of c/lib/ed25519 `ed25519_verify(sig, pubkey, msg, msg_len)`: r0 = its code."""
    signature = ctx.read(sig, 64)
    public_key = ctx.read(key, 32)
    message = ctx.read(msg, length) if length else b""
    return ed25519_code(signature, public_key, message)


@dataclass(frozen=True)
class JetRows:
    """Precomputed results of one jet for calls whose memory lies in K's read-only input.

    ``rows``: r1, r2, r3, r4 (K addresses and a length), r0. ``pointer_sizes``: bytes read at
    r1, r2, ...; ``range_columns``: the (pointer, length) columns of a variable-length range.
    `heliostat.svm.kernel.run_kernel` checks that every row stays inside the input.
    """

    syscall: str
    rows: npt.NDArray[np.int64]
    pointer_sizes: tuple[int, ...]
    range_columns: tuple[int, int]


def ed25519_rows(input_data: bytes, calls: Iterable[tuple[int, int, int, int]]) -> JetRows:
    """Verify ahead of the run: rows for `ed25519_verify(sig, key, msg, len)` calls.

    ``calls`` are (signature, public key, message, message length) offsets in ``input_data``
    (the kernel's input region): the rows hold each call's result on those very bytes.
    """
    rows = []
    view = memoryview(input_data)
    for sig, key, msg, length in calls:
        if min(sig, key, msg, length) < 0 or max(sig + 64, key + 32, msg + length) > len(view):
            continue  # not in the input: the kernel's own call will tell
        code = ed25519_code(
            bytes(view[sig : sig + 64]),
            bytes(view[key : key + 32]),
            bytes(view[msg : msg + length]),
        )
        base = MM_INPUT_START
        rows.append((base + sig, base + key, base + msg, length, code))
    table = np.array(rows, dtype=np.int64).reshape(-1, 5)
    return JetRows("jet:ed25519_verify", table, (64, 32), (2, 3))


JETS: dict[str, Jet] = {"ed25519_verify": ed25519_verify}


def with_jets(
    executable: Executable, functions: Mapping[str, int], jets: Mapping[str, Jet] = JETS
) -> Executable:
    """Return a copy of ``executable`` whose calls to the jetted functions run the jets.

    ``functions`` maps function names to their addresses relative to the program region (the
    toolchain's `LinkedProgram.functions`). Names absent from the image are skipped.
    """
    code = executable.code.copy()
    syscalls = list(executable.syscalls)
    text_start = executable.text_vaddr - executable.ro_vaddr
    for name, jet in jets.items():
        if name not in functions:
            continue
        target = (functions[name] - text_start) // 8
        sites = np.flatnonzero((code[:, C_OPC] == CALL_IMM) & (code[:, C_AUX] == target))
        if not sites.size:
            continue
        code[sites, C_AUX] = SYSCALL_BASE - len(syscalls)
        syscalls.append(BoundSyscall(syscall_key(f"jet:{name}"), f"jet:{name}", jet))
    code.setflags(write=False)
    return dataclasses.replace(executable, code=code, syscalls=tuple(syscalls))
