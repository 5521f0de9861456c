"""Execute one program instruction the way agave's BPF loader does.

The steps and their order follow agave 4.1 (program-runtime invoke_context.rs
`process_executable_chain`, bpf_loader lib.rs `execute`, program-runtime serialization.rs
`deserialize_parameters_for_abiv1`, transaction-context instruction_accounts.rs):

1. clear the return data, log "Program <id> invoke [<height>]";
2. serialize the accounts and instruction data (ABI v1) and run the program with r1 = input,
   r2 = instruction data (SIMD-0321);
3. log "Program <id> consumed <n> of <budget> compute units" and any return data;
4. map the outcome: a non-zero r0 is a program error (`Custom(n)` or a builtin code); a
   syscall failure carries its own error (or `ProgramFailedToComplete` with the syscall's
   message); any other VM fault is `ProgramFailedToComplete` with the fault's message and, as
   `deplete_cu_meter_on_vm_failure` demands, consumes the rest of the budget;
5. write the accounts back with the `BorrowedAccount` rules (lamports, data with realloc
   limits, owner), which can fail the instruction after a clean exit;
6. log "... success" or "... failed: <error>"; then the lamport sum of the instruction's
   accounts must be unchanged (`UnbalancedInstruction`, raised after "success" is logged).

The rent-state rule that agave applies per transaction is offered as `rent_state_violations`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from solders.account import Account
from solders.instruction import Instruction
from solders.pubkey import Pubkey

from heliostat.svm import abi, log_collector
from heliostat.svm.errors import ComputeBudgetExceeded, SvmError, SyscallFault
from heliostat.svm.executable import Executable
from heliostat.svm.host import InvocationHost
from heliostat.svm.instruction_error import InstructionError, InstructionErrorKind, from_return_code
from heliostat.svm.memory import MemoryMap
from heliostat.svm.programs import BPF_LOADER_2_ID, BPF_LOADER_UPGRADEABLE_ID
from heliostat.svm.syscall_api import SyscallRegistry
from heliostat.svm.syscalls.costs import (
    DEFAULT_BUDGET,
    DEFAULT_INSTRUCTION_COMPUTE_UNIT_LIMIT,
    MAX_PERMITTED_DATA_INCREASE,
    MAX_PERMITTED_DATA_LENGTH,
    heap_cost,
)
from heliostat.svm.syscalls.errors import InstructionFailureError
from heliostat.svm.vm import ExecutionResult, run

SYSTEM_PROGRAM_ID = Pubkey.from_string("11111111111111111111111111111111")
_ABI_V1_LOADERS = (BPF_LOADER_2_ID, BPF_LOADER_UPGRADEABLE_ID)
_MEMORY_POOL_SIZE = 4
# What the accounts loader hands out for a key without state (solders accounts are immutable,
# so one object serves every instruction).
_NEW_ACCOUNT = Account(0, b"", SYSTEM_PROGRAM_ID, False, 0)
_K = InstructionErrorKind


class ProgramLoadError(SvmError):
    """A program that cannot be executed here (wrong loader, ELF rejected)."""

    reason = "program_load_error"


@dataclass(frozen=True)
class LoadedProgram:
    """A program ready to run: its id, its loader (which fixes the input ABI) and its code."""

    program_id: Pubkey
    loader_id: Pubkey
    executable: Executable
    name: str = field(init=False)  # base58 program id, for the log lines
    # Memory maps of finished runs, reused like agave's VmMemoryPool reuses stacks and heaps
    # (allocating and zeroing a fresh 256 KiB stack costs more than resetting one).
    _memory_pool: list[MemoryMap] = field(
        init=False, default_factory=list, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", str(self.program_id))

    def acquire_memory(self, input_data: bytes, heap_size: int) -> MemoryMap:
        """Return fresh memory for one run over `input_data`: a pooled map, reset, or a new one."""
        memory = self._take_pooled(len(input_data), heap_size)
        if memory is None:
            return MemoryMap.for_executable(self.executable, input_data, heap_size)
        memory.reset()
        # The same length (the pool matched it): a memoryview copy costs half of numpy's.
        memory.input.data[:] = input_data
        return memory

    def acquire_blank_memory(self, input_size: int, heap_size: int) -> MemoryMap:
        """Like `acquire_memory`, for an input of `input_size` bytes the caller overwrites."""
        memory = self._take_pooled(input_size, heap_size)
        if memory is None:
            return MemoryMap.for_executable(self.executable, bytes(input_size), heap_size)
        memory.reset()
        return memory

    def _take_pooled(self, input_size: int, heap_size: int) -> MemoryMap | None:
        pool = self._memory_pool
        for index, memory in enumerate(pool):
            # heap_size, not len(memory.heap): the `heap` property marks the heap all written
            if len(memory.input) == input_size and memory.heap_size == heap_size:
                del pool[index]
                return memory
        return None

    def release_memory(self, memory: MemoryMap) -> None:
        """Give a run's memory back for reuse once nothing reads it any more."""
        if len(self._memory_pool) < _MEMORY_POOL_SIZE:
            self._memory_pool.append(memory)

    @classmethod
    def load(
        cls, program_id: Pubkey, elf: bytes, loader_id: Pubkey, registry: SyscallRegistry
    ) -> LoadedProgram:
        """Load an ELF as agave does when executing an already deployed program."""
        from heliostat.svm.elf import load_elf

        if loader_id not in _ABI_V1_LOADERS:
            raise ProgramLoadError(f"loader {loader_id} is not BPFLoader2 or upgradeable")
        return cls(program_id, loader_id, load_elf(elf, registry, reject_broken_elfs=False))


