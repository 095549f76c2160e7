"""Bursts in volume, per series, hourly and daily, each with what drove it.

A *series* is the posts of the whole monitor (`all`) or of one slice of it: `source:<platform>`,
`language:<code>`, `topic:<id>`, `narrative:<name>`. Each series is counted in UTC hours and in UTC
days, with empty bins counted as zero from the monitor's first post to its last.

The baseline of a bin is the **rolling median** of the bins before it (a week of hours, two weeks
of days) and its spread the **median absolute deviation** (MAD, scaled by 1.4826 so it estimates a
standard deviation on normal data). Both are robust: a past burst occupies fewer than half of the
window's bins, so it does not lift the baseline the way a mean and standard deviation would, and a
spike is not hidden by the one before it. A week of hours holds every hour of the day seven times,
so the daily rhythm is inside the window rather than mistaken for a burst. Counts of rare events are
Poisson-like: where the MAD is zero (a mostly empty series) the spread falls back to sqrt(baseline),
at least 1, so a single stray post over an empty baseline is noise, not a spike.

A bin is *hot* when it holds at least `min_posts` posts (no spike from a handful of posts), lies
`z` spreads above the baseline and is at least `ratio` times it. Consecutive hot bins form one
spike, from the start of the first to the end of the last. A bin needs `min_history` bins before
it, so the first hours of a monitor cannot be a spike against an empty past.

The explanation of a spike compares the spike's posts with the posts of its baseline window: for
each topic, language, source and narrative, its share during the spike against its share before;
those whose share rose are the drivers, largest rise first. Its top posts are ranked by engagement
(likes + reposts + replies) and by typicality (closeness to the spike's mean embedding, when
embeddings are known), and sentiment is the mean score before against during.

Pure functions over plain records: the pipeline reads the store, this module decides.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import numpy as np

from store.spikes import PostEvent, Spike

MAD_SCALE = 1.4826
DIMENSIONS = ("topic", "language", "source", "narrative")


@dataclass(frozen=True)
class Granularity:
    name: str  # "hour" or "day"
    step: timedelta
    window: int  # bins in the rolling baseline
    min_history: int  # bins that must precede a candidate bin
    min_posts: int  # fewest posts a hot bin may hold


HOURLY = Granularity("hour", timedelta(hours=1), window=168, min_history=24, min_posts=10)
DAILY = Granularity("day", timedelta(days=1), window=14, min_history=5, min_posts=20)
GRANULARITIES = (HOURLY, DAILY)


@dataclass(frozen=True)
class SpikeSettings:
    z: float = 4.0  # spreads above the baseline
    ratio: float = 2.5  # times the baseline
    drivers_per_dimension: int = 3
    top_posts: int = 5
    min_driver_posts: int = 3  # a driver accounts for at least this many of the spike's posts


@dataclass(frozen=True)
class Burst:
    """A run of hot bins in one series: indices into its bins, and their counts and baselines."""

    first: int
    last: int
    posts: int
    baseline: float  # expected posts over the same bins
    peak: int


def find_bursts(counts: np.ndarray, granularity: Granularity, settings: SpikeSettings) -> list[Burst]:
    """The hot runs in one series of counts (see the module docstring for the rule)."""
    counts = np.asarray(counts, dtype=float)
    baselines, spreads = rolling_baseline(counts, granularity.window)
    hot = np.zeros(len(counts), dtype=bool)
    for i in range(granularity.min_history, len(counts)):
        base, spread = baselines[i], spreads[i]
        hot[i] = (
            counts[i] >= granularity.min_posts
            and counts[i] >= base + settings.z * spread
            and counts[i] >= settings.ratio * base
        )
    bursts = []
    i = 0
    while i < len(counts):
        if not hot[i]:
            i += 1
            continue
        j = i
        while j + 1 < len(counts) and hot[j + 1]:
            j += 1
        bursts.append(
            Burst(i, j, int(counts[i : j + 1].sum()), float(baselines[i : j + 1].sum()), int(counts[i : j + 1].max()))
        )
        i = j + 1
    return bursts


def rolling_baseline(counts: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """For each bin, the median of the `window` bins before it and their robust spread (scaled MAD,
    floored at sqrt(median) and 1 for sparse counts). Bins with no history get 0 and 1."""
    n = len(counts)
    if n < 2:
        return np.zeros(n), np.ones(n)
    padded = np.concatenate([np.full(window, np.nan), counts[:-1]])
    past = np.lib.stride_tricks.sliding_window_view(padded, window)[1:]  # row i: the bins before bin i+1
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the first bin's window is all empty
        medians = np.nanmedian(past, axis=1)
        mads = np.nanmedian(np.abs(past - medians[:, None]), axis=1) * MAD_SCALE
    baselines = np.concatenate([[0.0], medians])
    spreads = np.concatenate([[1.0], np.maximum(np.maximum(mads, np.sqrt(medians)), 1.0)])
    return baselines, spreads


def series_of(event: PostEvent) -> list[str]:
    """Every series a post counts in."""
    names = ["all", f"source:{event.source}"]
    if event.language and event.language not in ("und", "pending"):
        names.append(f"language:{event.language}")
    if event.topic is not None:
        names.append(f"topic:{event.topic}")
    names += [f"narrative:{name}" for name in event.narratives]
    return names


def detect_spikes(
    events: Sequence[PostEvent],
    settings: SpikeSettings = SpikeSettings(),
    granularities: Iterable[Granularity] = GRANULARITIES,
    typicality: Callable[[Sequence[int]], dict[int, float]] | None = None,
    labels: dict[str, str] | None = None,
) -> list[Spike]:
    """Every spike in every series of `events`, newest first, each with its explanation.

    `typicality(post_ids)` scores each post's closeness to the group's centre (None: unranked);
    `labels` names series values for people ("topic:3" → "unpaid, artists, labour").
    """
    if not events:
        return []
    spikes: list[Spike] = []
    for granularity in granularities:
        origin = _floor(min(e.created_at for e in events), granularity)
        bins = np.array([int((_utc(e.created_at) - origin) / granularity.step) for e in events])
        n_bins = int(bins.max()) + 1
        members: dict[str, list[int]] = {}
        for index, event in enumerate(events):
            for name in series_of(event):
                members.setdefault(name, []).append(index)
        for name in sorted(members):
            indices = np.array(members[name])
            if len(indices) < granularity.min_posts:
                continue
            counts = np.bincount(bins[indices], minlength=n_bins)
            for burst in find_bursts(counts, granularity, settings):
                during = [events[i] for i in indices if burst.first <= bins[i] <= burst.last]
                before_first = max(0, burst.first - granularity.window)
                before = [events[i] for i in indices if before_first <= bins[i] < burst.first]
                spike = Spike(
                    series=name,
                    granularity=granularity.name,
                    start=origin + burst.first * granularity.step,
                    end=origin + (burst.last + 1) * granularity.step,
                    posts=burst.posts,
                    baseline=round(burst.baseline, 2),
                    peak=burst.peak,
                )
                spike.drivers = drivers(during, before, name, settings, labels or {})
                spike.top_posts = top_posts(during, settings.top_posts, typicality)
                spike.sentiment = sentiment_movement(during, before)
                spikes.append(spike)
    spikes.sort(key=lambda s: (s.start, s.series, s.granularity), reverse=True)
    return spikes


def drivers(
    during: Sequence[PostEvent],
    before: Sequence[PostEvent],
    series: str,
    settings: SpikeSettings,
    labels: dict[str, str],
) -> list[dict]:
    """Slices whose share of the series rose in the spike, by how much it rose.

    The series' own dimension is left out (every post of `language:ar` is in Arabic).
    """
    own = series.split(":", 1)[0]
    found = []
    for dimension in DIMENSIONS:
        if dimension == own:
            continue
        now = Counter(v for e in during for v in _values(e, dimension))
        then = Counter(v for e in before for v in _values(e, dimension))
        rising: list[dict] = []
        for value, count in now.items():
            share = count / len(during)
            share_before = then[value] / len(before) if before else 0.0
            if count >= settings.min_driver_posts and share > share_before:
                rising.append(
                    {
                        "kind": dimension,
                        "value": value,
                        "label": labels.get(f"{dimension}:{value}", value),
                        "posts": count,
                        "share": round(share, 3),
                        "share_before": round(share_before, 3),
                    }
                )
        rising.sort(key=lambda d: (d["share"] - d["share_before"], d["posts"]), reverse=True)
        found += rising[: settings.drivers_per_dimension]
    found.sort(key=lambda d: d["share"] - d["share_before"], reverse=True)
    return found


def _values(event: PostEvent, dimension: str) -> tuple[str, ...]:
    if dimension == "narrative":
        return event.narratives
    value = {"topic": event.topic, "language": event.language, "source": event.source}[dimension]
    return (value,) if value is not None and value not in ("und", "pending") else ()


def top_posts(
    during: Sequence[PostEvent], limit: int, typicality: Callable[[Sequence[int]], dict[int, float]] | None
) -> dict[str, list[dict]]:
    """The spike's most engaged posts and (when embeddings are known) its most typical ones."""

    def card(event: PostEvent) -> dict:
        return {"id": event.id, "url": event.url, "text": event.snippet, "engagement": event.engagement}

    ranked = {"engagement": [card(e) for e in sorted(during, key=lambda e: (-e.engagement, e.id))[:limit]]}
    if typicality is not None:
        scores = typicality([e.id for e in during])
        typical = sorted((e for e in during if e.id in scores), key=lambda e: (-scores[e.id], e.id))[:limit]
        ranked["typicality"] = [{**card(e), "typicality": round(scores[e.id], 3)} for e in typical]
    return ranked


