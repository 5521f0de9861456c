"""The syscall contract: how a syscall is registered, bound at load, called, metered and traced.

A syscall is a plain Python callable ``(ctx, r1, r2, r3, r4, r5) -> r0``. Both interpreters call
the same callables. A syscall reads and writes program memory through its `SyscallContext`
(checked like the program's own accesses, and recorded in the trace when one is asked for),
charges compute units with `SyscallContext.consume`, and stops the program by raising an
`SvmError` (an access violation, `ComputeBudgetExceeded`, or the exec layer's own errors such as
abort or panic); the interpreter wraps it in a `SyscallFault`. Any other exception is a bug and
propagates unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from heliostat.primitives.murmur3 import murmur3_32
from heliostat.svm.errors import AccessType, ComputeBudgetExceeded, ElfError
from heliostat.svm.memory import MemoryMap
from heliostat.svm.trace import TraceRecorder


class Syscall(Protocol):
    """A syscall implementation: returns the value left in r0."""

    def __call__(self, ctx: SyscallContext, r1: int, r2: int, r3: int, r4: int, r5: int, /) -> int:
        """Run the syscall with registers r1..r5 (unsigned 64-bit ints)."""
        ...


def syscall_key(name: str | bytes) -> int:
    """Return the key a call instruction carries for ``name``: murmur3-32 (seed 0) of it."""
    return murmur3_32(name.encode() if isinstance(name, str) else name)


@dataclass(frozen=True)
class BoundSyscall:
    """A syscall as an executable binds it: key, name and implementation."""

    key: int
    name: str
    function: Syscall


class SyscallRegistry:
    """Syscall name → implementation, looked up by the murmur3 key of the name.

    It plays the role of the loader's `BuiltinProgram` in sbpf: the ELF loader binds call
    instructions against it, and an executable keeps the bindings it made (later changes to
    the registry do not affect executables already loaded).
    """

    def __init__(self) -> None:
        self._by_key: dict[int, BoundSyscall] = {}

    def register(self, name: str, function: Syscall) -> int:
        """Add ``name``; returns its key. Raises `ElfError` on a key collision, as sbpf does."""
        key = syscall_key(name)
        existing = self._by_key.get(key)
        if existing is not None and existing.name != name:
            raise ElfError(
                "SymbolHashCollision", f"Symbol hash collision {key:#x}", key=key, name=name
            )
        self._by_key[key] = BoundSyscall(key, name, function)
        return key

    def lookup(self, key: int) -> BoundSyscall | None:
        """Return the syscall bound to ``key``, if any."""
        return self._by_key.get(key)

    def by_name(self, name: str) -> BoundSyscall | None:
        """Return the syscall registered under ``name``, if any."""
        bound = self._by_key.get(syscall_key(name))
        return bound if bound is not None and bound.name == name else None

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.by_name(name) is not None

    def __iter__(self) -> Iterator[BoundSyscall]:
        return iter(sorted(self._by_key.values(), key=lambda b: b.name))

    def __len__(self) -> int:
        return len(self._by_key)

    def copy(self) -> SyscallRegistry:
        """Return an independent registry with the same entries."""
        clone = SyscallRegistry()
        clone._by_key = dict(self._by_key)
        return clone


class SyscallContext:
    """What a running syscall sees: memory, the compute meter, the host and the trace.

    ``host`` is opaque to the VM: the exec layer defines its protocol (transaction context for
    sysvars, return data, CPI...). ``pc`` is the slot of the calling instruction and ``step``
    its index in the execution (the trace row it belongs to).
    """

    __slots__ = ("host", "memory", "pc", "remaining", "step", "trace")

    def __init__(
        self,
        memory: MemoryMap,
        host: Any,
        remaining: int,
        trace: TraceRecorder | None = None,
    ) -> None:
        self.memory = memory
        self.host = host
        self.remaining = remaining
        self.trace = trace
        self.pc = 0
        self.step = 0

    def consume(self, units: int) -> None:
        """Charge ``units`` compute units, as agave's `consume_checked`.

        When fewer remain, the meter drops to zero and `ComputeBudgetExceeded` is raised
        (the program then stops with a `SyscallFault` wrapping it).
        """
        if units < 0:
            raise ValueError("cannot consume a negative number of compute units")
        exceeded = self.remaining < units
        self.remaining = max(self.remaining - units, 0)
        if exceeded:
            raise ComputeBudgetExceeded(units, self.remaining)

    def read(self, vaddr: int, size: int) -> bytes:
        """Read program memory (checked; recorded in the trace when tracing)."""
        data = self.memory.read(vaddr, size)
        if self.trace is not None:
            self.trace.syscall_memory(self.step, vaddr, data, write=False)
        return data

    def write(self, vaddr: int, data: bytes | bytearray | memoryview) -> None:
        """Write program memory (checked; recorded in the trace when tracing)."""
        self.memory.write(vaddr, data)
        if self.trace is not None:
            self.trace.syscall_memory(self.step, vaddr, bytes(data), write=True)

    def check(self, access: AccessType, vaddr: int, size: int) -> None:
        """Raise the access violation an access would raise, without touching memory."""
        self.memory.translate(access, vaddr, size)
