"""Bursts in volume, per series, hourly and daily, each with what drove it.

A *series* is the posts of the whole monitor (`all`) or of one slice of it: `source:<platform>`,
`language:<code>`, `topic:<id>`, `narrative:<name>`. Each series is counted in UTC hours and in UTC
days, with empty bins counted as zero from the monitor's first post to its last.

**Why a count test, not median and MAD alone.** Post counts are counts: a series of three posts an
hour has a median of 2, 3 or 4 and a median absolute deviation of 1 or 2, so a rule in MAD units
jumps with the window and either floods or misses. Twelve posts in an hour against three expected
is nevertheless clear (a Poisson variable of mean 3 reaches 12 once in 14,000 hours). So each bin
gets an *expected count* from a robust, seasonal baseline, and a burst is judged by how unlikely
its count is under a negative binomial distribution around that expectation. (A burst expected to
bring 12 posts brings fewer half the time, so one-hour bursts on so sparse a series stay near the
limit of what any rule can tell from noise; bench/eval_spikes.py prints that ceiling.)

**Expected count of a bin** (only bins before it are used):
1. Outliers of the past are set aside (a Hampel filter): a bin above the median of the week (four
   weeks of days) before it by more than `OUTLIER_SPREADS` robust spreads (1.4826 × MAD, at least
   √median and 1) counts as that median afterwards, so an earlier burst does not lift the baseline
   of the bins after it.
2. The *level* is the mean of the cleaned bins of the last week (hours) or four weeks (days): whole
   weeks, so every hour of the day and every weekday weighs the same. In a series' first week of
   hours, whose weekdays are not known yet, it is the mean of the bins of the bin's own kind, UTC
   weekend or working day (the last day while that kind has fewer than twelve hours): the first
   Sunday is not judged by the weekdays before it, nor the Monday after it by that weekend.
3. The *season* is the hour of the day and the weekday (hours) or the weekday (days): the ratio of
   the cleaned posts at the same moment over the last four (twelve) weeks to what the flat mean of
   those weeks would put there, shrunk by `SEASON_PRIOR_POSTS` pseudo-posts towards a prior, so a
   sparse series stays near the prior rather than chasing noise and a busy one learns its rhythm.
   The hour of the day is learnt from the three hours around it, shrunk towards the nine around
   it, shrunk towards flat: rhythms of the day are smooth, and the broad shape is learnt from
   three times the posts in the first days. The weekday of an hour is its whole UTC day's share
   (a window across midnight would blur Saturday into Friday). Hours multiply the two.
4. A burst is sudden: once a rise has lasted more than half of the `recent` bins (a day of hours,
   a week of days), their median becomes the level, so a lasting rise (the weeks after a leak)
   becomes the new level instead of one spike that never ends. Only a median `RISE_SPREADS`
   standard errors above the level counts: taking the larger of two estimates of an unchanged
   level would overestimate it, and cost recall.
   Expected = level × season.

**Overdispersion.** Real counts vary more than Poisson counts (news cycles, threads). The
dispersion φ of a bin is the mean squared Pearson residual, (cleaned − expected)² / expected, each
capped at `DISPERSION_CAP`, over the bins of the season window before it, at least 1. A count is
compared with a negative binomial of the expected mean and variance φ × mean (Poisson when φ = 1).

**A spike.** Every window of 1 to `max_width` consecutive bins is tested: it is *hot* when the
chance of at least its count is below the granularity's `alpha` (stricter for hours, which are
tested 24 times as often), it holds at least `min_posts` posts, `min_excess`
posts more than expected and at least `ratio` times the expectation. So a handful of posts is
never a spike, however empty the baseline, and a burst spread over a few bins is found from their
sum even where no single bin stands out. Hot windows that overlap or touch form one spike; bins at
its edges that are not themselves above expectation (chance of their count at least `edge_alpha`)
are trimmed, so the spike starts and ends where the burst does. A window needs `min_history` bins
before it, so the first hours of a monitor cannot be a spike against an empty past.

The explanation of a spike compares the spike's posts with the posts of its baseline window: for
each topic, language, source and narrative, its share during the spike against its share before;
those whose share rose are the drivers, largest rise first. Its top posts are ranked by engagement
(likes + reposts + replies) and by typicality (closeness to the spike's mean embedding, when
embeddings are known), and sentiment is the mean score before against during.

Pure functions over plain records: the pipeline reads the store, this module decides.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from store.spikes import PostEvent, Spike

MAD_SCALE = 1.4826  # turns a median absolute deviation into a standard deviation on normal data
OUTLIER_SPREADS = 4.0  # a past bin this many robust spreads above its median is an outlier
SEASON_PRIOR_POSTS = 30.0  # pseudo-posts pulling the seasonal profile towards flat
RISE_SPREADS = 3.0  # a recent median this many standard errors above the level is a new level
MEDIAN_ERROR = 1.2533  # the standard error of a median is this times that of a mean, on normal data
MIN_EXPECTED = 1e-3  # an empty past still expects a little, so the test is defined
DISPERSION_CAP = 9.0  # one bin adds at most this squared Pearson residual (3 standard deviations)
DIMENSIONS = ("topic", "language", "source", "narrative")


@dataclass(frozen=True)
class Season:
    """One rhythm of a series, see `seasonal_factors`.

    `period` bins make one cycle; a bin's factor is learnt from the `span` bins around the same
    phase (centred), or from the `span`-bin block holding it (`aligned`: the UTC day of a weekday);
    `wide` > `span` learns a smoother profile first, which the narrow one is shrunk towards.
    """

    period: int
    span: int
    wide: int = 0
    aligned: bool = False


@dataclass(frozen=True)
class Granularity:
    name: str  # "hour" or "day"
    step: timedelta
    seasons: tuple[Season, ...]  # the rhythms, multiplied
    window: int  # bins of the level, the outlier median and the dispersion (whole weeks)
    recent: int  # bins after which a sustained rise is the new level rather than a spike
    season_window: int  # bins the seasonal profile is learnt from (whole weeks)
    min_history: int  # bins that must precede a candidate window
    max_width: int  # widest window of consecutive bins tested together
    alpha: float  # a window is hot when a count at least as high is this unlikely
    min_posts: int  # fewest posts a spike may hold
    min_excess: int  # fewest posts a spike holds above its expectation


HOURLY = Granularity(
    "hour",
    timedelta(hours=1),
    seasons=(Season(24, 3, wide=9), Season(168, 24, aligned=True)),
    window=168,
    recent=24,
    season_window=672,
    min_history=24,
    max_width=3,
    alpha=1.5e-4,
    min_posts=10,
    min_excess=8,
)
DAILY = Granularity(
    "day",
    timedelta(days=1),
    seasons=(Season(7, 1),),
    window=28,
    recent=7,
    season_window=84,
    min_history=7,
    max_width=2,
    alpha=2e-3,
    min_posts=10,
    min_excess=8,
)
GRANULARITIES = (HOURLY, DAILY)


@dataclass(frozen=True)
class SpikeSettings:
    edge_alpha: float = 0.01  # an edge bin stays in the spike when its own count is this unlikely
    ratio: float = 2.0  # a hot window holds at least this many times its expectation
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


@dataclass(frozen=True)
class Baseline:
    """Per bin, from the bins before it: the expected count and the dispersion (variance / mean)."""

    expected: np.ndarray
    dispersion: np.ndarray


def find_bursts(counts: np.ndarray, granularity: Granularity, settings: SpikeSettings, offset: int = 0) -> list[Burst]:
    """The spikes in one series of counts (see the module docstring for the rule); `offset`: bins
    from the start of a UTC week (Monday 00:00) to bin 0."""
    counts = np.asarray(counts, dtype=float)
    n = len(counts)
    base = baseline(counts, granularity, offset)
    covered = np.zeros(n, dtype=bool)
    for width in range(1, granularity.max_width + 1):
        if n - width < granularity.min_history:
            break
        starts = np.arange(granularity.min_history, n - width + 1)
        posts = _window_sums(counts, width)[starts]
        expected = _window_sums(base.expected, width)[starts]
        hot = (
            (posts >= granularity.min_posts)
            & (posts - expected >= granularity.min_excess)
            & (posts >= settings.ratio * expected)
        )
        hot[hot] &= upper_tail(posts[hot], expected[hot], base.dispersion[starts][hot]) < granularity.alpha
        for start in starts[hot]:
            covered[start : start + width] = True
    edge_chance = upper_tail(counts, base.expected, base.dispersion)
    bursts = []
    for first, last in _runs(covered):
        first, last = _trimmed(first, last, counts, base.expected, edge_chance, granularity, settings)
        span = slice(first, last + 1)
        bursts.append(
            Burst(first, last, int(counts[span].sum()), float(base.expected[span].sum()), int(counts[span].max()))
        )
    return bursts


def baseline(counts: np.ndarray, granularity: Granularity, offset: int = 0) -> Baseline:
    """Each bin's expected count (level × season) and dispersion, from the cleaned bins before it."""
    counts = np.asarray(counts, dtype=float)
    cleaned = hampel_cleaned(counts, granularity.window, granularity.min_history)
    season = np.ones(len(counts))
    for rhythm in granularity.seasons:
        season *= seasonal_factors(cleaned, rhythm, granularity.season_window, offset)
    level = _level(cleaned, season, granularity, offset)
    # A burst is sudden: once the series has stayed high for more than half of the `recent` bins,
    # their median (before the season) is the level, and the spike is over. Only a median clearly
    # above the level counts (by `RISE_SPREADS` of its standard error, 1.2533 √(level / bins) for
    # Poisson counts): the larger of two estimates of the same level would overestimate it.
    recent = np.nan_to_num(trailing_medians(counts / season, granularity.recent)[0])
    margin = RISE_SPREADS * MEDIAN_ERROR * np.sqrt(level / granularity.recent)
    level = np.where(recent > level + margin, recent, level)
    expected = np.maximum(level * season, MIN_EXPECTED)
    # Squared Pearson residuals of the bins that had a baseline, each capped so that one burst
    # (or the first post of a new topic, against an expectation of nothing) cannot dominate.
    residuals = np.minimum((cleaned - expected) ** 2 / expected, DISPERSION_CAP)
    residuals[: granularity.min_history] = 0.0
    judged = (np.arange(len(counts)) >= granularity.min_history).astype(float)
    total, seen = (_trailing_sums(v, granularity.season_window) for v in (residuals, judged))
    dispersion = np.divide(total, seen, out=np.ones_like(total), where=seen > 0)
    return Baseline(expected, np.maximum(dispersion, 1.0))


