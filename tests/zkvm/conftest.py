"""zkVM test fixtures: the VM tests' program generator on the path, helpers to prove."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(1, str(Path(__file__).parent.parent / "svm"))
