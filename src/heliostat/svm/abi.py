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

All integers little-endian. The `read_*` functions read back what a program may change
(lamports, data length and bytes, owner) for the write-back after execution.
"""

from __future__ import annotations

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
# marker, is_signer, is_writable, executable, 4 bytes padding, key, owner, lamports, data length
_ACCOUNT_FIELDS = struct.Struct("<4B4x32s32sQQ")
# marker, signer, writable, executable, 4 bytes padding
_ACCOUNT_HEADER = 8
_KEY_OFFSET = _ACCOUNT_HEADER
_OWNER_OFFSET = _KEY_OFFSET + 32
_LAMPORTS_OFFSET = _OWNER_OFFSET + 32
_DATA_LEN_OFFSET = _LAMPORTS_OFFSET + 8
_DATA_OFFSET = _DATA_LEN_OFFSET + 8


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


class AbiError(ValueError):
    """The input cannot be serialized (too many accounts, a bad duplicate index)."""


def _padding(length: int) -> int:
    return -length % BPF_ALIGN_OF_U128


def _serialized_size(entry: InputAccount) -> int:
    """Return the serialized size of one entry (see the module docstring)."""
    if isinstance(entry, DuplicateAccount):
        return 8
    length = len(entry.account.data)
    return _DATA_OFFSET + length + MAX_PERMITTED_DATA_INCREASE + _padding(length) + 8


def serialize(
    accounts: Sequence[InputAccount], instruction_data: bytes, program_id: Pubkey
) -> SerializedInput:
    """Serialize one instruction's accounts and data exactly as agave's ABI v1 does."""
    if len(accounts) > MAX_ACCOUNTS_PER_INSTRUCTION:
        raise AbiError(
            f"{len(accounts)} instruction accounts, at most {MAX_ACCOUNTS_PER_INSTRUCTION}"
        )
    sizes = [_serialized_size(entry) for entry in accounts]
    # One zeroed buffer of the final size: padding and realloc room need no writes.
    out = bytearray(8 + sum(sizes) + 8 + len(instruction_data) + 32)
    _U64.pack_into(out, 0, len(accounts))
    offset = 8
    layouts: list[AccountLayout] = []
    for index, (entry, size) in enumerate(zip(accounts, sizes, strict=True)):
        if isinstance(entry, DuplicateAccount):
            original = entry.position
            if not 0 <= original < index or isinstance(accounts[original], DuplicateAccount):
                raise AbiError(f"account {index} duplicates {original}, not an original")
            out[offset] = original
        else:
            account = entry.account
            data = account.data
            _ACCOUNT_FIELDS.pack_into(
                out, offset, NON_DUP_MARKER, entry.is_signer, entry.is_writable,
                account.executable, bytes(entry.key), bytes(account.owner), account.lamports,
                len(data),
            )  # fmt: skip
            data_at = offset + _DATA_OFFSET
            out[data_at : data_at + len(data)] = data
            _U64.pack_into(out, offset + size - 8, SERIALIZED_RENT_EPOCH)
            layouts.append(AccountLayout(offset + _KEY_OFFSET, offset + _OWNER_OFFSET,
                                         offset + _LAMPORTS_OFFSET, offset + _DATA_LEN_OFFSET,
                                         data_at, len(data)))  # fmt: skip
        offset += size
    _U64.pack_into(out, offset, len(instruction_data))
    instruction_data_offset = offset + 8
    out[instruction_data_offset:] = instruction_data + bytes(program_id)
    return SerializedInput(bytes(out), tuple(layouts), instruction_data_offset)


def read_lamports(buffer: bytes, layout: AccountLayout) -> int:
    """Read the lamports the program left in an account's slot."""
    return int(_U64.unpack_from(buffer, layout.lamports)[0])


def read_data_length(buffer: bytes, layout: AccountLayout) -> int:
    """Read the data length the program left in an account's length slot."""
    return int(_U64.unpack_from(buffer, layout.data_len)[0])


def read_data(buffer: bytes, layout: AccountLayout, length: int) -> bytes:
    """Read `length` bytes of the account's data slot.

    The caller bounds `length` by the realloc limit first, so that the read stays inside this
    account's reserved room.
    """
    end = layout.data + length
    if length > layout.original_data_len + MAX_PERMITTED_DATA_INCREASE or end > len(buffer):
        raise AbiError(f"data length {length} exceeds the account's reserved room")
    return bytes(buffer[layout.data : end])


def read_owner(buffer: bytes, layout: AccountLayout) -> Pubkey:
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
