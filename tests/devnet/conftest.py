"""Make the plumbing stand-ins importable by the devnet tests (tests/devnet is not a package)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