@dataclass(frozen=True, init=False)
class InstructionResult:
    """What one instruction did.

    ``compute_units_consumed`` is what the transaction is charged (LiteSVM's
    `compute_units_consumed()`): after a VM fault it is the whole budget, while the
    "consumed" log line shows what ran. ``accounts`` holds the post-state of every
    instruction account (equal to the pre-state when the instruction failed).
    """

    error: InstructionError | None
    logs: list[str]
    compute_units_consumed: int
    return_data: tuple[Pubkey, bytes]
    accounts: dict[Pubkey, Account]
    execution: ExecutionResult | None = field(default=None, compare=False, repr=False)

    def __init__(
        self,
        error: InstructionError | None,
        logs: list[str],
        compute_units_consumed: int,
        return_data: tuple[Pubkey, bytes],
        accounts: dict[Pubkey, Account],
        execution: ExecutionResult | None = None,
    ) -> None:
        # The generated __init__ of a frozen dataclass sets each field through
        # object.__setattr__; one __dict__ update costs half as much (one result per
        # instruction is on the hot path). The instance stays frozen.
        self.__dict__.update(
            error=error,
            logs=logs,
            compute_units_consumed=compute_units_consumed,
            return_data=return_data,
            accounts=accounts,
            execution=execution,
        )

    @property
    def ok(self) -> bool:
        """Whether the instruction succeeded."""
        return self.error is None


def instruction_accounts(
    instruction: Instruction, accounts: Mapping[Pubkey, Account]
) -> list[abi.InputAccount]:
    """Return the ABI entries of an instruction's accounts.

    A key listed twice is serialized once and then as a duplicate marker; its privileges are
    the union over all its metas, as a compiled message gives them. A key with no state is a
    new, empty system account (what the accounts loader hands out). The invoked program's
    own key is never writable (a message demotes it).
    """
    distinct, originals = _resolve_accounts(instruction, accounts)
    firsts = iter(distinct)
    return [
        abi.SerializedAccount(*next(firsts)) if original == position
        else abi.DuplicateAccount(original)
        for position, original in enumerate(originals)
    ]  # fmt: skip


def _resolve_accounts(
    instruction: Instruction, accounts: Mapping[Pubkey, Account]
) -> tuple[list[abi.AccountEntry], list[int]]:
    """`instruction_accounts` for the hot path, as plain tuples.

    Returns the distinct accounts in order of first use, and per instruction account the
    position of the first occurrence of its key (its own position for a first occurrence).
    """
    program_id = instruction.program_id
    originals: list[int] = []
    # key -> [position of its first meta, is_signer, is_writable]; dicts keep insertion order
    merged: dict[Pubkey, list[Any]] = {}
    for position, meta in enumerate(instruction.accounts):
        key = meta.pubkey
        first = merged.get(key)
        if first is None:
            merged[key] = [position, meta.is_signer, meta.is_writable]
            originals.append(position)
        else:
            first[1] = first[1] or meta.is_signer
            first[2] = first[2] or meta.is_writable
            originals.append(first[0])
    distinct: list[abi.AccountEntry] = []
    for key, (_, is_signer, is_writable) in merged.items():
        state = accounts.get(key)
        if state is None:
            state = _NEW_ACCOUNT
        distinct.append((key, is_signer, is_writable and key != program_id, state))
    return distinct, originals


