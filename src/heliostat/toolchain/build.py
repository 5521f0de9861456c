"""Builds C programs into sBPF v0 ELFs under build/, with a content-hash cache.

`build_program("hello")` compiles c/programs/hello.c (or every .c in c/programs/hello/)
together with the SDK's heliostat_sdk.c, links them and writes build/hello.so. Objects are
cached per translation unit under build/obj/, keyed by the flags, the ziglang version, this
package's own code and every file the preprocessor read (from the compiler's depfile); the
ELF is keyed by its objects. A repeated build only hashes its inputs.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from heliostat.toolchain import compiler
from heliostat.toolchain.errors import ProgramNotFoundError, ToolchainError
from heliostat.toolchain.linker import LinkedProgram, link

REPO_ROOT = Path(__file__).resolve().parents[3]
C_DIR = REPO_ROOT / "c"
SDK_DIR = C_DIR / "sdk"
SDK_SOURCES = (SDK_DIR / "heliostat_sdk.c",)
PROGRAMS_DIR = C_DIR / "programs"
_TOOLCHAIN_DIR = Path(__file__).resolve().parent
_CACHE_FORMAT = b"heliostat-toolchain-cache-1"
SOURCE_SUFFIXES = (".c", ".s", ".S")  # zig cc assembles BPF assembly with the same command


def build_dir() -> Path:
    """Where outputs go: $HELIOSTAT_BUILD_DIR, or build/ at the repository root."""
    return Path(os.environ.get("HELIOSTAT_BUILD_DIR", REPO_ROOT / "build"))


def list_programs() -> list[str]:
    """Names of the programs under c/programs (a `name.c` file or a `name/` directory)."""
    names = {p.stem for p in PROGRAMS_DIR.glob("*.c")}
    names |= {p.name for p in PROGRAMS_DIR.iterdir() if p.is_dir() and any(p.glob("*.c"))}
    return sorted(names)


def program_sources(name: str) -> list[Path]:
    """Return the C files of the program called ``name``."""
    single = PROGRAMS_DIR / f"{name}.c"
    if single.is_file():
        return [single]
    directory = PROGRAMS_DIR / name
    sources = sorted(directory.glob("*.c")) if directory.is_dir() else []
    if not sources:
        raise ProgramNotFoundError(name, list_programs())
    return sources


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _hash_files(h: hashlib._Hash, files: Iterable[Path]) -> None:
    for path in sorted(set(files)):
        content = path.read_bytes()
        h.update(b"%d:%s%d:" % (len(str(path)), str(path).encode(), len(content)))
        h.update(content)


def _toolchain_key(defines: Sequence[str]) -> hashlib._Hash:
    h = hashlib.sha256(_CACHE_FORMAT)
    h.update(compiler.zig_version().encode() + b"\0")
    h.update("\0".join(compiler.COMPILE_FLAGS + tuple(defines)).encode() + b"\0")
    _hash_files(h, _TOOLCHAIN_DIR.glob("*.py"))
    return h


def _dependencies_digest(paths: Iterable[Path]) -> str | None:
    """Hash the current contents of ``paths``; None when one of them is gone."""
    h = hashlib.sha256()
    try:
        _hash_files(h, paths)
    except FileNotFoundError:
        return None
    return h.hexdigest()


def _compile_cached(
    source: Path, include_dirs: Sequence[Path], defines: Sequence[str], obj_dir: Path
) -> tuple[str, bytes]:
    """Compile ``source`` unless an object made from identical inputs is cached.

    Like ccache's direct mode: a manifest keyed by the flags and the source lists every file
    the preprocessor read last time (from the compiler's depfile); the object is reused only
    if all of them still hash the same, so an edit to any included header or .c file rebuilds.
    """
    h = _toolchain_key(defines)
    h.update("\0".join(str(d) for d in include_dirs).encode() + b"\0")
    _hash_files(h, [source])
    stem = f"{source.stem}-{h.hexdigest()[:24]}"
    manifest = obj_dir / f"{stem}.deps"
    if manifest.is_file():
        digest = _dependencies_digest(Path(line) for line in manifest.read_text().splitlines())
        cached = obj_dir / f"{stem}-{digest[:16]}.o" if digest else None
        if cached is not None and cached.is_file():
            return source.name, cached.read_bytes()
    compiled = compiler.compile_c(source, include_dirs, defines)
    digest = _dependencies_digest(compiled.dependencies)
    if digest is not None:  # a dependency vanished mid-build: use the object, cache nothing
        _write_atomically(obj_dir / f"{stem}-{digest[:16]}.o", compiled.data)
        _write_atomically(manifest, "\n".join(map(str, compiled.dependencies)).encode())
    return source.name, compiled.data


def _resolve_inputs(
    name_or_sources: str | Path | Sequence[str | Path], name: str | None
) -> tuple[str, list[Path]]:
    if isinstance(name_or_sources, str) and not name_or_sources.endswith(SOURCE_SUFFIXES):
        return name or name_or_sources, program_sources(name_or_sources)
    items = [name_or_sources] if isinstance(name_or_sources, str | Path) else name_or_sources
    sources = [Path(s).resolve() for s in items]
    if not sources:
        raise ToolchainError("no sources given", reason="no_sources")
    for s in sources:
        if not s.is_file():
            raise ToolchainError(f"source {s} does not exist", reason="source_missing")
    return name or sources[0].stem, sources


def _objects(
    sources: Sequence[Path], include_dirs: Sequence[str | Path], defines: Sequence[str], sdk: bool
) -> list[tuple[str, bytes]]:
    all_sources = [*sources, *(SDK_SOURCES if sdk else ())]
    dirs = [SDK_DIR, *(Path(d).resolve() for d in include_dirs)]
    obj_dir = build_dir() / "obj"
    with ThreadPoolExecutor(max_workers=2) as pool:  # zig runs in subprocesses
        jobs = [
            pool.submit(_compile_cached, s, [s.parent, *dirs], tuple(defines), obj_dir)
            for s in all_sources
        ]
        return [job.result() for job in jobs]


def link_sources(
    name_or_sources: str | Path | Sequence[str | Path],
    *,
    include_dirs: Sequence[str | Path] = (),
    defines: Sequence[str] = (),
    extra_syscalls: Sequence[str] = (),
    sdk: bool = True,
) -> LinkedProgram:
    """Compile (objects cached) and link, returning the linked program with its symbol map."""
    _, sources = _resolve_inputs(name_or_sources, None)
    objects = _objects(sources, include_dirs, defines, sdk)
    return link(objects, extra_syscalls=extra_syscalls)


def build_program(
    name_or_sources: str | Path | Sequence[str | Path],
    *,
    output: str | Path | None = None,
    name: str | None = None,
    include_dirs: Sequence[str | Path] = (),
    defines: Sequence[str] = (),
    extra_syscalls: Sequence[str] = (),
    sdk: bool = True,
) -> Path:
    """Build a program (a name under c/programs, or C sources) and return the ELF's path.

    The ELF lands at ``output`` or build/<name>.so; a build whose inputs have not changed
    returns at once.
    """
    prog_name, sources = _resolve_inputs(name_or_sources, name)
    out = Path(output) if output is not None else build_dir() / f"{prog_name}.so"
    objects = _objects(sources, include_dirs, defines, sdk)
    h = _toolchain_key(defines)
    h.update("\0".join(sorted(extra_syscalls)).encode() + b"\0")
    for object_name, data in objects:
        h.update(b"%s:%d:" % (object_name.encode(), len(data)) + data)
    key = h.hexdigest()
    key_path = out.with_name(out.name + ".key")
    if out.is_file() and key_path.is_file() and key_path.read_text() == key:
        return out
    linked = link(objects, extra_syscalls=extra_syscalls)
    _write_atomically(out, linked.elf)
    _write_atomically(key_path, key.encode())
    return out


def build_all() -> dict[str, Path]:
    """Build every program under c/programs."""
    return {name: build_program(name) for name in list_programs()}


def program_elf(name: str) -> bytes:
    """Build (or reuse) the program called ``name`` and return its ELF bytes."""
    return build_program(name).read_bytes()
