"""The Keccak transcript: byte-exact chain, challenge sampling, proof-of-work digest."""

from __future__ import annotations

from Crypto.Hash import keccak

from heliostat.stark.extension import Ext4
from heliostat.stark.field import P
from heliostat.stark.transcript import (
    PROTOCOL_ID,
    Tag,
    Transcript,
    leading_zero_bits,
    pow_digest,
)


def _k(data: bytes) -> bytes:
    return keccak.new(digest_bits=256, data=data).digest()


def test_chain_is_keccak_of_state_tag_and_data() -> None:
    t = Transcript()
    assert t.state == _k(PROTOCOL_ID)
    t.absorb(Tag.MAIN_ROOT, b"\x11" * 32)
    expected = _k(_k(PROTOCOL_ID) + b"\x03" + b"\x11" * 32)
    assert t.state == expected
    out = t.squeeze()
    assert out == _k(expected + b"\x80") == t.state


def test_ext_challenge_is_four_words_mod_p() -> None:
    t = Transcript()
    state = t.state
    e = t.sample_ext()
    digest = _k(state + b"\x80")
    words = [int.from_bytes(digest[8 * i : 8 * i + 8], "big") % P for i in range(4)]
    assert e == Ext4(*words)


def test_indices_use_low_bits_of_64_bit_words() -> None:
    t = Transcript()
    state = t.state
    idx = t.sample_indices(6, 10)
    d1 = _k(state + b"\x80")
    d2 = _k(d1 + b"\x80")
    words = [int.from_bytes(d[8 * i : 8 * i + 8], "big") for d in (d1, d2) for i in range(4)]
    assert idx == [w & 1023 for w in words[:6]]


def test_pow_digest_is_the_state_after_absorbing_the_nonce() -> None:
    t = Transcript()
    t.absorb(Tag.FRI_FINAL_POLY, b"abc")
    before = t.state
    t.absorb(Tag.POW_NONCE, (12345).to_bytes(8, "big"))
    assert t.state == pow_digest(before, 12345)
    assert leading_zero_bits(b"\x00\x0f" + bytes(30)) == 12
    assert leading_zero_bits(bytes(32)) == 256


def test_recording_keeps_every_step() -> None:
    t = Transcript(record=True)
    t.absorb(Tag.STATEMENT, b"x")
    t.sample_ext()
    assert [(e.tag, e.data) for e in t.events] == [(Tag.STATEMENT, b"x"), (Tag.SQUEEZE, t.state)]