def execute_instruction(
    program: LoadedProgram,
    instruction: Instruction,
    accounts: Mapping[Pubkey, Account],
    host: InvocationHost,
    *,
    compute_budget: int = DEFAULT_INSTRUCTION_COMPUTE_UNIT_LIMIT,
    heap_size: int = DEFAULT_BUDGET.heap_size,
    fast: bool = True,
    trace: bool = False,
) -> InstructionResult:
    """Run `instruction` (whose program is `program`) over `accounts` with `host`.

    `accounts` holds the pre-state of the instruction's accounts; logs go to `host.logs`
    (the result also carries the lines this instruction added).
    """
    program_id = program.program_id
    if instruction.program_id != program_id:
        raise ProgramLoadError(
            f"instruction is for {instruction.program_id}, program is {program_id}"
        )
    if host.program_id != program_id:
        raise ProgramLoadError(f"host runs {host.program_id}, instruction is for {program_id}")
    logs = host.logs
    first_line = len(logs.messages)
    distinct, originals = _resolve_accounts(instruction, accounts)

    host.set_return_data(program_id, b"")
    log_collector.program_invoke(logs, program.name, host.stack_height())
    try:
        plan, values = abi.prepare_input(originals, distinct, bytes(instruction.data), program_id)
    except abi.AbiError:
        too_many = InstructionError(_K.MAX_ACCOUNTS_EXCEEDED)
        log_collector.program_failure(logs, program.name, too_many)
        return _result(host, first_line, distinct, too_many, 0, None, None)
    setup_cost = heap_cost(heap_size)
    if setup_cost > compute_budget:
        exhausted = InstructionError(_K.COMPUTATIONAL_BUDGET_EXCEEDED)
        log_collector.program_failure(logs, program.name, exhausted)
        return _result(host, first_line, distinct, exhausted, compute_budget, None, None)

    # Serialize straight into a pooled map's input (`pack_into` zeroes the padding) and read
    # the write-back from it in place before the map returns to the pool: the (10 KiB per
    # account) input is never copied. Only the fields a program may change are kept aside.
    memory = program.acquire_blank_memory(plan.struct.size, heap_size)
    write_back_error: InstructionError | None = None
    post: dict[Pubkey, Account] | None = None
    lamports_change = 0
    try:
        input_view = memory.input.data
        plan.struct.pack_into(input_view, 0, *values)
        serialized_fields = [bytes(input_view[start:end]) for start, end in plan.slots]
        execution = run(
            program.executable,
            memory,
            host,
            compute_budget - setup_cost,
            trace=trace,
            fast=fast,
            registers={2: plan.instruction_data_address},
        )
        if execution.fault is None and not execution.r0:
            try:
                post, lamports_change = _write_back(
                    distinct, plan.layouts, plan.slots, serialized_fields, input_view, program_id
                )
            except InstructionFailureError as exc:
                write_back_error = exc.error
    finally:
        program.release_memory(memory)
    log_collector.program_consumed(
        logs, program.name, execution.compute_units_consumed, compute_budget
    )
    _, returned = host.return_data()
    if returned:
        log_collector.program_return(logs, program.name, returned)

    consumed = setup_cost + execution.compute_units_consumed
    failure: object | None = None  # what "failed: ..." prints
    error: InstructionError | None = None
    if execution.fault is None:
        error = from_return_code(execution.r0) if execution.r0 else write_back_error
        failure = error
    elif isinstance(execution.fault, SyscallFault):
        cause = execution.fault.cause
        if isinstance(cause, InstructionFailureError):
            error = failure = cause.error
        elif isinstance(cause, ComputeBudgetExceeded):
            error = failure = InstructionError(_K.COMPUTATIONAL_BUDGET_EXCEEDED)
        else:
            error, failure = InstructionError(_K.PROGRAM_FAILED_TO_COMPLETE), cause
    else:
        # deplete_cu_meter_on_vm_failure: the transaction pays the whole budget
        consumed = compute_budget
        error, failure = InstructionError(_K.PROGRAM_FAILED_TO_COMPLETE), execution.fault

    if error is not None:
        log_collector.program_failure(logs, program.name, failure)
        return _result(host, first_line, distinct, error, consumed, None, execution)
    log_collector.program_success(logs, program.name)
    if lamports_change:  # the lamport sum of the instruction's accounts changed
        unbalanced = InstructionError(_K.UNBALANCED_INSTRUCTION)
        return _result(host, first_line, distinct, unbalanced, consumed, None, execution)
    return _result(host, first_line, distinct, None, consumed, post, execution)


def _result(
    host: InvocationHost,
    first_line: int,
    distinct: Sequence[abi.AccountEntry],
    error: InstructionError | None,
    consumed: int,
    post: dict[Pubkey, Account] | None,
    execution: ExecutionResult | None,
) -> InstructionResult:
    """Build the result of an instruction whose log lines start at `first_line`."""
    if post is None or error is not None:  # a failed instruction changes nothing
        post = {key: state for key, _, _, state in distinct}
    return InstructionResult(
        error, host.logs.messages[first_line:], consumed, host.return_data(), post, execution
    )


