"""ABI v1 input serialisation: exact layout, round trip, limits."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st
from solders.account import Account
from solders.pubkey import Pubkey

from heliostat.svm import abi

PROGRAM = Pubkey(bytes([9] * 32))
KEY = Pubkey(bytes([1] * 32))
OWNER = Pubkey(bytes([2] * 32))


def test_layout_of_one_account_byte_by_byte() -> None:
    account = Account(500, b"abc", OWNER, True, 77)
    serialized = abi.serialize(
        [abi.SerializedAccount(KEY, True, False, account), abi.DuplicateAccount(0)],
        b"\x05\x06",
        PROGRAM,
    )
    buf = serialized.buffer
    assert struct.unpack_from("<Q", buf, 0) == (2,)
    assert buf[8:16] == bytes([0xFF, 1, 0, 1, 0, 0, 0, 0])  # marker, signer, writable, exec
    assert buf[16:48] == bytes(KEY)
    assert buf[48:80] == bytes(OWNER)
    assert struct.unpack_from("<QQ", buf, 80) == (500, 3)
    assert buf[96:99] == b"abc"
    # 10 KiB realloc room, then padding of the 3 data bytes to 8, then the rent epoch
    rent_epoch_at = 96 + 3 + 10240 + 5
    assert buf[99:rent_epoch_at] == bytes(10240 + 5)
    assert struct.unpack_from("<Q", buf, rent_epoch_at) == ((1 << 64) - 1,)  # masked
    duplicate_at = rent_epoch_at + 8
    assert buf[duplicate_at : duplicate_at + 8] == bytes([0, 0, 0, 0, 0, 0, 0, 0])
    assert struct.unpack_from("<Q", buf, duplicate_at + 8) == (2,)
    assert serialized.instruction_data_offset == duplicate_at + 16
    assert buf[duplicate_at + 16 :] == b"\x05\x06" + bytes(PROGRAM)
    assert serialized.instruction_data_address == abi.INPUT_START + duplicate_at + 16
    (layout,) = serialized.layouts
    assert (layout.key, layout.owner, layout.lamports, layout.data) == (16, 48, 80, 96)


accounts_strategy = st.lists(
    st.one_of(
        st.tuples(
            st.binary(min_size=32, max_size=32),
            st.booleans(),
            st.booleans(),
            st.integers(0, 2**64 - 1),
            st.binary(max_size=40),
            st.booleans(),
        ),
        st.integers(0, 10),
    ),
    max_size=8,
)


@given(accounts_strategy, st.binary(max_size=30))
def test_round_trip(entries: list[object], data: bytes) -> None:
    accounts: list[abi.InputAccount] = []
    for entry in entries:
        if isinstance(entry, int):
            originals = [i for i, a in enumerate(accounts) if isinstance(a, abi.SerializedAccount)]
            if originals:
                accounts.append(abi.DuplicateAccount(originals[entry % len(originals)]))
            continue
        assert isinstance(entry, tuple)
        key, signer, writable, lamports, account_data, executable = entry
        account = Account(lamports, account_data, OWNER, executable, (1 << 64) - 1)
        accounts.append(abi.SerializedAccount(Pubkey(key), signer, writable, account))
    serialized = abi.serialize(accounts, data, PROGRAM)
    parsed, parsed_data, program_id = abi.deserialize_instruction(serialized.buffer)
    assert parsed == accounts
    assert (parsed_data, program_id) == (data, PROGRAM)
    assert len(serialized.layouts) == sum(isinstance(a, abi.SerializedAccount) for a in accounts)
    for layout in serialized.layouts:
        assert (abi.INPUT_START + layout.data) % 8 == 0  # data is 8-byte aligned


def test_write_back_readers_bound_the_data_length() -> None:
    account = Account(1, b"\x01" * 8, OWNER)
    serialized = abi.serialize([abi.SerializedAccount(KEY, False, True, account)], b"", PROGRAM)
    (layout,) = serialized.layouts
    assert abi.read_data(serialized.buffer, layout, 8 + 10240) == b"\x01" * 8 + bytes(10240)
    with pytest.raises(abi.AbiError):
        abi.read_data(serialized.buffer, layout, 8 + 10241)
    assert abi.read_lamports(serialized.buffer, layout) == 1
    assert abi.read_data_length(serialized.buffer, layout) == 8
    assert abi.read_owner(serialized.buffer, layout) == OWNER


def test_limits() -> None:
    account = abi.SerializedAccount(KEY, False, False, Account(1, b"", OWNER))
    with pytest.raises(abi.AbiError):
        abi.serialize([account] * 256, b"", PROGRAM)
    with pytest.raises(abi.AbiError):
        abi.serialize([abi.DuplicateAccount(0)], b"", PROGRAM)
    with pytest.raises(abi.AbiError):
        abi.serialize([account, abi.DuplicateAccount(1)], b"", PROGRAM)
