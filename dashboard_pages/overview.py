"""Overview: the monitor, totals against the previous period, volume, sentiment and languages over time."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard_pages import charts, view
from monitor.config import load_monitor
from monitor.errors import MurmurError

TOP_LANGUAGES = 8


def header(current: view.View) -> None:
    path = view.monitor_file(current.monitor)
    definition = None
    if path is not None:
        try:
            definition = load_monitor(path)
        except (MurmurError, OSError):
            definition = None
    if definition is None or definition.name != current.monitor:
        st.title(current.monitor)
        st.caption("Public posts, authors pseudonymised.")
        return
    st.title(definition.title or definition.name)
    if definition.description:
        st.text(definition.description)
    st.caption("Query (what a post must match to be collected):")
    st.code(definition.query.source, language=None, wrap_lines=True)


def totals(current: view.View, counts: pd.DataFrame) -> None:
    before = current.query("post_count", where=current.where.shifted_back()) if current.where.since else 0
    posts = int(counts["posts"].sum())
    scored = counts[counts["sentiment"].isin(list(charts.SENTIMENT_COLOURS))]
    negative = int(scored.loc[scored["sentiment"] == "negative", "posts"].sum())
    n_scored = int(scored["posts"].sum())
    languages = counts.loc[~counts["language"].isin(["und", "pending"]), "language"].nunique()
    per_bin = counts.groupby("bin")["posts"].sum()
    cols = st.columns(5)
    cols[0].metric("Posts", f"{posts:,}", charts.change(posts, int(before)), border=True)
    cols[1].metric("Sources", counts["source"].nunique(), border=True)
    cols[2].metric("Languages", languages, border=True)
    busiest = per_bin.idxmax()
    cols[3].metric(
        "Busiest hour" if current.hourly else "Busiest day",
        f"{busiest:%d %b %H:00}" if current.hourly else f"{busiest:%d %b}",
        f"{per_bin.max():,} posts · {busiest:%Y}",
        delta_color="off",
        delta_arrow="off",
        border=True,
    )
    cols[4].metric(
        "Negative (of scored)",
        f"{negative / n_scored:.0%}" if n_scored >= charts.MIN_SCORED else "—",
        f"{n_scored:,} scored",
        delta_color="off",
        delta_arrow="off",
        border=True,
    )


def volume(current: view.View, counts: pd.DataFrame) -> None:
    st.subheader("Volume by source")
    by_source = counts.groupby(["bin", "source"], as_index=False)["posts"].sum()
    chart = charts.stacked_counts(by_source, "source", "source", current.hourly)
    marks = current.query("spike_marks", hourly=current.hourly)
    st.altair_chart(chart + charts.spike_rules(marks) if not marks.empty else chart, width="stretch")
    if marks.empty:
        st.caption("No spike in this range.")
    else:
        of_sources = int(marks["source"].notna().sum())
        st.caption(
            f"{len(marks) - of_sources} spikes of all sources (black dashes) and {of_sources} of single sources "
            "(dashes and triangles in the source's colour) marked; hover for what drove each."
        )


def sentiment(current: view.View, counts: pd.DataFrame) -> None:
    st.subheader("Sentiment over time")
    by_label = counts.groupby(["bin", "sentiment"], as_index=False)["posts"].sum()
    shares = charts.sentiment_shares(by_label)
    scored = by_label[by_label["sentiment"].isin(list(charts.SENTIMENT_COLOURS))]
    scored_counts = scored.groupby("bin", as_index=False)["posts"].sum().rename(columns={"posts": "scored"})
    if shares.empty:
        st.info(
            f"Too few scored posts to show a share: every {'hour' if current.hourly else 'day'} here has fewer "
            f"than {charts.MIN_SCORED} ({int(scored_counts['scored'].sum())} scored in all)."
        )
        return
    share_chart, count_chart = charts.sentiment_charts(shares, scored_counts, current.hourly)
    st.altair_chart(share_chart, width="stretch")
    st.altair_chart(count_chart, width="stretch")
    hidden = int((scored_counts["scored"] < charts.MIN_SCORED).sum())
    total = int(by_label["posts"].sum())
    unscored = total - int(scored_counts["scored"].sum())
    notes = [
        f"Shaded: 95 % interval. {hidden} {'hours' if current.hourly else 'days'} with fewer than "
        f"{charts.MIN_SCORED} scored posts are left out of the share."
    ]
    if unscored:
        notes.append(
            f"{unscored / total:.0%} of posts are unscored (not counted above): the sentiment model "
            "cannot read their language."
        )
    st.caption(" ".join(notes))


def languages(current: view.View, counts: pd.DataFrame) -> None:
    st.subheader("Language mix over time")
    totals = counts.groupby("language")["posts"].sum().sort_values(ascending=False)
    top = set(totals.index[:TOP_LANGUAGES])
    mix = counts.assign(language=counts["language"].where(counts["language"].isin(top), "other languages"))
    mix = mix.groupby(["bin", "language"], as_index=False)["posts"].sum()
    st.altair_chart(charts.stacked_counts(mix, "language", "language", current.hourly), width="stretch")


current = view.current()
header(current)
counts = current.query("counts_over_time", hourly=current.hourly)
if counts.empty:
    st.info("No posts match these filters.")
else:
    totals(current, counts)
    left, right = st.columns(2)
    with left:
        volume(current, counts)
    with right:
        sentiment(current, counts)
    languages(current, counts)
