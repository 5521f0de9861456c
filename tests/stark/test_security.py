"""The security calculator: conjectured bits of every set, proven bits per regime."""

from __future__ import annotations

from heliostat.stark.air import compile_machine
from heliostat.stark.config import (
    COMPACT,
    CONSERVATIVE,
    DEFAULT,
    FAST_TEST,
    PARAMETER_SETS,
    get_config,
)
from heliostat.stark.examples import synthetic
from heliostat.stark.security import FIELD_BITS, Shape, machine_shape, report


def _bench_shape(config):
    return machine_shape(compile_machine([synthetic.SyntheticAir(100)]), [20], config)


def test_named_sets_reach_100_conjectured_bits() -> None:
    assert set(PARAMETER_SETS) == {"default", "compact", "conservative", "fast-test"}
    for config in (DEFAULT, COMPACT, CONSERVATIVE):
        r = report(config, _bench_shape(config))
        assert r.conjectured_bits >= 100
    assert report(FAST_TEST, _bench_shape(FAST_TEST)).conjectured_bits < 40
    assert get_config("default") is DEFAULT


def test_conjectured_bits_formula() -> None:
    r = report(DEFAULT, Shape(log_height=20, columns=10, constraints=5, max_degree=3))
    assert r.conjectured_bits == min(40 * 2 + 20, FIELD_BITS - 22)
    tall = report(DEFAULT, Shape(log_height=26, columns=10, constraints=5, max_degree=3))
    assert tall.conjectured_bits == FIELD_BITS - 28  # the field caps it


def test_proven_bits_are_reported_per_step() -> None:
    r = report(CONSERVATIVE, _bench_shape(CONSERVATIVE))
    for regime in ("UDR", "JBR"):
        steps = r.proven[regime]
        assert steps["total"] == min(v for k, v in steps.items() if k != "total")
        assert {"ALI", "DEEP", "FRI batching", "FRI queries", "LogUp", "FRI round 1"} <= set(steps)
    assert r.proven["UDR"]["FRI queries"] > 100  # 100 queries at rate 1/8 in UDR
    assert 90 <= r.proven_bits() < 100  # batching with powers of α caps it below 100
    weaker = report(DEFAULT, _bench_shape(DEFAULT))
    assert weaker.proven_bits() < r.proven_bits()
