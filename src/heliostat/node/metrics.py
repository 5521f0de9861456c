"""Prometheus metrics in the text exposition format, without a client library."""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Callable

# Soft-confirmation latency buckets, in seconds.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Histogram:
    """Cumulative-bucket histogram."""

    def __init__(self, buckets: tuple[float, ...] = LATENCY_BUCKETS) -> None:
        self.buckets = buckets
        self.counts = [0] * (len(buckets) + 1)
        self.total = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        """Record one observation."""
        self.counts[bisect.bisect_left(self.buckets, value)] += 1
        self.total += value
        self.count += 1


class Metrics:
    """Counters, gauges (read at scrape time) and histograms of the node."""

    def __init__(self) -> None:
        self.counters: dict[str, defaultdict[tuple[tuple[str, str], ...], float]] = {}
        self.help: dict[str, str] = {}
        self.gauges: dict[str, Callable[[], float]] = {}
        self.histograms: dict[str, Histogram] = {}

    def counter(self, name: str, help_text: str) -> None:
        """Declare a counter."""
        self.counters[name] = defaultdict(float)
        self.help[name] = help_text

    def inc(self, name: str, amount: float = 1.0, **labels: str) -> None:
        """Add to a counter."""
        self.counters[name][tuple(sorted(labels.items()))] += amount

    def gauge(self, name: str, help_text: str, read: Callable[[], float]) -> None:
        """Declare a gauge read when scraped."""
        self.gauges[name] = read
        self.help[name] = help_text

    def histogram(self, name: str, help_text: str) -> Histogram:
        """Declare a histogram."""
        self.histograms[name] = Histogram()
        self.help[name] = help_text
        return self.histograms[name]

    def render(self) -> str:
        """Return the exposition text."""
        lines: list[str] = []
        for name, series in self.counters.items():
            lines += [f"# HELP {name} {self.help[name]}", f"# TYPE {name} counter"]
            for labels, value in sorted(series.items()):
                text = ",".join(f'{k}="{_escape(v)}"' for k, v in labels)
                lines.append(f"{name}{{{text}}} {value:g}" if text else f"{name} {value:g}")
        for name, read in self.gauges.items():
            lines += [f"# HELP {name} {self.help[name]}", f"# TYPE {name} gauge"]
            lines.append(f"{name} {read():g}")
        for name, hist in self.histograms.items():
            lines += [f"# HELP {name} {self.help[name]}", f"# TYPE {name} histogram"]
            running = 0
            for bound, count in zip(hist.buckets, hist.counts, strict=False):
                running += count
                lines.append(f'{name}_bucket{{le="{bound:g}"}} {running}')
            lines.append(f'{name}_bucket{{le="+Inf"}} {hist.count}')
            lines.append(f"{name}_sum {hist.total:g}")
            lines.append(f"{name}_count {hist.count}")
        return "\n".join(lines) + "\n"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
