"""Solana's `InstructionError`: the reasons an instruction fails, with agave's messages and codes.

The variants, their order (the wire index) and their messages follow `solana-instruction-error`
(anza-xyz/solana-sdk, instruction-error/src/lib.rs); the 64-bit program return codes follow
`solana-program-error` (`to_builtin!(n)` is `n << 32`, a custom error is a non-zero low word).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class InstructionErrorKind(enum.Enum):
    """Every `InstructionError` variant; the value is the message agave prints for it."""

    GENERIC_ERROR = "generic instruction error"
    INVALID_ARGUMENT = "invalid program argument"
    INVALID_INSTRUCTION_DATA = "invalid instruction data"
    INVALID_ACCOUNT_DATA = "invalid account data for instruction"
    ACCOUNT_DATA_TOO_SMALL = "account data too small for instruction"
    INSUFFICIENT_FUNDS = "insufficient funds for instruction"
    INCORRECT_PROGRAM_ID = "incorrect program id for instruction"
    MISSING_REQUIRED_SIGNATURE = "missing required signature for instruction"
    ACCOUNT_ALREADY_INITIALIZED = "instruction requires an uninitialized account"
    UNINITIALIZED_ACCOUNT = "instruction requires an initialized account"
    UNBALANCED_INSTRUCTION = "sum of account balances before and after instruction do not match"
    MODIFIED_PROGRAM_ID = "instruction illegally modified the program id of an account"
    EXTERNAL_ACCOUNT_LAMPORT_SPEND = (
        "instruction spent from the balance of an account it does not own"
    )
    EXTERNAL_ACCOUNT_DATA_MODIFIED = "instruction modified data of an account it does not own"
    READONLY_LAMPORT_CHANGE = "instruction changed the balance of a read-only account"
    READONLY_DATA_MODIFIED = "instruction modified data of a read-only account"
    DUPLICATE_ACCOUNT_INDEX = "instruction contains duplicate accounts"
    EXECUTABLE_MODIFIED = "instruction changed executable bit of an account"
    RENT_EPOCH_MODIFIED = "instruction modified rent epoch of an account"
    NOT_ENOUGH_ACCOUNT_KEYS = "insufficient account keys for instruction"
    ACCOUNT_DATA_SIZE_CHANGED = (
        "program other than the account's owner changed the size of the account data"
    )
    ACCOUNT_NOT_EXECUTABLE = "instruction expected an executable account"
    ACCOUNT_BORROW_FAILED = (
        "instruction tries to borrow reference for an account which is already borrowed"
    )
    ACCOUNT_BORROW_OUTSTANDING = "instruction left account with an outstanding borrowed reference"
    DUPLICATE_ACCOUNT_OUT_OF_SYNC = "instruction modifications of multiply-passed account differ"
    CUSTOM = "custom program error"
    INVALID_ERROR = "program returned invalid error code"
    EXECUTABLE_DATA_MODIFIED = "instruction changed executable accounts data"
    EXECUTABLE_LAMPORT_CHANGE = "instruction changed the balance of an executable account"
    EXECUTABLE_ACCOUNT_NOT_RENT_EXEMPT = "executable accounts must be rent exempt"
    UNSUPPORTED_PROGRAM_ID = "Unsupported program id"
    CALL_DEPTH = "Cross-program invocation call depth too deep"
    MISSING_ACCOUNT = "An account required by the instruction is missing"
    REENTRANCY_NOT_ALLOWED = "Cross-program invocation reentrancy not allowed for this instruction"
    MAX_SEED_LENGTH_EXCEEDED = "Length of the seed is too long for address generation"
    INVALID_SEEDS = "Provided seeds do not result in a valid address"
    INVALID_REALLOC = "Failed to reallocate account data"
    COMPUTATIONAL_BUDGET_EXCEEDED = "Computational budget exceeded"
    PRIVILEGE_ESCALATION = "Cross-program invocation with unauthorized signer or writable account"
    PROGRAM_ENVIRONMENT_SETUP_FAILURE = "Failed to create program execution environment"
    PROGRAM_FAILED_TO_COMPLETE = "Program failed to complete"
    PROGRAM_FAILED_TO_COMPILE = "Program failed to compile"
    IMMUTABLE = "Account is immutable"
    INCORRECT_AUTHORITY = "Incorrect authority provided"
    BORSH_IO_ERROR = "Failed to serialize or deserialize account data"
    ACCOUNT_NOT_RENT_EXEMPT = "An account does not have enough lamports to be rent-exempt"
    INVALID_ACCOUNT_OWNER = "Invalid account owner"
    ARITHMETIC_OVERFLOW = "Program arithmetic overflowed"
    UNSUPPORTED_SYSVAR = "Unsupported sysvar"
    ILLEGAL_OWNER = "Provided owner is not allowed"
    MAX_ACCOUNTS_DATA_ALLOCATIONS_EXCEEDED = (
        "Accounts data allocations exceeded the maximum allowed per transaction"
    )
    MAX_ACCOUNTS_EXCEEDED = "Max accounts exceeded"
    MAX_INSTRUCTION_TRACE_LENGTH_EXCEEDED = "Max instruction trace length exceeded"
    BUILTIN_PROGRAMS_MUST_CONSUME_COMPUTE_UNITS = "Builtin programs must consume compute units"

    @property
    def rust_name(self) -> str:
        """The variant's name in Rust (`InvalidAccountData`), as RPC error objects spell it."""
        return "".join(part.capitalize() for part in self.name.split("_"))


