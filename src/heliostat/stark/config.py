"""Named STARK parameter sets (blowup, queries, grinding, FRI folding) and their limits.

``default`` is chosen for proof size and prover time together (see docs/stark.md for the
measurements behind it); ``compact`` trades prover time for a proof about a quarter smaller
(for settlement, where calldata is paid per byte); ``conservative`` trades size for more
proven security; ``fast-test`` is for unit tests only: few queries, but every tampering class
is still caught.
``security.py`` computes the conjectured and proven bits of each set.
"""

from __future__ import annotations

from dataclasses import dataclass

from heliostat.stark.errors import ConfigError
from heliostat.stark.field import TWO_ADICITY

# Bounds every config must satisfy (also bounds on what a decoder accepts).
MAX_QUERIES = 256
MAX_POW_BITS = 32
MAX_LOG_BLOWUP = 4
MAX_LOG_ARITY = 4
MIN_LOG_HEIGHT = 2  # a table has at least 4 rows
MAX_CLEAR_LOG_HEIGHT = 10  # bounds the verifier's work on traces sent in the clear


@dataclass(frozen=True)
class StarkConfig:
    """One parameter set.

    ``log_blowup``: the low-degree extension is 2^log_blowup times the trace height.
    ``num_queries``: FRI query repetitions. ``pow_bits``: grinding before the queries.
    ``max_log_arity``: FRI folds by up to 2^max_log_arity per committed layer.
    ``log_final_poly_len``: FRI stops when the polynomial has fewer than 2^this
    coefficients and sends them in the clear. ``max_clear_log_height``: tables of at most
    2^this rows are sent in the clear, not committed (0: none; see heliostat.stark.clear).
    """

    name: str
    log_blowup: int
    num_queries: int
    pow_bits: int
    max_log_arity: int
    log_final_poly_len: int
    max_clear_log_height: int = 0

    def __post_init__(self) -> None:
        checks = (
            ("log_blowup", self.log_blowup, 1, MAX_LOG_BLOWUP),
            ("num_queries", self.num_queries, 1, MAX_QUERIES),
            ("pow_bits", self.pow_bits, 0, MAX_POW_BITS),
            ("max_log_arity", self.max_log_arity, 1, MAX_LOG_ARITY),
            ("log_final_poly_len", self.log_final_poly_len, 0, TWO_ADICITY),
            ("max_clear_log_height", self.max_clear_log_height, 0, MAX_CLEAR_LOG_HEIGHT),
        )
        for label, value, low, high in checks:
            if not low <= value <= high:
                raise ConfigError(
                    f"{label} must lie in [{low}, {high}]", expected=(low, high), got=value
                )

    @property
    def blowup(self) -> int:
        """The blowup factor 2^log_blowup."""
        return 1 << self.log_blowup

    @property
    def max_log_height(self) -> int:
        """The tallest trace a table may have: its quotient domain must fit the 2-adic group."""
        # quotient domains reach 2^(log_height + log_quotient_degree) ≤ 2^TWO_ADICITY; keep a
        # margin of 2 for constraint degrees up to 5 on top of the blowup
        return TWO_ADICITY - max(self.log_blowup, 2)

    def to_bytes(self) -> bytes:
        """Return the bytes the transcript absorbs (the name is not part of them)."""
        return (
            bytes([self.log_blowup, self.pow_bits, self.max_log_arity, self.log_final_poly_len])
            + self.num_queries.to_bytes(2, "big")
            + bytes([self.max_clear_log_height])
        )


DEFAULT = StarkConfig(
    name="default",
    log_blowup=2,
    num_queries=40,
    pow_bits=20,
    max_log_arity=3,
    log_final_poly_len=5,
    max_clear_log_height=6,
)
CONSERVATIVE = StarkConfig(
    name="conservative",
    log_blowup=3,
    num_queries=100,
    pow_bits=20,
    max_log_arity=3,
    log_final_poly_len=5,
    max_clear_log_height=7,
)
COMPACT = StarkConfig(
    name="compact",
    log_blowup=3,
    num_queries=27,
    pow_bits=20,
    max_log_arity=3,
    log_final_poly_len=5,
    max_clear_log_height=5,
)
FAST_TEST = StarkConfig(
    name="fast-test",
    log_blowup=1,
    num_queries=12,
    pow_bits=4,
    max_log_arity=2,
    log_final_poly_len=2,
)

PARAMETER_SETS: dict[str, StarkConfig] = {
    c.name: c for c in (DEFAULT, COMPACT, CONSERVATIVE, FAST_TEST)
}


def get_config(name: str) -> StarkConfig:
    """Look up a named parameter set."""
    try:
        return PARAMETER_SETS[name]
    except KeyError:
        raise ConfigError(
            f"unknown parameter set {name!r}", expected=sorted(PARAMETER_SETS), got=name
        ) from None
