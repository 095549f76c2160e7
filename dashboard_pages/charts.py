"""Altair charts for the dashboard: one time axis for every chart, sentiment with counts and uncertainty.

Frames come in already aggregated (from store.queries); these functions only shape and draw them.
"""

from __future__ import annotations

import math

import altair as alt
import pandas as pd

SENTIMENT_COLOURS = {"negative": "#d1495b", "neutral": "#9aa5b1", "positive": "#2e933c"}
MIN_SCORED = 10  # a bin with fewer scored posts shows its count, not a share
Z95 = 1.96


def time_axis(hourly: bool, title: str | None = None) -> alt.X:
    """Hours labelled "26 Nov 14:00" on short ranges; one label per day ("26 Nov") on long ones."""
    if hourly:
        axis = alt.Axis(format="%d %b %H:%M", labelAngle=-30, tickCount={"interval": "hour", "step": 6})
        return alt.X("bin:T", title=title, axis=axis)
    return alt.X(
        "bin:T", title=title, axis=alt.Axis(format="%d %b", tickCount={"interval": "day", "step": 1}, labelOverlap=True)
    )


def bin_label(hourly: bool) -> str:
    return "posts per hour" if hourly else "posts per day"


def stacked_counts(frame: pd.DataFrame, field: str, title: str, hourly: bool) -> alt.Chart:
    """Bars of posts per bin, stacked by `field` (source, language, topic)."""
    tooltip_time = alt.Tooltip("bin:T", title="from", format="%d %b %Y %H:%M" if hourly else "%d %b %Y")
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=time_axis(hourly),
            y=alt.Y("posts:Q", title=bin_label(hourly)),
            color=alt.Color(f"{field}:N", title=title, legend=alt.Legend(orient="bottom", columns=3, labelLimit=300)),
            tooltip=[tooltip_time, alt.Tooltip(f"{field}:N", title=title), "posts:Q"],
        )
    )


def wilson(successes: pd.Series, total: pd.Series) -> tuple[pd.Series, pd.Series]:
    """The 95 % Wilson interval of a share: honest at small counts, never outside 0–1."""
    share = successes / total
    denominator = 1 + Z95**2 / total
    centre = (share + Z95**2 / (2 * total)) / denominator
    spread = Z95 * ((share * (1 - share) / total + Z95**2 / (4 * total**2)) ** 0.5) / denominator
    return (centre - spread).clip(0, 1), (centre + spread).clip(0, 1)


def sentiment_shares(counts: pd.DataFrame) -> pd.DataFrame:
    """Per bin and scored label: share of scored posts with its 95 % band; bins under MIN_SCORED dropped.

    `counts` has columns bin, sentiment, posts (unscored rows are ignored).
    """
    scored = counts[counts["sentiment"].isin(list(SENTIMENT_COLOURS))]
    table = scored.pivot_table(index="bin", columns="sentiment", values="posts", aggfunc="sum", fill_value=0)
    table = table.reindex(columns=list(SENTIMENT_COLOURS), fill_value=0)
    total = table.sum(axis=1)
    table = table[total >= MIN_SCORED]
    total = total[total >= MIN_SCORED]
    rows = []
    for label in ("negative", "positive"):
        low, high = wilson(table[label], total)
        rows.append(
            pd.DataFrame(
                {
                    "bin": table.index,
                    "sentiment": label,
                    "share": table[label] / total,
                    "low": low,
                    "high": high,
                    "posts": table[label],
                    "scored": total,
                }
            )
        )
    columns = ["bin", "sentiment", "share", "low", "high", "posts", "scored"]
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=columns)


def sentiment_charts(
    shares: pd.DataFrame, scored_counts: pd.DataFrame, hourly: bool
) -> tuple[alt.LayerChart, alt.Chart]:
    """Negative and positive share of scored posts with a 95 % band; and a bar of how many were scored."""
    colour = alt.Color(
        "sentiment:N",
        scale=alt.Scale(
            domain=["negative", "positive"], range=[SENTIMENT_COLOURS["negative"], SENTIMENT_COLOURS["positive"]]
        ),
    )
    tooltip = [
        alt.Tooltip("bin:T", format="%d %b %Y %H:%M" if hourly else "%d %b %Y"),
        "sentiment:N",
        alt.Tooltip("share:Q", format=".0%"),
        alt.Tooltip("low:Q", format=".0%", title="95% from"),
        alt.Tooltip("high:Q", format=".0%", title="95% to"),
        "posts:Q",
        "scored:Q",
    ]
    base = alt.Chart(shares).encode(x=time_axis(hourly), color=colour)
    band = base.mark_area(opacity=0.2).encode(
        y=alt.Y("low:Q", title="share of scored posts", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
        y2="high:Q",
    )
    line = base.mark_line(point=True).encode(y="share:Q", tooltip=tooltip)
    counts = (
        alt.Chart(scored_counts)
        .mark_bar(color="#9aa5b1")
        .encode(
            x=time_axis(hourly),
            y=alt.Y("scored:Q", title="scored posts"),
            tooltip=[alt.Tooltip("bin:T", format="%d %b %Y %H:%M" if hourly else "%d %b %Y"), "scored:Q"],
        )
        .properties(height=90)
    )
    return (band + line).properties(height=230), counts


def share_bars(frame: pd.DataFrame, category: str, field: str, title: str) -> alt.Chart:
    """One horizontal bar per `category`, split by `field` into shares, with the counts in the tooltip."""
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            y=alt.Y(f"{category}:N", title=None, sort="-x", axis=alt.Axis(labelLimit=300)),
            x=alt.X("posts:Q", stack="normalize", title="share of posts", axis=alt.Axis(format="%")),
            color=alt.Color(f"{field}:N", title=title),
            tooltip=[f"{category}:N", f"{field}:N", "posts:Q"],
        )
    )


