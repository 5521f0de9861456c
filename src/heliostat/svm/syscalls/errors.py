"""Errors a syscall raises to stop the program, worded as agave's `SyscallError` Display.

The interpreter wraps each in a `SyscallFault`; `heliostat.svm.instruction` then logs the
message ("Program <id> failed: <message>") and reports `ProgramFailedToComplete`, except for
`InstructionFailureError`, whose `InstructionError` becomes the instruction's error as in agave.
Source of the texts: agave syscalls/src/lib.rs (`SyscallError`), solana-pubkey (`PubkeyError`).
"""

from __future__ import annotations

from heliostat.svm.errors import SvmError
from heliostat.svm.instruction_error import InstructionError, InstructionErrorKind


class SyscallError(SvmError):
    """Base of the syscall layer's own failures."""

    reason = "syscall_error"


class InstructionFailureError(SyscallError):
    """A syscall failed with an `InstructionError` (agave: a boxed `InstructionError`)."""

    reason = "instruction_error"

    def __init__(self, error: InstructionError) -> None:
        super().__init__(error.message)
        self.error = error

    @classmethod
    def of(cls, kind: InstructionErrorKind) -> InstructionFailureError:
        """Build the failure for a variant without data."""
        return cls(InstructionError(kind))


class InvalidStringError(SyscallError):
    """Bytes passed as a string are not UTF-8: `<utf8 error>: <bytes as a Rust list>`."""

    reason = "invalid_string"

    def __init__(self, data: bytes) -> None:
        super().__init__(f"{rust_utf8_error(data)}: [{', '.join(str(b) for b in data)}]")
        self.data = data


class AbortError(SyscallError):
    """The program called `abort()`."""

    reason = "abort"

    def __init__(self) -> None:
        super().__init__("SBF program panicked")


class PanicError(SyscallError):
    """The program called `sol_panic_(file, len, line, column)`."""

    reason = "panic"

    def __init__(self, file: str, line: int, column: int) -> None:
        super().__init__(f"SBF program Panicked in {file} at {line}:{column}")
        self.file, self.line, self.column = file, line, column


class CopyOverlappingError(SyscallError):
    """`sol_memcpy_` on overlapping ranges, or two outputs of a syscall that overlap."""

    reason = "copy_overlapping"

    def __init__(self) -> None:
        super().__init__("Overlapping copy")


class UnalignedPointerError(SyscallError):
    """A pointer to a typed value (u64, i32, a slice descriptor) is not aligned for it."""

    reason = "unaligned_pointer"

    def __init__(self, address: int, alignment: int) -> None:
        super().__init__("Unaligned pointer")
        self.address, self.alignment = address, alignment


class InvalidLengthError(SyscallError):
    """A length that overflows when multiplied by its element size."""

    reason = "invalid_length"

    def __init__(self) -> None:
        super().__init__("InvalidLengthError")


class ReturnDataTooLargeError(SyscallError):
    """`sol_set_return_data` with more than 1024 bytes."""

    reason = "return_data_too_large"

    def __init__(self, length: int, limit: int) -> None:
        super().__init__(f"Return data too large ({length} > {limit})")
        self.length, self.limit = length, limit


class TooManySlicesError(SyscallError):
    """A hash syscall over more slices than the budget allows."""

    reason = "too_many_slices"

    def __init__(self) -> None:
        super().__init__("Hashing too many sequences")


class BadSeedsError(SyscallError):
    """Program-address seeds over the limits (more than 16 seeds or a seed over 32 bytes)."""

    reason = "bad_seeds"

    def __init__(self) -> None:
        # PubkeyError::MaxSeedLengthExceeded's Display
        super().__init__(
            "Could not create program address with signer seeds: "
            "Length of the seed is too long for address generation"
        )


class UnsupportedSyscallError(SyscallError):
    """A syscall Heliostat registers (so programs importing it load) but cannot run here."""

    reason = "unsupported_syscall"

    def __init__(self, name: str, why: str) -> None:
        super().__init__(f"syscall {name} is not supported: {why}")
        self.name = name


def rust_utf8_error(data: bytes) -> str:
    """Return the Display of Rust's `Utf8Error` for the first invalid sequence in `data`.

    Rust (core::str::from_utf8) reports `valid_up_to` and `error_len`: the length of the
    invalid sequence, or none when the input ends inside a sequence. Its rules differ from
    Python's decoder in corner cases, so they are spelled out here.
    """
    index = 0
    n = len(data)
    while index < n:
        first = data[index]
        if first < 0x80:
            index += 1
            continue
        width = 2 if 0xC2 <= first <= 0xDF else 3 if 0xE0 <= first <= 0xEF else 4
        if not 0xC2 <= first <= 0xF4:
            return _utf8_message(index, 1)
        second_ranges = {
            0xE0: (0xA0, 0xBF),
            0xED: (0x80, 0x9F),
            0xF0: (0x90, 0xBF),
            0xF4: (0x80, 0x8F),
        }
        low, high = second_ranges.get(first, (0x80, 0xBF))
        for position in range(1, width):
            if index + position >= n:
                return _utf8_message(index, None)
            byte = data[index + position]
            lo, hi = (low, high) if position == 1 else (0x80, 0xBF)
            if not lo <= byte <= hi:
                return _utf8_message(index, position)
        index += width
    raise ValueError("data is valid UTF-8")


def _utf8_message(valid_up_to: int, error_len: int | None) -> str:
    if error_len is None:
        return f"incomplete utf-8 byte sequence from index {valid_up_to}"
    return f"invalid utf-8 sequence of {error_len} bytes from index {valid_up_to}"
