"""A loaded, verified sBPF program: its read-only region, decoded text, entry and call tables.

`load_elf` (heliostat.svm.elf) builds one from ELF bytes; `Executable.from_text` builds one
from raw instruction bytes (tests, the assembler), as sbpf's `Executable::from_text_bytes` does.
The text is decoded once into a (slots × `CODE_COLUMNS`) int64 array that both interpreters
read, with every ``call imm`` already resolved to a syscall or a function.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from heliostat.primitives.murmur3 import murmur3_32
from heliostat.svm import opcodes as op
from heliostat.svm.errors import ElfError
from heliostat.svm.memory import MM_PROGRAM_START
from heliostat.svm.syscall_api import BoundSyscall, SyscallRegistry

# Columns of the decoded code array.
C_OPC, C_DST, C_SRC, C_OFF, C_IMM, C_AUX = 0, 1, 2, 3, 4, 5
CODE_COLUMNS = 6
# C_AUX of a `call imm`: >= 0 the target pc of a function; CALL_UNRESOLVED when the key names
# nothing; <= SYSCALL_BASE the syscall at index SYSCALL_BASE - aux in `Executable.syscalls`.
CALL_UNRESOLVED = -1
SYSCALL_BASE = -2

ENTRYPOINT_KEY = murmur3_32(b"entrypoint")

Code = npt.NDArray[np.int64]


def function_key(pc: int) -> int:
    """Return the key sbpf v0 gives a function: murmur3 of its pc as 8 little-endian bytes."""
    return murmur3_32(pc.to_bytes(8, "little"))


def decode(text: bytes) -> Code:
    """Decode instruction slots into the code array (no resolution of calls; aux = 0).

    ``imm`` is the sign-extended 32-bit immediate, except for the first slot of ``lddw``,
    which holds the full 64-bit value (low half from this slot, high half from the next) as
    a two's-complement int64.
    """
    if len(text) % op.INSN_SIZE:
        raise ValueError("text length must be a multiple of 8")
    raw = np.frombuffer(text, dtype=np.uint8).reshape(-1, op.INSN_SIZE)
    n = raw.shape[0]
    code = np.zeros((n, CODE_COLUMNS), dtype=np.int64)
    code[:, C_OPC] = raw[:, 0]
    code[:, C_DST] = raw[:, 1] & 0x0F
    code[:, C_SRC] = raw[:, 1] >> 4
    code[:, C_OFF] = raw[:, 2:4].copy().view("<i2")[:, 0]
    imm = raw[:, 4:8].copy().view("<i4")[:, 0].astype(np.int64)
    code[:, C_IMM] = imm
    lddw = np.flatnonzero(raw[:, 0] == op.LD_DW_IMM)
    lddw = lddw[lddw + 1 < n]
    if lddw.size:
        low = imm[lddw] & 0xFFFFFFFF
        high = imm[lddw + 1]  # sign-extended high half: shifting it left wraps like u64
        code[lddw, C_IMM] = (high << 32) | low
    return code


@dataclass(frozen=True, eq=False)
class Executable:
    """A program ready to run.

    ``ro_section`` is the whole program region (text and read-only data) mapped read-only at
    ``ro_vaddr``; the text is ``text_len`` slots starting at byte ``text_offset`` of it, at
    virtual address ``text_vaddr``. ``function_registry`` maps call keys to pcs (entrypoint
    included); ``syscalls`` are the bindings made against the loader's registry, in the order
    the code array refers to them; ``imported_syscalls`` are the names the ELF's relocations
    import.
    """

    ro_section: bytes
    ro_vaddr: int
    text_offset: int
    text_len: int
    text_vaddr: int
    entry_pc: int
    function_registry: Mapping[int, int]
    syscalls: tuple[BoundSyscall, ...]
    imported_syscalls: tuple[str, ...] = ()
    sbpf_version: int = 0
    code: Code = field(default_factory=lambda: np.zeros((0, CODE_COLUMNS), dtype=np.int64))

    @functools.cached_property
    def ro_array(self) -> npt.NDArray[np.uint8]:
        """The program region as a read-only uint8 array (shared by every run)."""
        return np.frombuffer(self.ro_section, dtype=np.uint8)

    @property
    def text(self) -> bytes:
        """The relocated text section bytes."""
        return self.ro_section[self.text_offset : self.text_offset + self.text_len * op.INSN_SIZE]

    def syscall_at(self, pc: int) -> BoundSyscall | None:
        """Return the syscall that the ``call`` at ``pc`` invokes, if it invokes one."""
        aux = int(self.code[pc, C_AUX])
        if int(self.code[pc, C_OPC]) != op.CALL_IMM or aux > SYSCALL_BASE:
            return None
        return self.syscalls[SYSCALL_BASE - aux]

    @classmethod
    def from_text(
        cls,
        text: bytes,
        registry: SyscallRegistry,
        function_registry: Mapping[int, int] | None = None,
        *,
        rodata: bytes = b"",
    ) -> Executable:
        """Build a verified executable from raw text bytes, optionally followed by rodata.

        The program region is ``text + rodata`` at MM_PROGRAM_START. ``function_registry``
        maps keys to pcs inside the text; the entrypoint is pc 0 unless registered.
        """
        from heliostat.svm.verifier import verify

        verify(text)  # always: the interpreters rely on verified register numbers
        text_len = len(text) // op.INSN_SIZE
        functions = dict(function_registry or {})
        functions.setdefault(ENTRYPOINT_KEY, 0)
        for key, pc in functions.items():
            if not 0 <= pc < text_len:
                raise ElfError(
                    "ValueOutOfBounds", f"function {key:#x} at pc {pc} is outside the text"
                )
            if registry.lookup(key) is not None:
                raise ElfError("SymbolHashCollision", f"Symbol hash collision {key:#x}", key=key)
        return build(
            ro_section=text + rodata,
            ro_vaddr=MM_PROGRAM_START,
            text_offset=0,
            text_len=text_len,
            entry_pc=functions[ENTRYPOINT_KEY],
            function_registry=functions,
            registry=registry,
        )


def build(
    *,
    ro_section: bytes,
    ro_vaddr: int,
    text_offset: int,
    text_len: int,
    entry_pc: int,
    function_registry: Mapping[int, int],
    registry: SyscallRegistry,
    imported_syscalls: tuple[str, ...] = (),
) -> Executable:
    """Decode the text and resolve every ``call imm`` against syscalls, then functions.

    Resolution order follows sbpf's interpreter for v0: a key naming a syscall of the loader's
    registry calls it; otherwise a key in the function registry calls that function;
    otherwise the call faults with UnsupportedInstruction when executed.
    """
    text = ro_section[text_offset : text_offset + text_len * op.INSN_SIZE]
    code = decode(text)
    bound: list[BoundSyscall] = []
    index_of: dict[int, int] = {}
    for pc in np.flatnonzero(code[:, C_OPC] == op.CALL_IMM):
        key = int(code[pc, C_IMM]) & 0xFFFFFFFF
        syscall = registry.lookup(key)
        if syscall is not None:
            if key not in index_of:
                index_of[key] = len(bound)
                bound.append(syscall)
            code[pc, C_AUX] = SYSCALL_BASE - index_of[key]
        elif key in function_registry:
            code[pc, C_AUX] = function_registry[key]
        else:
            code[pc, C_AUX] = CALL_UNRESOLVED
    code.setflags(write=False)
    return Executable(
        ro_section=ro_section,
        ro_vaddr=ro_vaddr,
        text_offset=text_offset,
        text_len=text_len,
        text_vaddr=ro_vaddr + text_offset,
        entry_pc=entry_pc,
        function_registry=dict(function_registry),
        syscalls=tuple(bound),
        imported_syscalls=imported_syscalls,
        code=code,
    )
