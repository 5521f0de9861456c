"""The Ethereum toolchain: where solc, anvil and forge live, and Solidity compilation.

The tools come from npm (contracts/package.json, installed by ``make setup``). Compilation
goes through contracts/solc-shim.js — the solc package's compiler behind solc's
``--standard-json`` interface, the same shim forge uses offline — and its output is cached
under build/settlement/solc/ by the hash of the compiler input.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from heliostat.settlement.errors import CompileError, ToolchainError

REPO_ROOT = Path(__file__).resolve().parents[3]
CONTRACTS_DIR = REPO_ROOT / "contracts"
STARK_SOURCES = CONTRACTS_DIR / "src" / "stark"
BUILD_DIR = REPO_ROOT / "build" / "settlement"
SOLC_SHIM = CONTRACTS_DIR / "solc-shim.js"
EVM_VERSION = "prague"
OPTIMIZER_RUNS = 200
COMPILE_TIMEOUT_S = 900


def _bin(name: str) -> Path:
    path = CONTRACTS_DIR / "node_modules" / ".bin" / name
    if not path.exists():
        raise ToolchainError(f"{name} is not installed: run `make setup` (npm ci in contracts/)")
    return path


def anvil_path() -> Path:
    """Return the anvil binary installed from npm."""
    return _bin("anvil")


def forge_path() -> Path:
    """Return the forge binary installed from npm."""
    return _bin("forge")


def node_path() -> str:
    """Return the node executable."""
    node = shutil.which("node")
    if node is None:
        raise ToolchainError("node is not on PATH")
    return node


@dataclass(frozen=True)
class Artifact:
    """One compiled contract."""

    name: str
    abi: list[dict[str, Any]]
    bytecode: bytes  # creation code
    deployed_size: int  # runtime code bytes (EIP-170 caps it at 24 576)


def stark_library_sources() -> dict[str, str]:
    """Return the hand-written protocol contracts, keyed by the source unit names imports use."""
    if not STARK_SOURCES.is_dir():
        raise ToolchainError(f"missing {STARK_SOURCES}")
    return {f"stark/{p.name}": p.read_text() for p in sorted(STARK_SOURCES.glob("*.sol"))}


def compile_sources(sources: dict[str, str], *, yul_optimizer: bool = True) -> dict[str, Artifact]:
    """Compile Solidity sources; return every contract by name (names must be unique).

    ``yul_optimizer=False`` is for long straight-line generated Yul, whose values the
    optimizer would otherwise keep on the stack until it overflows.
    """
    optimizer: dict[str, Any] = {"enabled": True, "runs": OPTIMIZER_RUNS}
    if not yul_optimizer:
        optimizer["details"] = {"yul": False}
    request = {
        "language": "Solidity",
        "sources": {unit: {"content": text} for unit, text in sorted(sources.items())},
        "settings": {
            "optimizer": optimizer,
            "evmVersion": EVM_VERSION,
            "outputSelection": {
                "*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]}
            },
        },
    }
    payload = json.dumps(request, sort_keys=True)
    version = _solc_version()
    key = hashlib.sha256((version + payload).encode()).hexdigest()[:32]
    cache = BUILD_DIR / "solc" / f"{key}.json"
    if cache.exists():
        output = json.loads(cache.read_text())
    else:
        output = _run_solc(payload)
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(output))
        tmp.replace(cache)
    return _artifacts(output)


def _solc_version() -> str:
    package = CONTRACTS_DIR / "node_modules" / "solc" / "package.json"
    if not package.exists():
        raise ToolchainError("solc is not installed: run `make setup` (npm ci in contracts/)")
    return str(json.loads(package.read_text())["version"])


def _run_solc(payload: str) -> dict[str, Any]:
    try:
        done = subprocess.run(
            [node_path(), str(SOLC_SHIM), "--standard-json"],
            input=payload,
            capture_output=True,
            text=True,
            timeout=COMPILE_TIMEOUT_S,
            cwd=CONTRACTS_DIR,
            check=False,
        )
    except subprocess.TimeoutExpired as err:
        raise ToolchainError(f"solc took longer than {COMPILE_TIMEOUT_S} s") from err
    if done.returncode != 0:
        raise ToolchainError(f"solc shim failed: {done.stderr.strip()[:2000]}")
    output: dict[str, Any] = json.loads(done.stdout)
    errors = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    if errors:
        text = "\n".join(e.get("formattedMessage", e.get("message", "")) for e in errors)
        raise CompileError(f"solc: {text[:6000]}")
    return output


def _artifacts(output: dict[str, Any]) -> dict[str, Artifact]:
    out: dict[str, Artifact] = {}
    for contracts in output.get("contracts", {}).values():
        for name, c in contracts.items():
            code = c["evm"]["bytecode"]["object"]
            if not code:
                continue  # abstract contracts and libraries without code
            out[name] = Artifact(
                name=name,
                abi=c["abi"],
                bytecode=bytes.fromhex(code),
                deployed_size=len(c["evm"]["deployedBytecode"]["object"]) // 2,
            )
    return out
