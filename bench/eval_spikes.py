"""`python -m bench.eval_spikes [--seeds N] [--first-seed K]`: spike detection's precision and recall on planted spikes.

Synthetic series of Poisson counts at several baseline levels, each with spikes planted at known
bins, `FACTOR` times the rate there, lasting 1-4 hours or 1-2 days. Hourly series run four weeks,
daily ones twelve. Two shapes each:
- hourly `rhythm`: a daily rhythm of ±30 %; `seasonal`: a daily rhythm of ±60 % peaking in the
  afternoon UTC and weekends at 60 % of weekdays;
- daily `flat`; `seasonal`: weekends at 60 % of weekdays.
The level is the mean rate over the series, so a planted spike on a quiet weekend night is 4× a
rate well below the level.

A detected burst is right when it overlaps a planted spike; recall is the share of planted spikes
some burst overlaps. Each row pools `SERIES_PER_LEVEL` series per seed over several seeds, and
also prints the worst seed's precision and recall, so a rule tuned to one seed shows. On the
sparsest rows, and on any 4x row below the anchor, it also prints an *oracle*: the same window
test given the true rates, the ceiling of any detector that must estimate them; a row whose oracle
is below the anchor too is marked `limit` (at that size, a burst is not told from noise). The
anchor (issue 10): both ≥ 0.9 at 4×.
"""

from __future__ import annotations

import argparse
import os
import resource
import time

import numpy as np

from analyze.spikes import DAILY, HOURLY, Burst, Granularity, SpikeSettings, find_bursts, upper_tail

SERIES_PER_LEVEL = 40
SPIKES_PER_SERIES = 3
ANCHOR = 0.9
SHAPES = {HOURLY.name: ("rhythm", "seasonal"), DAILY.name: ("flat", "seasonal")}
LEVELS = {HOURLY.name: (3, 10, 30, 100), DAILY.name: (5, 20, 100, 500)}


