"""A numba cache locator that survives fresh clones and tracks imports between modules.

numba's own locators key the cache by the absolute directory of the source file, so every
fresh clone (and every CI run) recompiles every kernel; and they stamp a function only by its
own file, so a kernel that inlines a kernel from another module keeps stale machine code when
only the other module changes. This locator keys by the path inside the ``heliostat`` package
and stamps each file with the hash of its source together with every ``heliostat`` module it
imports, transitively. Files outside the package fall back to numba's default locators.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import os
from typing import Any

from numba.core import caching, config

_PACKAGE_ROOT = os.path.dirname(os.path.abspath(__file__))
_PACKAGE = "heliostat"


def _module_file(module: str) -> str | None:
    """Return the source file of a ``heliostat`` module name, if it exists."""
    parts = module.split(".")
    if parts[0] != _PACKAGE:
        return None
    base = os.path.join(_PACKAGE_ROOT, *parts[1:])
    for candidate in (base + ".py", os.path.join(base, "__init__.py")):
        if os.path.isfile(candidate):
            return candidate
    return None


def _module_name(path: str) -> str:
    rel = os.path.relpath(path, _PACKAGE_ROOT)[: -len(".py")].replace(os.sep, ".")
    rel = rel.removesuffix(".__init__").removesuffix("__init__")
    return f"{_PACKAGE}.{rel}" if rel else _PACKAGE


def _imports(path: str, source: bytes) -> set[str]:
    """Return the files of the ``heliostat`` modules that the file at ``path`` imports."""
    tree = ast.parse(source, filename=path)
    package = _module_name(path)
    if not path.endswith("__init__.py"):
        package = package.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        for name in names:
            target = _module_file(name)
            if target is not None and target != path:
                found.add(target)
    return found


@functools.cache
def _closure_stamp(path: str, mtime_ns: int) -> str:
    """Hash the file and, transitively, every package module it imports."""
    del mtime_ns  # part of the memo key only
    seen: set[str] = set()
    pending = [path]
    digest = hashlib.sha256()
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        with open(current, "rb") as handle:
            source = handle.read()
        pending.extend(sorted(_imports(current, source) - seen))
    for current in sorted(seen):
        with open(current, "rb") as handle:
            digest.update(os.path.relpath(current, _PACKAGE_ROOT).encode())
            digest.update(hashlib.sha256(handle.read()).digest())
    return digest.hexdigest()


class PackageRelativeCacheLocator(caching.UserProvidedCacheLocator):
    """Cache ``heliostat`` kernels under a path that does not depend on the checkout."""

    def __init__(self, py_func: Any, py_file: str) -> None:
        self._py_file = py_file
        self._lineno = py_func.__code__.co_firstlineno
        rel = os.path.relpath(os.path.abspath(py_file), _PACKAGE_ROOT)
        cache_dir = getattr(config, "CACHE_DIR")  # noqa: B009 (set dynamically by numba)
        self._cache_path = os.path.join(cache_dir, _PACKAGE, os.path.dirname(rel))

    def get_source_stamp(self) -> str:
        return _closure_stamp(self._py_file, os.stat(self._py_file).st_mtime_ns)

    @classmethod
    def from_function(cls, py_func: Any, py_file: str) -> Any:
        inside = os.path.abspath(py_file).startswith(_PACKAGE_ROOT + os.sep)
        if not inside:
            fallbacks: list[Any] = caching.CacheImpl._locator_classes
            for fallback in fallbacks:
                locator = fallback.from_function(py_func, py_file)
                if locator is not None:
                    return locator
            return None
        return super().from_function(py_func, py_file)  # type: ignore[no-untyped-call]
