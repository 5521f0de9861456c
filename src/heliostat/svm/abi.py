"""Program input ABI v1: the bytes a BPFLoader2/upgradeable program finds at 0x4_0000_0000.

Layout of agave's `serialize_parameters_for_abiv1` (program-runtime serialization.rs) as
configured on mainnet today (`stricter_abi_and_runtime_constraints` and
`account_data_direct_mapping` off, `mask_out_rent_epoch_in_vm_serialization` on):

    u64 number of accounts
    per account, either a duplicate:  u8 index of the first occurrence, 7 bytes of padding
    or the account itself:           u8 0xFF, u8 is_signer, u8 is_writable, u8 executable,
                                     4 zero bytes, key[32], owner[32], u64 lamports,
                                     u64 data length, data, 10 KiB of zeros (realloc room),
                                     zeros up to a multiple of 8, u64 rent epoch (u64::MAX)
    u64 instruction data length, instruction data, program id[32]

All integers little-endian. Everything but the values depends only on the input's shape
(duplicates, data lengths, instruction data length): `input_plan` turns a shape into one
`struct.Struct` for the whole input, once, so that serializing is a single pack (into the
VM's memory on the execution path). The `read_*` functions read back what a program may
change (lamports, data length and bytes, owner) for the write-back after execution.
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Sequence
from typing import NamedTuple

from solders.account import Account
from solders.pubkey import Pubkey

from heliostat.svm.syscalls.costs import MAX_PERMITTED_DATA_INCREASE

INPUT_START = 0x4_0000_0000
NON_DUP_MARKER = 0xFF
# solana-program-entrypoint BPF_ALIGN_OF_U128: account data is padded to this alignment.
BPF_ALIGN_OF_U128 = 8
# A masked rent epoch: programs always see u64::MAX (mask_out_rent_epoch_in_vm_serialization).
SERIALIZED_RENT_EPOCH = (1 << 64) - 1
# MAX_ACCOUNTS_PER_INSTRUCTION (solana-transaction-context).
MAX_ACCOUNTS_PER_INSTRUCTION = 255

_U64 = struct.Struct("<Q")
# lamports and data length, at FIELDS_LAMPORTS in the bytes of an `AccountSlot`
LAMPORTS_AND_LENGTH = struct.Struct("<QQ")
_ACCOUNT_HEADER = 8  # marker, signer, writable, executable, 4 bytes padding
_KEY_OFFSET = _ACCOUNT_HEADER
_OWNER_OFFSET = _KEY_OFFSET + 32
_LAMPORTS_OFFSET = _OWNER_OFFSET + 32
_DATA_LEN_OFFSET = _LAMPORTS_OFFSET + 8
_DATA_OFFSET = _DATA_LEN_OFFSET + 8
# Offsets inside an `AccountSlot` (which starts at the owner).
FIELDS_LAMPORTS = _LAMPORTS_OFFSET - _OWNER_OFFSET
FIELDS_DATA = _DATA_OFFSET - _OWNER_OFFSET


class SerializedAccount(NamedTuple):
    """One instruction account as the program sees it (a first occurrence)."""

    key: Pubkey
    is_signer: bool
    is_writable: bool
    account: Account


class DuplicateAccount(NamedTuple):
    """A repeated instruction account: `position` is the index of its first occurrence."""

    position: int


InputAccount = SerializedAccount | DuplicateAccount
# A first occurrence as a plain tuple (key, is_signer, is_writable, account): what
# `SerializedAccount` is, without the NamedTuple's construction cost (for the hot path).
AccountEntry = tuple[Pubkey, bool, bool, Account]


class AccountLayout(NamedTuple):
    """Where one serialized account's fields lie in the input, as byte offsets."""

    key: int
    owner: int
    lamports: int
    data_len: int
    data: int
    original_data_len: int


class SerializedInput(NamedTuple):
    """The serialized input and what execution and write-back need to know about it."""

    buffer: bytes
    layouts: tuple[AccountLayout, ...]  # one per distinct account, in order of first use
    instruction_data_offset: int

    @property
    def instruction_data_address(self) -> int:
        """Virtual address of the instruction data: r2 at entry (SIMD-0321, active)."""
        return INPUT_START + self.instruction_data_offset


# Per first occurrence: start and end of its owner, lamports, data length and data (what a
# program may change). A plain tuple, not a NamedTuple: the write-back loop unpacks it, and
# unpacking is fast only for exact tuples.
AccountSlot = tuple[int, int]