def heatmap(frame: pd.DataFrame, row: str, column: str) -> alt.Chart:
    """Posts per (row, column), as coloured cells with the count in the tooltip."""
    return (
        alt.Chart(frame)
        .mark_rect()
        .encode(
            y=alt.Y(f"{row}:N", title=None, axis=alt.Axis(labelLimit=300)),
            x=alt.X(f"{column}:N", title=column),
            color=alt.Color("posts:Q", scale=alt.Scale(scheme="blues")),
            tooltip=[f"{row}:N", f"{column}:N", "posts:Q"],
        )
    )


def change(now: int, before: int) -> str | None:
    """ "+25 % vs previous period", or None where there is nothing to compare with."""
    if before <= 0:
        return None
    ratio = now / before - 1
    return f"{ratio:+.0%} vs previous period" if math.isfinite(ratio) else None


def coverage(grid: pd.DataFrame) -> alt.Chart:
    """Posts per source and day as a grid; a blank cell is a day a source brought nothing."""
    return (
        alt.Chart(grid)
        .mark_rect()
        .encode(
            x=alt.X("bin:T", title=None, timeUnit="yearmonthdate", axis=alt.Axis(format="%d %b")),
            y=alt.Y("source:N", title=None),
            color=alt.condition(
                "datum.posts > 0", alt.Color("posts:Q", scale=alt.Scale(scheme="greens")), alt.value("#ffffff")
            ),
            tooltip=[alt.Tooltip("bin:T", format="%d %b %Y"), "source:N", "posts:Q"],
        )
    )


def spike_rules(marks: pd.DataFrame) -> alt.LayerChart:
    """A dashed line at each spike's start: black for the whole volume, in its source's colour for a
    source's own spike (with a dot on top, so two at one time both show). The tooltip says how big it
    was and what drove it."""
    marks = marks.assign(series=marks["source"].fillna("all sources"))
    tooltip = [
        alt.Tooltip("series:N", title="spike of"),
        alt.Tooltip("start:T", title="from", format="%d %b %Y %H:%M"),
        alt.Tooltip("end:T", title="to", format="%d %b %Y %H:%M"),
        "posts:Q",
        alt.Tooltip("baseline:Q", format=".1f", title="usual"),
        alt.Tooltip("explanation:N", title="drivers"),
    ]
    whole = marks[marks["source"].isna()]
    per_source = marks[marks["source"].notna()]
    layers = [
        alt.Chart(whole)
        .mark_rule(color="#222222", strokeDash=[4, 3], strokeWidth=1.5)
        .encode(x=alt.X("start:T"), tooltip=tooltip),
        alt.Chart(per_source)
        .mark_rule(strokeDash=[2, 2], strokeWidth=1.5)
        .encode(x=alt.X("start:T"), color=alt.Color("source:N", title="source"), tooltip=tooltip),
        alt.Chart(per_source)
        .mark_point(shape="triangle-down", filled=True, size=70, opacity=1)
        .encode(
            x=alt.X("start:T"),
            y=alt.value(6),
            color=alt.Color("source:N", title="source"),
            tooltip=tooltip,
        ),
    ]
    return alt.LayerChart(layer=layers)


def narrative_shares(frame: pd.DataFrame, hourly: bool) -> alt.Chart:
    """One line per narrative: its share of the posts in each bin, with the counts in the tooltip."""
    return (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x=time_axis(hourly),
            y=alt.Y("share:Q", title="share of posts", axis=alt.Axis(format="%")),
            color=alt.Color("narrative:N", legend=alt.Legend(orient="bottom", labelLimit=300)),
            tooltip=[
                alt.Tooltip("bin:T", format="%d %b %Y %H:%M" if hourly else "%d %b %Y"),
                "narrative:N",
                alt.Tooltip("share:Q", format=".0%"),
                "posts:Q",
            ],
        )
    )
