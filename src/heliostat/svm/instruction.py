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
        pool = self._memory_pool
        for index, memory in enumerate(pool):
            if len(memory.input) == len(input_data) and len(memory.heap) == heap_size:
                del pool[index]
                memory.reset(input_data)
                return memory
        return MemoryMap.for_executable(self.executable, input_data, heap_size)

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


@dataclass(frozen=True)
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
    metas = [(meta.pubkey, meta.is_signer, meta.is_writable) for meta in instruction.accounts]
    privileges: dict[Pubkey, tuple[bool, bool]] = {}
    for key, is_signer, is_writable in metas:
        signer, writable = privileges.get(key, (False, False))
        privileges[key] = (signer or is_signer, writable or is_writable)
    program_id = instruction.program_id
    entries: list[abi.InputAccount] = []
    first_position: dict[Pubkey, int] = {}
    for position, (key, _, _) in enumerate(metas):
        if key in first_position:
            entries.append(abi.DuplicateAccount(first_position[key]))
            continue
        first_position[key] = position
        signer, writable = privileges[key]
        state = accounts.get(key) or Account(0, b"", SYSTEM_PROGRAM_ID, False, 0)
        entries.append(abi.SerializedAccount(key, signer, writable and key != program_id, state))
    return entries


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
    if instruction.program_id != program.program_id:
        raise ProgramLoadError(
            f"instruction is for {instruction.program_id}, program is {program.program_id}"
        )
    program_id = program.program_id
    if host.program_id != program_id:
        raise ProgramLoadError(f"host runs {host.program_id}, instruction is for {program_id}")
    logs = host.logs
    first_line = len(logs.messages)
    entries = instruction_accounts(instruction, accounts)
    distinct = [entry for entry in entries if isinstance(entry, abi.SerializedAccount)]
    pre_state = {account.key: account.account for account in distinct}

    def finish(
        error: InstructionError | None,
        consumed: int,
        post: Mapping[Pubkey, Account] | None = None,
        execution: ExecutionResult | None = None,
    ) -> InstructionResult:
        return InstructionResult(
            error=error,
            logs=list(logs.messages[first_line:]),
            compute_units_consumed=consumed,
            return_data=host.return_data(),
            accounts=dict(post if post is not None and error is None else pre_state),
            execution=execution,
        )

    host.set_return_data(program_id, b"")
    log_collector.program_invoke(logs, program.name, host.stack_height())
    try:
        serialized = abi.serialize(entries, bytes(instruction.data), program_id)
    except abi.AbiError:
        too_many = InstructionError(_K.MAX_ACCOUNTS_EXCEEDED)
        log_collector.program_failure(logs, program.name, too_many)
        return finish(too_many, 0)
    setup_cost = heap_cost(heap_size)
    if setup_cost > compute_budget:
        exhausted = InstructionError(_K.COMPUTATIONAL_BUDGET_EXCEEDED)
        log_collector.program_failure(logs, program.name, exhausted)
        return finish(exhausted, compute_budget)

    memory = program.acquire_memory(serialized.buffer, heap_size)
    try:
        execution = run(
            program.executable,
            memory,
            host,
            compute_budget - setup_cost,
            trace=trace,
            fast=fast,
            registers={2: serialized.instruction_data_address},
        )
        input_after = memory.input_bytes()
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
    post: dict[Pubkey, Account] | None = None
    if execution.fault is None:
        if execution.r0:
            error = from_return_code(execution.r0)
        else:
            try:
                post = write_back(distinct, serialized, input_after, program_id)
            except InstructionFailureError as exc:
                error = exc.error
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
        return finish(error, consumed, execution=execution)
    log_collector.program_success(logs, program.name)
    post = post if post is not None else pre_state
    if sum(a.lamports for a in post.values()) != sum(a.lamports for a in pre_state.values()):
        return finish(InstructionError(_K.UNBALANCED_INSTRUCTION), consumed, execution=execution)
    return finish(None, consumed, post, execution)


def write_back(
    accounts: Sequence[abi.SerializedAccount],
    serialized: abi.SerializedInput,
    buffer: bytes,
    program_id: Pubkey,
) -> dict[Pubkey, Account]:
    """Apply what the program left in its input to the accounts, with agave's checks.

    Per account, in order: lamports (`set_lamports`), data length and bytes
    (`can_data_be_resized`, `set_data_from_slice`), then owner (`set_owner`, last so that a
    program may empty an account before giving it away). Raises `InstructionFailureError`.
    """
    post: dict[Pubkey, Account] = {}
    before = serialized.buffer
    for account, layout in zip(accounts, serialized.layouts, strict=True):
        state = account.account
        # Each field is compared with what was serialized first: agave's setters only act,
        # and only check, on a difference, and most instructions leave most fields alone.
        data_end = layout.data + layout.original_data_len
        if buffer[layout.owner : data_end] == before[layout.owner : data_end]:
            post[account.key] = state
            continue
        lamports, data, owner = state.lamports, state.data, state.owner
        owned = owner == program_id
        if buffer[layout.lamports : layout.data_len] != before[layout.lamports : layout.data_len]:
            new_lamports = abi.read_lamports(buffer, layout)
            if not owned and new_lamports < lamports:
                raise InstructionFailureError.of(_K.EXTERNAL_ACCOUNT_LAMPORT_SPEND)
            if not account.is_writable:
                raise InstructionFailureError.of(_K.READONLY_LAMPORT_CHANGE)
            lamports = new_lamports
        if buffer[layout.data_len : data_end] != before[layout.data_len : data_end]:
            new_len = abi.read_data_length(buffer, layout)
            if new_len - layout.original_data_len > MAX_PERMITTED_DATA_INCREASE or (
                new_len > MAX_PERMITTED_DATA_LENGTH
            ):
                raise InstructionFailureError.of(_K.INVALID_REALLOC)
            new_data = abi.read_data(buffer, layout, new_len)
            resize_error = _resize_error(account, owned, len(data), new_len)
            if resize_error is None:
                data = new_data
            elif new_data != data:
                raise InstructionFailureError.of(resize_error)
        if buffer[layout.owner : layout.lamports] != before[layout.owner : layout.lamports]:
            if not owned or not account.is_writable or any(data):
                raise InstructionFailureError.of(_K.MODIFIED_PROGRAM_ID)
            owner = abi.read_owner(buffer, layout)
        post[account.key] = Account(lamports, data, owner, state.executable, state.rent_epoch)
    return post


def _resize_error(
    account: abi.SerializedAccount, owned: bool, old_len: int, new_len: int
) -> InstructionErrorKind | None:
    """`BorrowedAccount::can_data_be_resized`, or None when the data may be replaced.

    The transaction-wide growth cap (20 MiB) cannot be reached by one instruction: at most
    255 accounts may each grow by 10 KiB.
    """
    if new_len != old_len and not owned:
        return _K.ACCOUNT_DATA_SIZE_CHANGED
    if not account.is_writable:
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
