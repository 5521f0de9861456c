"""Heliostat: a ZK rollup that executes Solana programs and settles on Ethereum.

Importing the package points numba's on-disk cache at ``~/.cache/heliostat/numba`` (unless
``NUMBA_CACHE_DIR`` is already set) and keys it by package-relative path and source content,
so a fresh clone of the repository reuses kernels compiled by an earlier one.
"""

import os
import sys

__version__ = "0.1.0"

_CACHE_DIR = os.path.join(os.path.expanduser("~"), ".cache", "heliostat", "numba")
_LOCATOR = "heliostat._numba_cache.PackageRelativeCacheLocator"

os.environ.setdefault("NUMBA_CACHE_DIR", _CACHE_DIR)
os.environ.setdefault("NUMBA_CACHE_LOCATOR_CLASSES", _LOCATOR)
if "numba" in sys.modules:  # numba read its configuration before us: set it directly
    from numba.core import config as _numba_config

    for _name in ("CACHE_DIR", "CACHE_LOCATOR_CLASSES"):
        if not getattr(_numba_config, _name):
            setattr(_numba_config, _name, os.environ[f"NUMBA_{_name}"])
