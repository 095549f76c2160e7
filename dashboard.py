"""Murmur's dashboard: `streamlit run dashboard.py`.

UI only. It reads the store through `store.queries` (cached), never calls a source and never fits
a model. Post text is shown as text (st.text, st.dataframe), never as markdown or HTML: it is
data written by strangers.
"""

from __future__ import annotations

import os

import altair as alt
import pandas as pd
import streamlit as st

from monitor.cli import MONITOR_ENV
from store import queries
from store.db import open_store

SENTIMENT_COLOURS = {"negative": "#d1495b", "neutral": "#9aa5b1", "positive": "#2e933c"}
TOP_TOPICS = 8

st.set_page_config(page_title="Murmur", page_icon="📣", layout="wide")


@st.cache_resource
def store_engine(url: str | None):  # noqa: ANN201 - a SQLAlchemy Engine
    return open_store(url)


@st.cache_data(ttl=60, show_spinner=False)
def load(url: str | None, monitor: str) -> dict:
    with store_engine(url).connect() as conn:
        return {
            "posts": queries.post_frame(conn, monitor),
            "topics": queries.topic_frame(conn, monitor),
            "model": queries.topic_model_info(conn, monitor),
            "runs": queries.recent_runs(conn, monitor),
        }


@st.cache_data(ttl=60, show_spinner=False)
def load_posts_by_id(url: str | None, post_ids: tuple[int, ...]) -> pd.DataFrame:
    with store_engine(url).connect() as conn:
        return queries.posts_by_id(conn, list(post_ids))


@st.cache_data(ttl=60, show_spinner=False)
def load_monitors(url: str | None) -> list[str]:
    with store_engine(url).connect() as conn:
        return queries.monitor_names(conn)


def main() -> None:
    url = os.environ.get("MURMUR_DB")
    st.title("Murmur")
    monitors = load_monitors(url)
    if not monitors:
        st.info("The store is empty. Collect first:  murmur collect --monitor monitors/sora-leak.toml")
        return
    preferred = os.environ.get(MONITOR_ENV)
    monitor = st.sidebar.selectbox("Monitor", monitors, index=monitors.index(preferred) if preferred in monitors else 0)
    data = load(url, monitor)
    posts, topics = data["posts"], data["topics"]
    if posts.empty:
        st.info(f"No posts collected for {monitor} yet.")
        return
    st.caption(f"Monitor **{monitor}** · public posts, authors pseudonymised")
    if posts["demo"].any():
        st.warning(
            "**Demo data.** No source could be reached, so this dashboard shows Murmur's bundled demo "
            "corpus: fictional posts written for this project, replayed through the real parsers. "
            "Collect live data with `murmur collect --monitor monitors/sora-leak.toml`.",
            icon="⚠️",
        )
    selected = filter_posts(posts)
    if selected.empty:
        st.info("No posts match these filters.")
        return
    show_totals(selected, topics)
    left, right = st.columns(2)
    with left:
        show_volume(selected)
    with right:
        show_sentiment(selected)
    show_topics(url, selected, topics, data["model"])
    show_runs(data["runs"])


def filter_posts(posts: pd.DataFrame) -> pd.DataFrame:
    sidebar = st.sidebar
    first, last = posts["day"].min().date(), posts["day"].max().date()
    chosen = sidebar.date_input("Dates (UTC)", value=(first, last), min_value=first, max_value=last)
    start, end = (chosen if isinstance(chosen, tuple) and len(chosen) == 2 else (first, last))
    platforms = sorted(posts["platform"].unique())
    sources = sidebar.multiselect("Sources", platforms, default=platforms)
    counts = posts["language"].value_counts()
    languages = sidebar.multiselect(
        "Languages", list(counts.index), default=list(counts.index),
        format_func=lambda code: f"{code} ({counts[code]})",
    )
    mask = (
        posts["day"].dt.date.between(start, end)
        & posts["platform"].isin(sources)
        & posts["language"].isin(languages)
    )
    return posts[mask]


def show_totals(posts: pd.DataFrame, topics: pd.DataFrame) -> None:
    scored = posts[posts["sentiment"] != "unscored"]
    negative = (scored["sentiment"] == "negative").mean() if len(scored) else float("nan")
    daily = posts.groupby("day").size()
    cols = st.columns(5)
    cols[0].metric("Posts", f"{len(posts):,}", chart_data=list(daily), chart_type="bar", border=True)
    cols[1].metric("Languages", posts.loc[~posts["language"].isin(["und", "pending"]), "language"].nunique(),
                   border=True)
    cols[2].metric("Busiest day", f"{daily.idxmax():%d %b}", f"{daily.max():,} posts · {daily.idxmax():%Y}",
                   delta_color="off", delta_arrow="off", border=True)
    cols[3].metric("Negative (of scored)", "—" if pd.isna(negative) else f"{negative:.0%}",
                   f"{len(scored):,} scored", delta_color="off", delta_arrow="off", border=True)
    cols[4].metric("Topics", int((topics["topic"] >= 0).sum()) if not topics.empty else 0, border=True)


