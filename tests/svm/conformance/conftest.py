"""Make the conformance helpers importable as plain modules (scenarios, ...)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
