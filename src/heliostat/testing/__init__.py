"""Real implementations of Heliostat's interfaces for tests (a host for one instruction, ...)."""

from heliostat.testing.host import TestHost, default_sysvars

__all__ = ["TestHost", "default_sysvars"]
