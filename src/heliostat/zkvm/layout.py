"""Named column layouts for chips: one definition drives both the AIR and the trace filler."""

from __future__ import annotations

from collections.abc import Sequence

from heliostat.stark.symbolic import Expr


class Layout:
    """Column allocation by name; ``add`` returns the first index of the new group."""

    def __init__(self) -> None:
        self._groups: dict[str, tuple[int, int]] = {}
        self.width = 0

    def add(self, name: str, count: int = 1) -> int:
        """Allocate ``count`` consecutive columns called ``name``."""
        if name in self._groups:
            raise ValueError(f"column group {name!r} defined twice")
        start = self.width
        self._groups[name] = (start, count)
        self.width += count
        return start

    def index(self, name: str) -> int:
        """Return the first column of a group."""
        return self._groups[name][0]

    def span(self, name: str) -> slice:
        """Return the columns of a group as a slice (for trace arrays)."""
        start, count = self._groups[name]
        return slice(start, start + count)

    def count(self, name: str) -> int:
        """How many columns a group has."""
        return self._groups[name][1]

    def names(self) -> list[str]:
        """Group names in allocation order."""
        return list(self._groups)


class Row:
    """Symbolic access to one row of a layout: ``row.one("pc")``, ``row.many("a")``."""

    def __init__(self, columns: Sequence[Expr], layout: Layout) -> None:
        self._columns = columns
        self._layout = layout

    def one(self, name: str) -> Expr:
        """Return the single column of a group."""
        return self._columns[self._layout.index(name)]

    def many(self, name: str) -> list[Expr]:
        """All columns of a group."""
        span = self._layout.span(name)
        return list(self._columns[span])