def _level(cleaned: np.ndarray, season: np.ndarray, granularity: Granularity, offset: int) -> np.ndarray:
    """Per bin, the posts of the last `window` bins over what the season puts in them.

    Until a whole cycle of the longest rhythm has been seen (the first week of hours), weekdays are
    unknown, so a bin's level comes from the bins of its own kind only, weekend (UTC) or working
    day: the first Sunday is not judged by the weekdays, nor the Monday after it by the weekend.
    While its kind has fewer than half of `recent` bins, the last `recent` bins stand in.
    """

    def mean(values: np.ndarray, weights: np.ndarray, window: int) -> np.ndarray:
        posts, weight = _trailing_sums(values, window), _trailing_sums(weights, window)
        return np.divide(posts, weight, out=np.zeros_like(posts), where=weight > 0)

    level = mean(cleaned, season, granularity.window)
    index = np.arange(len(cleaned))
    early = index < max(rhythm.period for rhythm in granularity.seasons)
    weekend = ((index + offset) // round(timedelta(days=1) / granularity.step)) % 7 >= 5
    last_bins = mean(cleaned, season, granularity.recent)
    for kind in (weekend, ~weekend):
        mask = kind.astype(float)
        known = _trailing_sums(mask, granularity.window) >= granularity.recent / 2
        own = np.where(known, mean(cleaned * mask, season * mask, granularity.window), last_bins)
        level = np.where(early & kind, own, level)
    return level


def hampel_cleaned(counts: np.ndarray, window: int, min_history: int) -> np.ndarray:
    """The counts with each outlier replaced by the median of the `window` bins before it.

    An outlier lies more than `OUTLIER_SPREADS` spreads above that median, the spread being the
    scaled MAD, at least sqrt(median) (Poisson) and 1. The first `min_history` bins stay as they
    are: a few night hours would make the morning look like a burst.
    """
    medians, mads = trailing_medians(counts, window)
    spreads = np.maximum(np.maximum(mads * MAD_SCALE, np.sqrt(medians)), 1.0)
    outliers = (counts > medians + OUTLIER_SPREADS * spreads) & (np.arange(len(counts)) >= min_history)
    cleaned = counts.copy()
    cleaned[outliers] = medians[outliers]
    return cleaned


def trailing_medians(values: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """The median of the up to `window` values before each index, and their median absolute
    deviation (NaN for the first index, which has nothing before it)."""
    n = len(values)
    padded = np.concatenate([np.full(window, np.nan), values[:-1]]) if n else np.full(window, np.nan)
    past = np.lib.stride_tricks.sliding_window_view(padded, window)[:n]  # row i: the values before i
    known = np.minimum(np.arange(n), window)  # values before each index
    medians = _sorted_medians(np.sort(past, axis=1), known)
    with np.errstate(invalid="ignore"):
        mads = _sorted_medians(np.sort(np.abs(past - medians[:, None]), axis=1), known)
    return medians, mads


def _sorted_medians(rows: np.ndarray, known: np.ndarray) -> np.ndarray:
    """The median of the first `known` values of each sorted row (NaN, sorted last, fills the rest):
    what np.nanmedian gives, without its cost on many short rows."""
    index = np.arange(len(rows))
    low, high = np.maximum((known - 1) // 2, 0), known // 2
    with np.errstate(invalid="ignore"):
        medians = (rows[index, low] + rows[index, np.minimum(high, rows.shape[1] - 1)]) / 2
    return np.where(known > 0, medians, np.nan)


def seasonal_factors(cleaned: np.ndarray, season: Season, window: int, offset: int = 0) -> np.ndarray:
    """Per bin, how much busier the same moment one, two … periods back was than its periods were.

    The posts of the `span` bins around the same phase in the periods within `window`, against what
    the flat mean of those periods would put there, both plus `SEASON_PRIOR_POSTS` pseudo-posts of
    the prior: near the prior until the series holds enough posts to tell. The prior is flat (1),
    or where `wide` is set the same estimate over `wide` bins, so that a sparse series learns the
    broad shape of its day from all its posts before it learns single hours. Hours use the hour of
    the day (three hours around it, shrunk towards nine) and the weekday (its whole UTC day: a
    window across midnight would blur Saturday into Friday); `offset` is bin 0's place in its UTC
    week (Monday 00:00 is 0).
    """
    same, flat = _phase_posts(cleaned, season.period, season.span, season.aligned, window, offset)
    prior: float | np.ndarray = 1.0
    if season.wide > season.span:
        wide_same, wide_flat = _phase_posts(cleaned, season.period, season.wide, season.aligned, window, offset)
        prior = (wide_same + SEASON_PRIOR_POSTS) / (wide_flat + SEASON_PRIOR_POSTS)
    return (same + SEASON_PRIOR_POSTS * prior) / (flat + SEASON_PRIOR_POSTS)


def _phase_posts(
    cleaned: np.ndarray, period: int, span: int, aligned: bool, window: int, offset: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per bin: the posts of the `span` bins at its phase in the earlier periods within `window`,
    and the posts the flat mean of each of those periods would put in those bins."""
    n = len(cleaned)
    same_posts, flat_posts = np.zeros(n), np.zeros(n)
    totals = np.concatenate([[0.0], np.cumsum(cleaned)])
    index = np.arange(n)
    lower = index - (index + offset) % span if aligned else index - span // 2
    lower, upper = np.clip(lower, 0, n), np.clip(lower + span, 0, n)
    around, widths = totals[upper] - totals[lower], (upper - lower).astype(float)  # clipped at the edges
    seasons = window // period
    for phase in range(min(period, n)):
        same = np.arange(phase, n, period)
        posts = np.concatenate([[0.0], np.cumsum(around[same])])
        bins = np.concatenate([[0.0], np.cumsum(widths[same])])
        steps = np.arange(len(same))
        seen = np.minimum(steps, seasons)  # earlier periods in the window
        same_posts[same] = posts[steps] - posts[steps - seen]
        flat_rate = np.divide(
            totals[same] - totals[same - seen * period], seen * period, out=np.zeros(len(same)), where=seen > 0
        )
        flat_posts[same] = flat_rate * (bins[steps] - bins[steps - seen])
    return same_posts, flat_posts


def upper_tail(observed: ArrayLike, expected: ArrayLike, dispersion: ArrayLike) -> np.ndarray:
    """P(Y >= observed) for Y negative binomial with mean `expected` and variance dispersion × mean
    (Poisson where the dispersion is 1)."""
    observed, expected, dispersion = np.broadcast_arrays(
        np.asarray(observed, dtype=float), np.asarray(expected, dtype=float), np.asarray(dispersion, dtype=float)
    )
    at_least = np.maximum(observed, 1.0)  # P(Y >= 0) = 1, set below
    poisson = special.gammainc(at_least, expected)
    overdispersed = dispersion > 1.0 + 1e-9
    size = expected / np.where(overdispersed, dispersion - 1.0, 1.0)
    negative_binomial = special.betainc(at_least, size, 1.0 - 1.0 / dispersion)
    chance = np.where(overdispersed, negative_binomial, poisson)
    return np.where(observed <= 0, 1.0, chance)


def _trimmed(
    first: int,
    last: int,
    counts: np.ndarray,
    expected: np.ndarray,
    edge_chance: np.ndarray,
    granularity: Granularity,
    settings: SpikeSettings,
) -> tuple[int, int]:
    """The run without edge bins that are not above expectation themselves, as long as what
    remains still holds enough posts."""

    def enough(a: int, b: int) -> bool:
        posts = counts[a : b + 1].sum()
        return bool(posts >= granularity.min_posts and posts - expected[a : b + 1].sum() >= granularity.min_excess)

    while first < last and edge_chance[first] >= settings.edge_alpha and enough(first + 1, last):
        first += 1
    while last > first and edge_chance[last] >= settings.edge_alpha and enough(first, last - 1):
        last -= 1
    return first, last


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) of each run of True."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), (np.flatnonzero(edges == -1) - 1).tolist(), strict=True))


def _window_sums(values: np.ndarray, width: int) -> np.ndarray:
    """Sum of values[i : i + width] at each i (shorter at the end)."""
    totals = np.concatenate([[0.0], np.cumsum(values)])
    ends = np.minimum(np.arange(len(values)) + width, len(values))
    return totals[ends] - totals[: len(values)]


def _trailing_sums(values: np.ndarray, window: int) -> np.ndarray:
    """Sum of the up to `window` values before each index (0 for the first)."""
    totals = np.concatenate([[0.0], np.cumsum(values)])
    index = np.arange(len(values))
    return totals[index] - totals[np.maximum(index - window, 0)]


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
    moments = [_utc(e.created_at) for e in events]
    first = min(moments)
    seconds = np.array([(moment - first).total_seconds() for moment in moments])  # since the first post
    members: dict[str, list[int]] = {}
    for index, event in enumerate(events):
        for name in series_of(event):
            members.setdefault(name, []).append(index)
    for granularity in granularities:
        origin = _floor(first, granularity)
        monday = origin.replace(hour=0) - timedelta(days=origin.weekday())
        offset = int((origin - monday) / granularity.step)  # bin 0's place in its UTC week
        step = granularity.step.total_seconds()
        bins = ((seconds + (first - origin).total_seconds()) // step).astype(int)
        n_bins = int(bins.max()) + 1
        for name in sorted(members):
            indices = np.array(members[name])
            if len(indices) < granularity.min_posts:
                continue
            at = bins[indices]
            counts = np.bincount(at, minlength=n_bins)
            for burst in find_bursts(counts, granularity, settings, offset):
                during = [events[i] for i in indices[(at >= burst.first) & (at <= burst.last)]]
                before_first = max(0, burst.first - granularity.window)
                before = [events[i] for i in indices[(at >= before_first) & (at < burst.first)]]
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
