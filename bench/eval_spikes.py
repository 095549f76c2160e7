"""`python -m bench.eval_spikes`: precision and recall of spike detection on planted spikes.

Synthetic hourly and daily series of Poisson counts at several baseline levels (with a daily
rhythm of ±30 % on the hourly ones), each with spikes planted at known bins, `FACTOR` times the
level there, lasting 1-4 bins. A detected burst is right when it overlaps a planted spike; recall
is the share of planted spikes some burst overlaps. The anchor (issue 10): both ≥ 0.9 at 4×.
"""

from __future__ import annotations

import numpy as np

from analyze.spikes import DAILY, HOURLY, Granularity, SpikeSettings, find_bursts

SERIES_PER_LEVEL = 40
SPIKES_PER_SERIES = 3
ANCHOR = 0.9


def planted_series(
    rng: np.random.Generator, level: float, granularity: Granularity, factor: float
) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Counts over four weeks of hours (or twelve weeks of days) and the planted (first, last) bins."""
    hourly = granularity is HOURLY
    n = 24 * 28 if hourly else 84
    rhythm = 1 + 0.3 * np.sin(2 * np.pi * np.arange(n) / 24) if hourly else np.ones(n)
    rates = level * rhythm
    planted: list[tuple[int, int]] = []
    gap = n // (SPIKES_PER_SERIES + 1)
    for k in range(SPIKES_PER_SERIES):
        first = int(gap * (k + 1) + rng.integers(-gap // 4, gap // 4))
        last = first + int(rng.integers(0, 4 if hourly else 2))
        rates[first : last + 1] *= factor
        planted.append((first, last))
    return rng.poisson(rates), planted


def evaluate(granularity: Granularity, level: float, factor: float, seed: int = 0) -> tuple[float, float, int]:
    rng = np.random.default_rng(seed)
    detected = right = planted_total = found = 0
    for _ in range(SERIES_PER_LEVEL):
        counts, planted = planted_series(rng, level, granularity, factor)
        bursts = find_bursts(counts, granularity, SpikeSettings())
        detected += len(bursts)
        right += sum(1 for b in bursts if any(b.first <= last and first <= b.last for first, last in planted))
        planted_total += len(planted)
        found += sum(1 for first, last in planted if any(b.first <= last and first <= b.last for b in bursts))
    precision = right / detected if detected else 1.0
    return precision, found / planted_total, planted_total


def main() -> None:
    print(f"anchor: precision and recall >= {ANCHOR} on spikes 4x the baseline (issue 10)")
    print(f"{'bins':<5} {'baseline/bin':>12} {'factor':>6} {'planted':>7} {'precision':>9} {'recall':>6}")
    for granularity, levels in ((HOURLY, (3, 10, 30, 100)), (DAILY, (5, 20, 100, 500))):
        for factor in (4.0, 3.0):
            for level in levels:
                precision, recall, planted = evaluate(granularity, level, factor)
                print(
                    f"{granularity.name:<5} {level:>12} {factor:>5.0f}x {planted:>7} {precision:>9.3f} {recall:>6.3f}"
                )


if __name__ == "__main__":
    main()
