"""Compiles one C file to a BPF object with `zig cc` (the `ziglang` package) for sBPF v0.

The flags are what FACTS.md ("C to sBPF") found to work: `bpfel-freestanding`, `-mcpu=v1`
(no JMP32, no v4 signed ops), a 4 KiB stack budget per frame (sBPF v0 frames are 4 KiB), no
builtins (so memcpy loops stay loops and calls go to the SDK's functions), no unwind tables
(no `.eh_frame`).
"""

from __future__ import annotations

import functools
import importlib.metadata
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from heliostat.toolchain.errors import CompileError

TARGET_FLAGS: tuple[str, ...] = (
    "-target",
    "bpfel-freestanding",
    "-mcpu=v1",
    "-mllvm",
    "-bpf-stack-size=4096",
)
CODEGEN_FLAGS: tuple[str, ...] = (
    "-O2",
    "-ffreestanding",
    "-fno-builtin",
    "-fno-unwind-tables",
    "-fno-asynchronous-unwind-tables",
    "-fno-stack-protector",
    "-fno-common",
)
WARNING_FLAGS: tuple[str, ...] = (
    "-std=c11",
    "-Wall",
    "-Wextra",
    "-Werror=implicit-function-declaration",
    "-Werror=int-conversion",
    "-Werror=incompatible-pointer-types",
    "-Werror=return-type",
)
COMPILE_FLAGS: tuple[str, ...] = TARGET_FLAGS + CODEGEN_FLAGS + WARNING_FLAGS


@functools.cache
def zig_version() -> str:
    """Return the installed ziglang package version (part of every build's cache key)."""
    return importlib.metadata.version("ziglang")


def compile_command(
    source: Path, output: Path, include_dirs: Sequence[Path] = (), defines: Sequence[str] = ()
) -> list[str]:
    """Return the command line that compiles ``source`` into ``output``."""
    cmd = [sys.executable, "-m", "ziglang", "cc", *COMPILE_FLAGS]
    cmd += [f"-I{d}" for d in include_dirs]
    cmd += [f"-D{d}" for d in defines]
    cmd += ["-c", str(source), "-o", str(output)]
    return cmd


@dataclass(frozen=True)
class CompiledObject:
    """An object file and every file the preprocessor read to make it (the source included)."""

    data: bytes
    dependencies: tuple[Path, ...]


def _parse_depfile(text: str) -> tuple[Path, ...]:
    """Read the prerequisites of a make-style depfile (`target: dep dep` with continuations)."""
    _, _, prerequisites = text.replace("\\\n", " ").partition(":")
    return tuple(Path(item).resolve() for item in prerequisites.split())


def compile_c(
    source: Path, include_dirs: Sequence[Path] = (), defines: Sequence[str] = ()
) -> CompiledObject:
    """Compile one C file; return the object's bytes and the files it was made from."""
    with tempfile.TemporaryDirectory(prefix="heliostat-cc-") as tmp:
        output = Path(tmp) / (source.stem + ".o")
        depfile = Path(tmp) / (source.stem + ".d")
        cmd = compile_command(source, output, include_dirs, defines)
        cmd += ["-MD", "-MF", str(depfile)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0 or not output.exists():
            raise CompileError(str(source), proc.returncode, proc.stderr)
        dependencies = _parse_depfile(depfile.read_text()) if depfile.exists() else ()
        return CompiledObject(output.read_bytes(), dependencies or (source.resolve(),))
