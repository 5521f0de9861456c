"""Byte layouts both sides absorb into the transcript (statement, opened values)."""

from __future__ import annotations

from collections.abc import Sequence

from heliostat.stark.keys import VerifyingKey
from heliostat.stark.proof import TableOpenings


def statement_bytes(vk: VerifyingKey, log_heights: Sequence[int], publics: Sequence[int]) -> bytes:
    """AIR digest ‖ config ‖ u8 table count ‖ u8 log heights ‖ u32 count ‖ u32 publics (BE)."""
    return (
        vk.machine.digest
        + vk.config.to_bytes()
        + bytes([len(log_heights), *log_heights])
        + len(publics).to_bytes(4, "big")
        + b"".join(int(v).to_bytes(4, "big") for v in publics)
    )


def openings_bytes(openings: Sequence[TableOpenings]) -> bytes:
    """Every opened value, table by table, in ``TableOpenings.vectors`` order (16 bytes each)."""
    return b"".join(v.to_bytes() for t in openings for vector in t.vectors() for v in vector)