def account_slots(layouts: Sequence[AccountLayout]) -> tuple[AccountSlot, ...]:
    """Return the `AccountSlot` of each layout."""
    return tuple((layout.owner, layout.data + layout.original_data_len) for layout in layouts)


class InputPlan(NamedTuple):
    """One input shape (duplicates, data lengths, instruction data length), laid out once.

    ``struct`` is a `struct.Struct` whose format is the whole input of this shape, so that
    serializing is a single `pack` of the accounts' values; its pad bytes (the realloc room
    and alignment) come out zero. `input_plan` caches plans by shape.
    """

    struct: struct.Struct
    layouts: tuple[AccountLayout, ...]
    slots: tuple[AccountSlot, ...]  # the layouts as the write-back loop reads them
    instruction_data_offset: int

    @property
    def instruction_data_address(self) -> int:
        """Virtual address of the instruction data: r2 at entry (SIMD-0321, active)."""
        return INPUT_START + self.instruction_data_offset


class AbiError(ValueError):
    """The input cannot be serialized (too many accounts, a bad duplicate index)."""


def _padding(length: int) -> int:
    return -length % BPF_ALIGN_OF_U128


@functools.lru_cache(maxsize=256)
def input_plan(
    originals: tuple[int, ...], data_lengths: tuple[int, ...], instruction_data_len: int
) -> InputPlan:
    """Lay out an input (see the module docstring for the format).

    ``originals`` has one entry per instruction account: its own position for a first
    occurrence, else the position of the first occurrence it repeats. ``data_lengths`` gives
    the data length of each first occurrence, in order.
    """
    if len(originals) > MAX_ACCOUNTS_PER_INSTRUCTION:
        raise AbiError(
            f"{len(originals)} instruction accounts, at most {MAX_ACCOUNTS_PER_INSTRUCTION}"
        )
    formats = ["<Q"]  # the account count
    offset = 8
    layouts: list[AccountLayout] = []
    for position, original in enumerate(originals):
        if original != position:
            if not 0 <= original < position or originals[original] != original:
                raise AbiError(f"account {position} duplicates {original}, not an original")
            formats.append("B7x")  # index of the first occurrence, padding
            offset += 8
            continue
        if len(layouts) == len(data_lengths):
            raise AbiError(f"{len(data_lengths)} data lengths for more first occurrences")
        length = data_lengths[len(layouts)]
        room = MAX_PERMITTED_DATA_INCREASE + _padding(length)
        # marker, signer, writable, executable, padding, key, owner, lamports, data length,
        # data, realloc room and alignment, rent epoch
        formats.append(f"4B4x32s32sQQ{length}s{room}xQ")
        data_at = offset + _DATA_OFFSET
        layouts.append(AccountLayout(offset + _KEY_OFFSET, offset + _OWNER_OFFSET,
                                     offset + _LAMPORTS_OFFSET, offset + _DATA_LEN_OFFSET,
                                     data_at, length))  # fmt: skip
        offset = data_at + length + room + 8  # after the rent epoch
    if len(layouts) != len(data_lengths):
        raise AbiError(f"{len(data_lengths)} data lengths for {len(layouts)} first occurrences")
    formats.append(f"Q{instruction_data_len}s32s")  # instruction data length, data, program id
    return InputPlan(struct.Struct("".join(formats)), tuple(layouts), account_slots(layouts),
                     offset + 8)  # fmt: skip


def prepare_input(
    originals: Sequence[int],
    accounts: Sequence[AccountEntry],
    instruction_data: bytes,
    program_id: Pubkey,
) -> tuple[InputPlan, list[object]]:
    """Return the plan of an input and the values its `struct` packs into the input bytes.

    ``originals`` tells the duplicates (see `input_plan`) and ``accounts`` are the first
    occurrences in order. This is `serialize` for callers that hold plain tuples and pack
    straight into the VM's memory (the execution hot path).
    """
    values: list[object] = [len(originals)]
    lengths: list[int] = []
    firsts = iter(accounts)
    for position, original in enumerate(originals):
        if original != position:
            values.append(original)
            continue
        entry = next(firsts, None)
        if entry is None:
            raise AbiError(f"{len(accounts)} accounts for more first occurrences")
        key, is_signer, is_writable, account = entry
        data = account.data
        values += (NON_DUP_MARKER, is_signer, is_writable, account.executable, bytes(key),
                   bytes(account.owner), account.lamports, len(data), data,
                   SERIALIZED_RENT_EPOCH)  # fmt: skip
        lengths.append(len(data))
    if len(lengths) != len(accounts):
        raise AbiError(f"{len(accounts)} accounts for {len(lengths)} first occurrences")
    values += (len(instruction_data), instruction_data, bytes(program_id))
    return input_plan(tuple(originals), tuple(lengths), len(instruction_data)), values