def write_back(
    accounts: Sequence[abi.SerializedAccount],
    serialized: abi.SerializedInput,
    buffer: bytes | memoryview,
    program_id: Pubkey,
) -> dict[Pubkey, Account]:
    """Apply what the program left in its input to the accounts, with agave's checks.

    Per account, in order: lamports (`set_lamports`), data length and bytes
    (`can_data_be_resized`, `set_data_from_slice`), then owner (`set_owner`, last so that a
    program may empty an account before giving it away). Raises `InstructionFailureError`.
    """
    layouts = serialized.layouts
    slots = abi.account_slots(layouts)
    fields = [serialized.buffer[start:end] for start, end in slots]
    post, _ = _write_back(accounts, layouts, slots, fields, buffer, program_id)
    return post


def _write_back(
    accounts: Sequence[abi.AccountEntry],
    layouts: Sequence[abi.AccountLayout],
    slots: Sequence[abi.AccountSlot],
    serialized_fields: Sequence[bytes],
    buffer: bytes | memoryview,
    program_id: Pubkey,
) -> tuple[dict[Pubkey, Account], int]:
    """`write_back` given each account's serialized slot bytes; also returns the lamport change.

    `buffer` may be a view of the VM's input region: nothing returned refers to it.
    """
    post: dict[Pubkey, Account] = {}
    lamports_change = 0
    for (key, _, is_writable, state), layout, (start, end), before in zip(
        accounts, layouts, slots, serialized_fields, strict=True
    ):
        # Each field is compared with what was serialized first: agave's setters only act,
        # and only check, on a difference, and most instructions leave most fields alone.
        # The fields are copied out once: bytes compare with memcmp, a memoryview byte by byte.
        after = bytes(buffer[start:end])
        if after == before:
            post[key] = state
            continue
        lamports, data, owner = state.lamports, state.data, state.owner
        owned = owner == program_id
        new_lamports, new_len = abi.LAMPORTS_AND_LENGTH.unpack_from(after, abi.FIELDS_LAMPORTS)
        if new_lamports != lamports:
            if not owned and new_lamports < lamports:
                raise InstructionFailureError.of(_K.EXTERNAL_ACCOUNT_LAMPORT_SPEND)
            if not is_writable:
                raise InstructionFailureError.of(_K.READONLY_LAMPORT_CHANGE)
            lamports_change += new_lamports - lamports
            lamports = new_lamports
        old_len = len(data)
        new_data = after[abi.FIELDS_DATA :]  # the new data, if its length did not change
        if new_len != old_len or new_data != data:
            if (
                new_len - old_len > MAX_PERMITTED_DATA_INCREASE
                or new_len > MAX_PERMITTED_DATA_LENGTH
            ):
                raise InstructionFailureError.of(_K.INVALID_REALLOC)
            if new_len != old_len:
                new_data = abi.read_data(buffer, layout, new_len)
            resize_error = _resize_error(is_writable, owned, old_len, new_len)
            if resize_error is None:
                data = new_data
            elif new_data != data:
                raise InstructionFailureError.of(resize_error)
        if after[: abi.FIELDS_LAMPORTS] != before[: abi.FIELDS_LAMPORTS]:
            if not owned or not is_writable or any(data):
                raise InstructionFailureError.of(_K.MODIFIED_PROGRAM_ID)
            owner = abi.read_owner(buffer, layout)
        post[key] = Account(lamports, data, owner, state.executable, state.rent_epoch)
    return post, lamports_change


def _resize_error(
    is_writable: bool, owned: bool, old_len: int, new_len: int
) -> InstructionErrorKind | None:
    """`BorrowedAccount::can_data_be_resized`, or None when the data may be replaced.

    The transaction-wide growth cap (20 MiB) cannot be reached by one instruction: at most
    255 accounts may each grow by 10 KiB.
    """
    if new_len != old_len and not owned:
        return _K.ACCOUNT_DATA_SIZE_CHANGED
    if not is_writable:
        return _K.READONLY_DATA_MODIFIED
    if not owned:
        return _K.EXTERNAL_ACCOUNT_DATA_MODIFIED
    return None


def rent_state_violations(
    pre: Mapping[Pubkey, Account],
    post: Mapping[Pubkey, Account],
    writable: Sequence[Pubkey],
    minimum_balance: Callable[[int], int],
) -> list[Pubkey]:
    """Writable accounts whose rent state changed illegally (agave `check_rent_state`).

    `minimum_balance(data_len)` is the rent-exempt minimum. An account may end uninitialized
    (0 lamports) or rent-exempt; it may stay rent-paying only if it was rent-paying with the
    same data size and did not gain lamports.
    """
    violations = []
    for key in writable:
        after = post[key]
        if after.lamports == 0 or after.lamports >= minimum_balance(len(after.data)):
            continue
        before = pre.get(key)
        if (
            before is not None
            and 0 < before.lamports < minimum_balance(len(before.data))
            and len(before.data) == len(after.data)
            and after.lamports <= before.lamports
        ):
            continue
        violations.append(key)
    return violations