@dataclass(frozen=True)
class InstructionError:
    """One instruction failure: the variant, and the code when it is `Custom`."""

    kind: InstructionErrorKind
    custom_code: int | None = None

    def __post_init__(self) -> None:
        if (self.kind is InstructionErrorKind.CUSTOM) != (self.custom_code is not None):
            raise ValueError("custom_code is given exactly for InstructionErrorKind.CUSTOM")
        if self.custom_code is not None and not 0 <= self.custom_code < 1 << 32:
            raise ValueError(f"custom error code {self.custom_code} is not a u32")

    @classmethod
    def custom(cls, code: int) -> InstructionError:
        """`Custom(code)`, a program-specific error."""
        return cls(InstructionErrorKind.CUSTOM, code)

    @property
    def message(self) -> str:
        """The text agave logs after "Program <id> failed: "."""
        if self.custom_code is not None:
            return f"custom program error: {self.custom_code:#x}"
        return self.kind.value

    def __str__(self) -> str:
        return self.message


_K = InstructionErrorKind

# ProgramError builtin codes (`to_builtin!(n)`, solana-program-error): n → variant.
# Code 1 is CUSTOM_ZERO, i.e. `Custom(0)`, handled in `from_return_code`.
_BUILTIN_CODES: dict[int, InstructionErrorKind] = {
    2: _K.INVALID_ARGUMENT,
    3: _K.INVALID_INSTRUCTION_DATA,
    4: _K.INVALID_ACCOUNT_DATA,
    5: _K.ACCOUNT_DATA_TOO_SMALL,
    6: _K.INSUFFICIENT_FUNDS,
    7: _K.INCORRECT_PROGRAM_ID,
    8: _K.MISSING_REQUIRED_SIGNATURE,
    9: _K.ACCOUNT_ALREADY_INITIALIZED,
    10: _K.UNINITIALIZED_ACCOUNT,
    11: _K.NOT_ENOUGH_ACCOUNT_KEYS,
    12: _K.ACCOUNT_BORROW_FAILED,
    13: _K.MAX_SEED_LENGTH_EXCEEDED,
    14: _K.INVALID_SEEDS,
    15: _K.BORSH_IO_ERROR,
    16: _K.ACCOUNT_NOT_RENT_EXEMPT,
    17: _K.UNSUPPORTED_SYSVAR,
    18: _K.ILLEGAL_OWNER,
    19: _K.MAX_ACCOUNTS_DATA_ALLOCATIONS_EXCEEDED,
    20: _K.INVALID_REALLOC,
    21: _K.MAX_INSTRUCTION_TRACE_LENGTH_EXCEEDED,
    22: _K.BUILTIN_PROGRAMS_MUST_CONSUME_COMPUTE_UNITS,
    23: _K.INVALID_ACCOUNT_OWNER,
    24: _K.ARITHMETIC_OVERFLOW,
    25: _K.IMMUTABLE,
    26: _K.INCORRECT_AUTHORITY,
}
_BUILTIN_BIT_SHIFT = 32


def from_return_code(code: int) -> InstructionError:
    """Map a program's non-zero r0 at exit to the error agave reports (`From<u64>`)."""
    if not 0 < code < 1 << 64:
        raise ValueError(f"{code} is not a non-zero u64 return code")
    if code == 1 << _BUILTIN_BIT_SHIFT:
        return InstructionError.custom(0)
    if code & 0xFFFF_FFFF == 0 and (code >> _BUILTIN_BIT_SHIFT) in _BUILTIN_CODES:
        return InstructionError(_BUILTIN_CODES[code >> _BUILTIN_BIT_SHIFT])
    if code >> _BUILTIN_BIT_SHIFT == 0:
        return InstructionError.custom(code)
    return InstructionError(_K.INVALID_ERROR)


def to_return_code(error: InstructionError) -> int:
    """Return the r0 a program exits with to report `error` (inverse of `from_return_code`)."""
    if error.custom_code is not None:
        return error.custom_code if error.custom_code else 1 << _BUILTIN_BIT_SHIFT
    for number, kind in _BUILTIN_CODES.items():
        if kind is error.kind:
            return number << _BUILTIN_BIT_SHIFT
    raise ValueError(f"{error.kind.rust_name} has no program return code")