def shape_of(granularity: Granularity, shape: str, n: int) -> np.ndarray:
    """Relative rate of each bin (mean 1); bin 0 is a Monday 00:00 UTC."""
    if granularity is HOURLY:
        hours = np.arange(n)
        if shape == "rhythm":
            return 1 + 0.3 * np.sin(2 * np.pi * hours / 24)
        daily = 1 + 0.6 * np.sin(2 * np.pi * (hours - 9) / 24)  # quietest at 03:00, busiest at 15:00
        weekly = np.where((hours // 24) % 7 >= 5, 0.6, 1.0)
        rates = daily * weekly
    else:
        rates = np.where(np.arange(n) % 7 >= 5, 0.6, 1.0) if shape == "seasonal" else np.ones(n)
    return rates / rates.mean()


def planted_series(
    rng: np.random.Generator, level: float, granularity: Granularity, factor: float, shape: str
) -> tuple[np.ndarray, list[tuple[int, int]], np.ndarray]:
    """Counts over four weeks of hours (or twelve weeks of days), the planted (first, last) bins,
    and the rates without the spikes (what an oracle would know)."""
    hourly = granularity is HOURLY
    n = 24 * 28 if hourly else 84
    rates = level * shape_of(granularity, shape, n)
    quiet = rates.copy()
    planted: list[tuple[int, int]] = []
    gap = n // (SPIKES_PER_SERIES + 1)
    for k in range(SPIKES_PER_SERIES):
        first = int(gap * (k + 1) + rng.integers(-gap // 4, gap // 4))
        last = first + int(rng.integers(0, 4 if hourly else 2))
        rates[first : last + 1] *= factor
        planted.append((first, last))
    return rng.poisson(rates), planted, quiet


def oracle_bursts(counts: np.ndarray, quiet: np.ndarray, granularity: Granularity) -> list[Burst]:
    """The same window test with the true rates as expectations (Poisson, nothing estimated): the
    ceiling any detector with that test and that minimum size can reach on a row."""
    covered = np.zeros(len(counts), dtype=bool)
    settings = SpikeSettings()
    for width in range(1, granularity.max_width + 1):
        starts = np.arange(granularity.min_history, len(counts) - width + 1)
        if not len(starts):
            break
        posts = np.convolve(counts, np.ones(width), mode="valid")[starts]
        expected = np.convolve(quiet, np.ones(width), mode="valid")[starts]
        hot = (
            (posts >= granularity.min_posts)
            & (posts - expected >= granularity.min_excess)
            & (posts >= settings.ratio * expected)
            & (upper_tail(posts, expected, 1.0) < granularity.alpha)
        )
        for start in starts[hot]:
            covered[start : start + width] = True
    edges = np.flatnonzero(np.diff(np.concatenate([[0], covered.astype(int), [0]])))
    return [Burst(int(a), int(b) - 1, 0, 0.0, 0) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def evaluate(
    granularity: Granularity, level: float, factor: float, shape: str, seed: int = 0, oracle: bool = False
) -> tuple[int, int, int, int]:
    """(bursts detected, of them right, spikes planted, of them found) over one seed's series."""
    rng = np.random.default_rng(seed)
    detected = right = planted_total = found = 0
    for _ in range(SERIES_PER_LEVEL):
        counts, planted, quiet = planted_series(rng, level, granularity, factor, shape)
        if oracle:
            bursts = oracle_bursts(counts, quiet, granularity)
        else:
            bursts = find_bursts(counts, granularity, SpikeSettings())
        detected += len(bursts)
        right += sum(1 for b in bursts if any(b.first <= last and first <= b.last for first, last in planted))
        planted_total += len(planted)
        found += sum(1 for first, last in planted if any(b.first <= last and first <= b.last for b in bursts))
    return detected, right, planted_total, found


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.eval_spikes", description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=5, help="seeds per row (default 5)")
    parser.add_argument("--first-seed", type=int, default=0, help="first seed (default 0), to check other draws")
    args = parser.parse_args(argv)
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    wall, cpu = time.monotonic(), time.process_time()
    print(f"anchor: precision and recall >= {ANCHOR} on spikes 4x the baseline (issue 10)")
    print(
        f"{SERIES_PER_LEVEL} series x {SPIKES_PER_SERIES} spikes per seed, "
        f"seeds {seeds[0]}-{seeds[-1]}; worst = worst seed"
    )
    print("oracle: the same test given the true rates, on the sparse 4x rows and on every 4x row below the anchor;")
    print(
        f"'limit' marks a row where the oracle itself is below {ANCHOR}: no detector with this test reaches the anchor"
    )
    header = (
        f"{'bins':<5} {'shape':<9} {'baseline/bin':>12} {'factor':>6} {'planted':>7} {'precision':>9} {'recall':>6}"
    )
    print(f"{header} {'worst P':>7} {'worst R':>7}  {'oracle P/R':>11}")
    misses, limits = [], []
    for granularity in (HOURLY, DAILY):
        for factor in (4.0, 3.0):
            for shape in SHAPES[granularity.name]:
                for level in LEVELS[granularity.name]:
                    runs = [evaluate(granularity, level, factor, shape, seed) for seed in seeds]
                    detected, right, planted, found = (sum(column) for column in zip(*runs, strict=True))
                    precision = right / detected if detected else 1.0
                    recall = found / planted
                    worst_p = min(r[1] / r[0] if r[0] else 1.0 for r in runs)
                    worst_r = min(r[3] / r[2] for r in runs)
                    below = factor == 4.0 and min(precision, recall) < ANCHOR
                    ceiling = ""
                    if factor == 4.0 and (below or level == LEVELS[granularity.name][0]):
                        known = [evaluate(granularity, level, factor, shape, s, oracle=True) for s in seeds]
                        hit, ok, total, got = (sum(column) for column in zip(*known, strict=True))
                        oracle_p, oracle_r = ok / hit if hit else 1.0, got / total
                        limit = min(oracle_p, oracle_r) < ANCHOR
                        ceiling = f"  {oracle_p:.3f}/{oracle_r:.3f}{'  limit' if limit else ''}"
                        if below and limit:
                            limits.append(f"{granularity.name} {shape} {level}")
                    print(
                        f"{granularity.name:<5} {shape:<9} {level:>12} {factor:>5.0f}x {planted:>7} "
                        f"{precision:>9.3f} {recall:>6.3f} {worst_p:>7.3f} {worst_r:>7.3f}{ceiling}"
                    )
                    if below and f"{granularity.name} {shape} {level}" not in limits:
                        misses.append(f"{granularity.name} {shape} {level}")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(f"4x rows below the anchor where the oracle reaches it: {', '.join(misses) or 'none'}")
    print(f"4x rows below the anchor at the statistical limit (the oracle too): {', '.join(limits) or 'none'}")
    print(
        f"wall {time.monotonic() - wall:.1f} s, cpu {time.process_time() - cpu:.1f} s "
        f"(user {usage.ru_utime:.1f} s), load average {os.getloadavg()[0]:.2f}"
    )


if __name__ == "__main__":
    main()
