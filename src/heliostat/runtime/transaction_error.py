"""Solana's `TransactionError`: every variant in wire order, its message and its RPC JSON shape.

Variants, order (the bincode index the kernel reports) and messages follow
`solana-transaction-error` (anza-xyz/solana-sdk transaction-error/src/lib.rs); the JSON shape
is serde's externally tagged form that the JSON-RPC API returns: a unit variant is its name
("BlockhashNotFound"), `InstructionError(i, e)` is {"InstructionError": [i, e]} where `e` is
the instruction error's own serde form ("InvalidArgument" or {"Custom": 1}),
`DuplicateInstruction(i)` is {"DuplicateInstruction": i}, and the struct variants are
{"InsufficientFundsForRent": {"account_index": i}}.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from heliostat.svm.instruction_error import InstructionError, InstructionErrorKind

TransactionErrorJson = str | dict[str, Any]

# (variant name, Display message) in wire order. "{index}" is filled for the variants with data.
VARIANTS: tuple[tuple[str, str], ...] = (
    ("AccountInUse", "Account in use"),
    ("AccountLoadedTwice", "Account loaded twice"),
    ("AccountNotFound", "Attempt to debit an account but found no record of a prior credit."),
    ("ProgramAccountNotFound", "Attempt to load a program that does not exist"),
    ("InsufficientFundsForFee", "Insufficient funds for fee"),
    ("InvalidAccountForFee", "This account may not be used to pay transaction fees"),
    ("AlreadyProcessed", "This transaction has already been processed"),
    ("BlockhashNotFound", "Blockhash not found"),
    ("InstructionError", "Error processing Instruction {index}: {error}"),
    ("CallChainTooDeep", "Loader call chain is too deep"),
    ("MissingSignatureForFee", "Transaction requires a fee but has no signature present"),
    ("InvalidAccountIndex", "Transaction contains an invalid account reference"),
    ("SignatureFailure", "Transaction did not pass signature verification"),
    ("InvalidProgramForExecution", "This program may not be used for executing instructions"),
    ("SanitizeFailure", "Transaction failed to sanitize accounts offsets correctly"),
    ("ClusterMaintenance", "Transactions are currently disabled due to cluster maintenance"),
    (
        "AccountBorrowOutstanding",
        "Transaction processing left an account with an outstanding borrowed reference",
    ),
    ("WouldExceedMaxBlockCostLimit", "Transaction would exceed max Block Cost Limit"),
    ("UnsupportedVersion", "Transaction version is unsupported"),
    ("InvalidWritableAccount", "Transaction loads a writable account that cannot be written"),
    (
        "WouldExceedMaxAccountCostLimit",
        "Transaction would exceed max account limit within the block",
    ),
    (
        "WouldExceedAccountDataBlockLimit",
        "Transaction would exceed account data limit within the block",
    ),
    ("TooManyAccountLocks", "Transaction locked too many accounts"),
    (
        "AddressLookupTableNotFound",
        "Transaction loads an address table account that doesn't exist",
    ),
    (
        "InvalidAddressLookupTableOwner",
        "Transaction loads an address table account with an invalid owner",
    ),
    (
        "InvalidAddressLookupTableData",
        "Transaction loads an address table account with invalid data",
    ),
    ("InvalidAddressLookupTableIndex", "Transaction address table lookup uses an invalid index"),
    (
        "InvalidRentPayingAccount",
        "Transaction leaves an account with a lower balance than rent-exempt minimum",
    ),
    ("WouldExceedMaxVoteCostLimit", "Transaction would exceed max Vote Cost Limit"),
    ("WouldExceedAccountDataTotalLimit", "Transaction would exceed total account data limit"),
    (
        "DuplicateInstruction",
        "Transaction contains a duplicate instruction ({index}) that is not allowed",
    ),
    (
        "InsufficientFundsForRent",
        "Transaction results in an account ({index}) with insufficient funds for rent",
    ),
    (
        "MaxLoadedAccountsDataSizeExceeded",
        "Transaction exceeded max loaded accounts data size cap",
    ),
    (
        "InvalidLoadedAccountsDataSizeLimit",
        "LoadedAccountsDataSizeLimit set for transaction must be greater than 0.",
    ),
    ("ResanitizationNeeded", "ResanitizationNeeded"),
    (
        "ProgramExecutionTemporarilyRestricted",
        "Execution of the program referenced by account at index {index} is temporarily "
        "restricted.",
    ),
    (
        "UnbalancedTransaction",
        "Sum of account balances before and after transaction do not match",
    ),
    ("ProgramCacheHitMaxLimit", "Program cache hit max limit"),
    ("CommitCancelled", "CommitCancelled"),
)
VARIANT_INDEX: dict[str, int] = {name: i for i, (name, _) in enumerate(VARIANTS)}
_WITH_INDEX = frozenset({"InstructionError", "DuplicateInstruction"})
_WITH_ACCOUNT = frozenset({"InsufficientFundsForRent", "ProgramExecutionTemporarilyRestricted"})
_INSTRUCTION_KINDS = tuple(InstructionErrorKind)


@dataclass(frozen=True)
class TransactionError:
    """One transaction failure.

    ``kind`` is the variant name (`VARIANTS`); ``index`` is the instruction index of
    `InstructionError` and `DuplicateInstruction`, or the account index of
    `InsufficientFundsForRent` and `ProgramExecutionTemporarilyRestricted`;
    ``instruction_error`` is set exactly for `InstructionError`.
    """

    kind: str
    index: int | None = None
    instruction_error: InstructionError | None = None

    def __post_init__(self) -> None:
        if self.kind not in VARIANT_INDEX:
            raise ValueError(f"unknown TransactionError variant {self.kind!r}")
        needs_index = self.kind in _WITH_INDEX or self.kind in _WITH_ACCOUNT
        if needs_index != (self.index is not None):
            raise ValueError(f"{self.kind} {'needs' if needs_index else 'takes no'} index")
        if (self.kind == "InstructionError") != (self.instruction_error is not None):
            raise ValueError("instruction_error is given exactly for InstructionError")

    @classmethod
    def instruction(cls, index: int, error: InstructionError) -> TransactionError:
        """`InstructionError(index, error)`."""
        return cls("InstructionError", index, error)

    @classmethod
    def from_codes(
        cls, variant: int, index: int = 0, instruction_kind: int = 0, custom: int = 0
    ) -> TransactionError:
        """Build from the kernel's numeric form (wire indices), validating every number."""
        if not 0 <= variant < len(VARIANTS):
            raise ValueError(f"TransactionError index {variant} out of range")
        name = VARIANTS[variant][0]
        if name == "InstructionError":
            if not 0 <= instruction_kind < len(_INSTRUCTION_KINDS):
                raise ValueError(f"InstructionError index {instruction_kind} out of range")
            kind = _INSTRUCTION_KINDS[instruction_kind]
            error = (
                InstructionError.custom(custom)
                if kind is InstructionErrorKind.CUSTOM
                else InstructionError(kind)
            )
            return cls(name, index, error)
        if name in _WITH_INDEX or name in _WITH_ACCOUNT:
            return cls(name, index)
        return cls(name)

    @property
    def code(self) -> int:
        """The variant's wire index."""
        return VARIANT_INDEX[self.kind]

    @property
    def message(self) -> str:
        """Return agave's Display text (what RPC error messages and logs print)."""
        template = VARIANTS[self.code][1]
        return template.format(index=self.index, error=self.instruction_error)

    @classmethod
    def from_json(cls, value: TransactionErrorJson) -> TransactionError:
        """Parse the JSON-RPC shape (the inverse of `to_json`); raises ValueError."""
        if isinstance(value, str):
            return cls(value)
        if not isinstance(value, dict) or len(value) != 1:
            raise ValueError(f"not a TransactionError: {value!r}")
        ((kind, detail),) = value.items()
        if kind == "InstructionError":
            if not isinstance(detail, list) or len(detail) != 2:
                raise ValueError(f"InstructionError needs [index, error]: {detail!r}")
            index, inner = detail
            if isinstance(inner, dict) and set(inner) == {"Custom"}:
                return cls.instruction(int(index), InstructionError.custom(int(inner["Custom"])))
            by_name = {k.rust_name: k for k in InstructionErrorKind}
            if not isinstance(inner, str) or inner not in by_name:
                raise ValueError(f"unknown InstructionError {inner!r}")
            return cls.instruction(int(index), InstructionError(by_name[inner]))
        if kind in _WITH_INDEX:
            return cls(kind, int(detail))
        if kind in _WITH_ACCOUNT and isinstance(detail, dict):
            return cls(kind, int(detail["account_index"]))
        raise ValueError(f"not a TransactionError: {value!r}")

    def to_json(self) -> TransactionErrorJson:
        """Return the serde JSON form the JSON-RPC API returns."""
        if self.instruction_error is not None:
            inner = self.instruction_error
            detail: TransactionErrorJson = (
                {"Custom": inner.custom_code}
                if inner.custom_code is not None
                else inner.kind.rust_name
            )
            return {self.kind: [self.index, detail]}
        if self.kind in _WITH_INDEX:
            return {self.kind: self.index}
        if self.kind in _WITH_ACCOUNT:
            return {self.kind: {"account_index": self.index}}
        return self.kind

    def __str__(self) -> str:
        return self.message
