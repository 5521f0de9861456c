"""Errors of the settlement layer: toolchain, compilation, the local chain, on-chain verdicts.

``SettlementError`` is the layer's base. ``ProofRejectedOnChainError`` carries the verifier
contract's ``ProofRejected(check, reason)``: ``check`` names the failed check as the Python
verifier's error classes do (``merkle_path_invalid``, ...), ``reason`` the detail.
"""

from __future__ import annotations

from heliostat.primitives.errors import HeliostatError


class SettlementError(HeliostatError):
    """Base of every error the settlement layer raises on purpose."""

    reason = "settlement_error"


class ToolchainError(SettlementError):
    """A tool (node, solc, anvil, forge) is missing or failed to run."""

    reason = "toolchain"


class CompileError(SettlementError):
    """solc rejected the Solidity sources (the message holds its diagnostics)."""

    reason = "compile_failed"


class GeneratorError(SettlementError):
    """The verifier generator cannot express a machine (e.g. a segment too large)."""

    reason = "generator"


class ChainError(SettlementError):
    """The local chain or an RPC call failed (not a verdict on a proof)."""

    reason = "chain"


class ProofRejectedOnChainError(SettlementError):
    """The verifier contract reverted with ProofRejected(check, reason)."""

    reason = "proof_rejected"

    def __init__(self, check: str, detail: str, *, step: str = "") -> None:
        where = f" in {step}" if step else ""
        super().__init__(f"proof rejected on chain{where}: {check} ({detail})", reason=detail)
        self.check = check
        self.detail = detail
        self.step = step