def show_volume(posts: pd.DataFrame) -> None:
    st.subheader("Volume by source")
    daily = posts.groupby(["day", "platform"]).size().reset_index(name="posts")
    chart = alt.Chart(daily).mark_bar().encode(
        x=alt.X("day:T", title=None, axis=alt.Axis(format="%d %b")), y=alt.Y("posts:Q", title="posts per day"),
        color=alt.Color("platform:N", title="source"), tooltip=["day:T", "platform:N", "posts:Q"],
    )
    st.altair_chart(chart, width="stretch")


def show_sentiment(posts: pd.DataFrame) -> None:
    st.subheader("Sentiment over time")
    scored = posts[posts["sentiment"] != "unscored"]
    if scored.empty:
        st.info("No post is scored yet: the sentiment model reads none of these languages.")
        return
    daily = scored.groupby(["day", "sentiment"]).size().reset_index(name="posts")
    order = list(SENTIMENT_COLOURS)
    chart = alt.Chart(daily).mark_area().encode(
        x=alt.X("day:T", title=None, axis=alt.Axis(format="%d %b")),
        y=alt.Y("posts:Q", stack="normalize", title="share of scored posts", axis=alt.Axis(format="%")),
        color=alt.Color("sentiment:N", sort=order,
                        scale=alt.Scale(domain=order, range=[SENTIMENT_COLOURS[label] for label in order])),
        order=alt.Order("sentiment_rank:Q"),
        tooltip=["day:T", "sentiment:N", "posts:Q"],
    ).transform_calculate(sentiment_rank=f"indexof({order!r}, datum.sentiment)")
    st.altair_chart(chart, width="stretch")
    unscored = 1 - len(scored) / len(posts)
    if unscored:
        st.caption(f"{unscored:.0%} of posts are unscored (not counted above): the sentiment model "
                   "cannot read their language.")


def show_topics(url: str | None, posts: pd.DataFrame, topics: pd.DataFrame, model: dict | None) -> None:
    st.subheader("Topics")
    if topics.empty or model is None:
        st.info("No topic model yet: run  murmur analyze --monitor monitors/sora-leak.toml")
        return
    st.caption(f"BERTopic over {model['n_posts']:,} posts, {model['embedding_model']}, "
               f"fitted {pd.Timestamp(model['fitted_at']):%Y-%m-%d %H:%M} UTC")
    in_view = posts["topic"].value_counts()
    table = topics.assign(
        posts=topics["topic"].map(in_view).fillna(0).astype(int),
        keywords=topics["keywords"].map(lambda words: ", ".join(words[:8])),
    )
    table["share"] = table["posts"] / max(1, len(posts))
    table = table.sort_values(["posts"], ascending=False)
    st.dataframe(
        table[["label", "keywords", "posts", "share"]].rename(columns={"label": "topic"}),
        hide_index=True, width="stretch",
        column_config={"share": st.column_config.ProgressColumn("share", format="percent", min_value=0, max_value=1)},
    )
    show_topic_shares(posts, topics)
    named = table[table["topic"] >= 0]
    if named.empty:
        return
    by_topic = named.set_index("topic")
    choice = st.selectbox("Example posts for topic", [int(t) for t in by_topic.index],
                          format_func=lambda t: by_topic.at[t, "label"])
    examples = load_posts_by_id(url, tuple(by_topic.at[choice, "representative"]))
    for post in examples.itertuples():
        with st.container(border=True):
            st.caption(f"{post.platform} · {pd.Timestamp(post.created_at):%Y-%m-%d %H:%M} UTC")
            if post.title:
                st.text(post.title)
            st.text(post.text)
            if post.url:
                st.link_button("Open original", post.url)


def show_topic_shares(posts: pd.DataFrame, topics: pd.DataFrame) -> None:
    labels = topics.set_index("topic")["label"].to_dict()
    top = [t for t in posts["topic"].dropna().value_counts().index if t >= 0][:TOP_TOPICS]
    named = posts.dropna(subset=["topic"]).assign(
        topic=lambda f: f["topic"].map(lambda t: labels.get(t, "?") if t in top else "other topics")
    )
    daily = named.groupby(["day", "topic"]).size().reset_index(name="posts")
    chart = alt.Chart(daily).mark_area().encode(
        x=alt.X("day:T", title=None, axis=alt.Axis(format="%d %b")),
        y=alt.Y("posts:Q", stack="normalize", title="share of posts", axis=alt.Axis(format="%")),
        color=alt.Color("topic:N", legend=alt.Legend(orient="bottom", columns=2, labelLimit=400)),
        tooltip=["day:T", "topic:N", "posts:Q"],
    ).properties(title="Topic share over time")
    st.altair_chart(chart, width="stretch")


def show_runs(runs: pd.DataFrame) -> None:
    st.subheader("Last collection runs")
    st.dataframe(runs, hide_index=True, width="stretch")


main()
