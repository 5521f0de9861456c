"""The L2 side of the bridge: the builtin program's id, its vault, and its instructions.

Withdraw (u32 tag 0, u64 lamports, 20-byte Ethereum address; accounts: sender (signer,
writable), the vault (writable), the System Program) moves lamports from the sender into the
vault through the System Program and records a withdrawal that the batch's public output
carries to L1, where 1 lamport is released as 1 gwei (docs/runtime.md, "Bridge").
"""

from __future__ import annotations

import struct

from solders.instruction import AccountMeta, Instruction
from solders.pubkey import Pubkey

from heliostat.runtime.errors import BatchEncodingError
from heliostat.runtime.genesis import BRIDGE_PROGRAM_ID, BRIDGE_VAULT, SYSTEM_PROGRAM_ID

WITHDRAW = 0

__all__ = ["BRIDGE_PROGRAM_ID", "BRIDGE_VAULT", "withdraw"]


def withdraw(sender: Pubkey, lamports: int, recipient: bytes) -> Instruction:
    """Withdraw ``lamports`` from ``sender`` to the Ethereum address ``recipient``."""
    if len(recipient) != 20:
        raise BatchEncodingError("an Ethereum address is 20 bytes", limit=20, got=len(recipient))
    if not 0 < lamports < 1 << 64:
        raise BatchEncodingError("withdrawal amount must be a positive u64", got=lamports)
    data = struct.pack("<IQ", WITHDRAW, lamports) + recipient
    return Instruction(
        BRIDGE_PROGRAM_ID,
        data,
        [
            AccountMeta(sender, True, True),
            AccountMeta(BRIDGE_VAULT, False, True),
            AccountMeta(SYSTEM_PROGRAM_ID, False, False),
        ],
    )
