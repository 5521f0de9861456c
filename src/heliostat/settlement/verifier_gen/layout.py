"""Memory images the Solidity verifier hands to generated evaluators (both sides agree here).

A table's image is one 32-byte word per extension element (packed as in BabyBear4.sol):
α^k for each constraint | main at ζ | main at ζω | fixed at ζ | fixed at ζω | permutation
columns at ζ (recombined) | at ζω | public values | z, β | the table's LogUp sum | the
first-row, last-row and transition selectors at ζ | the accumulator Σ α^k·C_k(ζ) | scratch.
The ζω parts hold only the columns the constraints read on the next row (the proof opens no
others: ``CompiledAir.main_next_columns`` and friends), ascending.
The public-interaction image is: public values | z, β | accumulator | flag | scratch.
StarkStatement._environment and _checkLogUp build these images in the same order.
"""

from __future__ import annotations

from dataclasses import dataclass

from heliostat.stark.air import CompiledAir


@dataclass(frozen=True)
class TableImage:
    """Word offsets of one table's image."""

    num_constraints: int
    main_next_columns: tuple[int, ...]
    fixed_next_columns: tuple[int, ...]
    perm_next_columns: tuple[int, ...]  # extension columns
    main: int
    main_next: int
    fixed: int
    fixed_next: int
    perm: int
    perm_next: int
    publics: int
    challenges: int
    logup_sum: int
    selectors: int
    accumulator: int

    @property
    def scratch(self) -> int:
        """First scratch word (right after the accumulator)."""
        return self.accumulator + 1

    def alpha_power(self, k: int) -> int:
        """Return the word holding α^k."""
        return k

    def next_word(self, region: int, columns: tuple[int, ...], column: int) -> int:
        """Return the word of ``column`` in a ζω region holding ``columns``."""
        if column not in columns:
            raise ValueError(f"column {column} is not opened at ζω")
        return region + columns.index(column)


def table_image(table: CompiledAir, num_publics: int) -> TableImage:
    """Lay out the image of ``table`` for a machine with ``num_publics`` public values."""
    k = len(table.program.outputs)
    w, fw, pw = table.width, table.preprocessed_width, table.permutation_width
    main_next = table.main_next_columns
    fixed_next = table.preprocessed_next_columns
    perm_next = table.permutation_next_columns
    main = k
    fixed = main + w + len(main_next)
    perm = fixed + fw + len(fixed_next)
    publics = perm + pw + len(perm_next)
    challenges = publics + num_publics
    logup_sum = challenges + 2
    selectors = logup_sum + 1
    return TableImage(
        num_constraints=k,
        main_next_columns=main_next,
        fixed_next_columns=fixed_next,
        perm_next_columns=perm_next,
        main=main,
        main_next=main + w,
        fixed=fixed,
        fixed_next=fixed + fw,
        perm=perm,
        perm_next=perm + pw,
        publics=publics,
        challenges=challenges,
        logup_sum=logup_sum,
        selectors=selectors,
        accumulator=selectors + 3,
    )


@dataclass(frozen=True)
class PublicImage:
    """Word offsets of the public-interaction image."""

    publics: int
    challenges: int
    accumulator: int
    flag: int

    @property
    def scratch(self) -> int:
        """First scratch word."""
        return self.flag + 1


def public_image(num_publics: int) -> PublicImage:
    """Lay out the public-interaction image."""
    return PublicImage(
        publics=0,
        challenges=num_publics,
        accumulator=num_publics + 2,
        flag=num_publics + 3,
    )
