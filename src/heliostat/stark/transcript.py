"""The Fiat–Shamir transcript: a Keccak-256 hash chain a Solidity verifier reproduces exactly.

The state is one 32-byte digest. ``absorb(tag, data)`` sets
``state = keccak256(state ‖ tag ‖ data)`` with a one-byte tag naming the protocol step;
``squeeze()`` sets ``state = keccak256(state ‖ 0x80)`` and returns the new state, from which
challenges are cut as big-endian 64-bit words reduced modulo p (bias below 2^-33, and at most
a factor 1 + 2^-33 on any event's probability). Every byte layout is in docs/stark.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from heliostat.stark.extension import Ext4
from heliostat.stark.field import P
from heliostat.stark.keccak import keccak256

PROTOCOL_ID = b"heliostat-stark-v1"


class Tag(IntEnum):
    """One byte per protocol step, absorbed in front of the step's data."""

    STATEMENT = 0x01  # AIR digest, config, table heights, public values
    PREPROCESSED_ROOT = 0x02
    MAIN_ROOT = 0x03
    PERMUTATION_ROOT = 0x04
    LOGUP_SUMS = 0x05
    QUOTIENT_ROOT = 0x06
    OPENED_VALUES = 0x07
    FRI_LAYER_ROOT = 0x08
    FRI_FINAL_POLY = 0x09
    POW_NONCE = 0x0A
    CLEAR_TRACES = 0x0B  # the traces of the tables sent in the clear
    SQUEEZE = 0x80


@dataclass(frozen=True)
class TranscriptEvent:
    """One recorded step: its tag, what was absorbed (or squeezed), and the state after it."""

    tag: Tag
    data: bytes
    state: bytes


@dataclass
class Transcript:
    """The hash chain; set ``record=True`` to keep every step (for agreement tests)."""

    record: bool = False
    state: bytes = field(default_factory=lambda: keccak256(PROTOCOL_ID))
    events: list[TranscriptEvent] = field(default_factory=list)

    def absorb(self, tag: Tag, data: bytes) -> None:
        """Mix ``data`` into the state under ``tag``."""
        self.state = keccak256(self.state + bytes([tag]) + data)
        if self.record:
            self.events.append(TranscriptEvent(tag, data, self.state))

    def squeeze(self) -> bytes:
        """Advance the state and return it (32 bytes of challenge material)."""
        self.state = keccak256(self.state + bytes([Tag.SQUEEZE]))
        if self.record:
            self.events.append(TranscriptEvent(Tag.SQUEEZE, self.state, self.state))
        return self.state

    def sample_ext(self) -> Ext4:
        """One extension element: the four 64-bit words of one squeeze, each mod p."""
        out = self.squeeze()
        return Ext4(*(int.from_bytes(out[8 * i : 8 * i + 8], "big") % P for i in range(4)))

    def sample_indices(self, count: int, log_domain: int) -> list[int]:
        """``count`` indices in [0, 2^log_domain): low bits of 64-bit words, four per squeeze."""
        indices: list[int] = []
        mask = (1 << log_domain) - 1
        while len(indices) < count:
            out = self.squeeze()
            for i in range(4):
                if len(indices) < count:
                    indices.append(int.from_bytes(out[8 * i : 8 * i + 8], "big") & mask)
        return indices


def leading_zero_bits(digest: bytes) -> int:
    """Count the leading zero bits of a digest read as a big-endian integer."""
    value = int.from_bytes(digest, "big")
    return 8 * len(digest) - value.bit_length()


def pow_digest(state: bytes, nonce: int) -> bytes:
    """Return the state after absorbing ``nonce`` (its leading zero bits are the work)."""
    return keccak256(state + bytes([Tag.POW_NONCE]) + nonce.to_bytes(8, "big"))


def encode_ext(values: list[Ext4] | tuple[Ext4, ...]) -> bytes:
    """Concatenated 16-byte encodings (c0‖c1‖c2‖c3, each 4 bytes big-endian)."""
    return b"".join(v.to_bytes() for v in values)