def serialize(
    accounts: Sequence[InputAccount], instruction_data: bytes, program_id: Pubkey
) -> SerializedInput:
    """Serialize one instruction's accounts and data exactly as agave's ABI v1 does."""
    originals: list[int] = []
    distinct: list[SerializedAccount] = []
    for position, entry in enumerate(accounts):
        if isinstance(entry, DuplicateAccount):
            if not 0 <= entry.position < position:
                raise AbiError(f"account {position} duplicates {entry.position}, not an original")
            originals.append(entry.position)
        else:
            originals.append(position)
            distinct.append(entry)
    plan, values = prepare_input(originals, distinct, instruction_data, program_id)
    return SerializedInput(plan.struct.pack(*values), plan.layouts, plan.instruction_data_offset)


def read_lamports(buffer: bytes | memoryview, layout: AccountLayout) -> int:
    """Read the lamports the program left in an account's slot."""
    return int(_U64.unpack_from(buffer, layout.lamports)[0])


def read_data_length(buffer: bytes | memoryview, layout: AccountLayout) -> int:
    """Read the data length the program left in an account's length slot."""
    return int(_U64.unpack_from(buffer, layout.data_len)[0])


def read_data(buffer: bytes | memoryview, layout: AccountLayout, length: int) -> bytes:
    """Read `length` bytes of the account's data slot.

    The caller bounds `length` by the realloc limit first, so that the read stays inside this
    account's reserved room.
    """
    end = layout.data + length
    if length > layout.original_data_len + MAX_PERMITTED_DATA_INCREASE or end > len(buffer):
        raise AbiError(f"data length {length} exceeds the account's reserved room")
    return bytes(buffer[layout.data : end])


def read_owner(buffer: bytes | memoryview, layout: AccountLayout) -> Pubkey:
    """Read the owner the program left in an account's slot."""
    return Pubkey(bytes(buffer[layout.owner : layout.owner + 32]))


def deserialize_instruction(buffer: bytes) -> tuple[list[InputAccount], bytes, Pubkey]:
    """Parse a serialized input back into accounts, instruction data and program id.

    The inverse of `serialize` (rent epochs come back as the masked value); used to test the
    layout and by tools that inspect an input, never on the write-back path.
    """
    (count,) = _U64.unpack_from(buffer, 0)
    offset = 8
    accounts: list[InputAccount] = []
    for _ in range(count):
        marker = buffer[offset]
        if marker != NON_DUP_MARKER:
            accounts.append(DuplicateAccount(marker))
            offset += 8
            continue
        is_signer, is_writable, executable = (bool(b) for b in buffer[offset + 1 : offset + 4])
        key = Pubkey(bytes(buffer[offset + _KEY_OFFSET : offset + _OWNER_OFFSET]))
        owner = Pubkey(bytes(buffer[offset + _OWNER_OFFSET : offset + _LAMPORTS_OFFSET]))
        (lamports,) = _U64.unpack_from(buffer, offset + _LAMPORTS_OFFSET)
        (length,) = _U64.unpack_from(buffer, offset + _DATA_LEN_OFFSET)
        data = bytes(buffer[offset + _DATA_OFFSET : offset + _DATA_OFFSET + length])
        offset += _DATA_OFFSET + length + MAX_PERMITTED_DATA_INCREASE + _padding(length)
        (rent_epoch,) = _U64.unpack_from(buffer, offset)
        offset += 8
        account = Account(lamports, data, owner, executable, rent_epoch)
        accounts.append(SerializedAccount(key, is_signer, is_writable, account))
    (data_len,) = _U64.unpack_from(buffer, offset)
    offset += 8
    instruction_data = bytes(buffer[offset : offset + data_len])
    program_id = Pubkey(bytes(buffer[offset + data_len : offset + data_len + 32]))
    return accounts, instruction_data, program_id