def sentiment_movement(during: Sequence[PostEvent], before: Sequence[PostEvent]) -> dict[str, float | None]:
    """Mean sentiment (-1 … 1) before and during the spike, and the change; None where unscored."""
    now = _mean(e.sentiment for e in during)
    then = _mean(e.sentiment for e in before)
    change = round(now - then, 3) if now is not None and then is not None else None
    return {"before": then, "during": now, "change": change}


def _mean(values: Iterable[float | None]) -> float | None:
    scored = [v for v in values if v is not None]
    return round(float(np.mean(scored)), 3) if scored else None


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _floor(moment: datetime, granularity: Granularity) -> datetime:
    moment = _utc(moment)
    if granularity.step >= timedelta(days=1):
        return moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return moment.replace(minute=0, second=0, microsecond=0)


def typicality_from(post_ids: Sequence[int], matrix: np.ndarray) -> Callable[[Sequence[int]], dict[int, float]] | None:
    """A typicality function over stored embeddings: cosine of each post to the group's mean vector."""
    if not len(post_ids):
        return None
    row = {pid: i for i, pid in enumerate(post_ids)}

    def typicality(group: Sequence[int]) -> dict[int, float]:
        known = [pid for pid in group if pid in row]
        if not known:
            return {}
        vectors = matrix[[row[pid] for pid in known]]
        centre = vectors.mean(axis=0)
        norm = float(np.linalg.norm(centre)) or 1.0
        scores = vectors @ (centre / norm) / np.maximum(np.linalg.norm(vectors, axis=1), 1e-12)
        return {pid: float(score) for pid, score in zip(known, scores, strict=True)}

    return typicality
