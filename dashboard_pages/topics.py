"""Topics: the topics in view over time, their keywords and sentiment, where they are discussed, examples."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard_pages import charts, post_cards, view

TOP_TOPICS = 8


def topic_table(breakdown: pd.DataFrame, topics: pd.DataFrame) -> pd.DataFrame:
    """One row per topic with posts in view: label, keywords, posts, share, negative share of scored."""
    per_topic = breakdown.groupby("topic")["posts"].sum()
    scored = breakdown[breakdown["sentiment"].isin(list(charts.SENTIMENT_COLOURS))]
    n_scored = scored.groupby("topic")["posts"].sum()
    negative = scored[scored["sentiment"] == "negative"].groupby("topic")["posts"].sum()
    table = topics[topics["topic"].isin(per_topic.index) & (topics["topic"] >= 0)].copy()
    table["posts"] = table["topic"].map(per_topic).astype(int)
    table["share"] = table["posts"] / max(1, int(per_topic.sum()))
    table["scored"] = table["topic"].map(n_scored).fillna(0).astype(int)
    table["negative"] = (table["topic"].map(negative).fillna(0) / table["scored"]).where(
        table["scored"] >= charts.MIN_SCORED
    )
    table["keywords"] = table["keywords"].map(lambda words: ", ".join(words[:8]))
    return table.sort_values(["posts", "topic"], ascending=[False, True])


def over_time(current: view.View, labels: dict[int, str]) -> None:
    counts = current.query("topic_counts", hourly=current.hourly)
    named = counts[counts["topic"] >= 0]
    top = list(named.groupby("topic")["posts"].sum().sort_values(ascending=False).index[:TOP_TOPICS])
    shown = named[named["topic"].isin(top)].assign(topic=lambda f: f["topic"].map(labels))
    st.subheader("Topics over time")
    if shown.empty:
        st.info("No post in view has a topic.")
        return
    st.altair_chart(charts.stacked_counts(shown, "topic", "topic", current.hourly), width="stretch")
    rest = int(counts["posts"].sum() - shown["posts"].sum())
    if rest:
        st.caption(f"The {len(top)} largest topics in view; {rest:,} posts in smaller topics or in none are not drawn.")


def breakdowns(breakdown: pd.DataFrame, labels: dict[int, str]) -> None:
    named = breakdown[breakdown["topic"] >= 0].assign(topic=lambda f: f["topic"].map(labels))
    st.subheader("Sentiment per topic")
    scored = named[named["sentiment"].isin(list(charts.SENTIMENT_COLOURS))]
    scored = scored.groupby(["topic", "sentiment"], as_index=False)["posts"].sum()
    if scored.empty:
        st.info("No post of these topics is scored.")
    else:
        st.altair_chart(charts.share_bars(scored, "topic", "sentiment", "sentiment"), width="stretch")
    left, right = st.columns(2)
    with left:
        st.subheader("Topics by source")
        st.altair_chart(
            charts.heatmap(named.groupby(["topic", "source"], as_index=False)["posts"].sum(), "topic", "source"),
            width="stretch",
        )
    with right:
        st.subheader("Topics by language")
        st.altair_chart(
            charts.heatmap(named.groupby(["topic", "language"], as_index=False)["posts"].sum(), "topic", "language"),
            width="stretch",
        )


def keywords_by_language(table: pd.DataFrame, labels: dict[int, str]) -> None:
    st.subheader("Keywords per language")
    choice = st.selectbox(
        "Keywords of topic", [int(t) for t in table["topic"]], format_func=lambda t: labels[t], key="keywords_topic"
    )
    words = table.set_index("topic").at[choice, "keywords_by_language"] or {}
    if not words:
        st.info("No per-language keywords for this topic.")
        return
    frame = pd.DataFrame(
        [{"language": language, "keywords": ", ".join(found[:10])} for language, found in words.items()]
    )
    st.dataframe(frame, hide_index=True, width="stretch")


def lineage(current: view.View, labels: dict[int, str]) -> None:
    st.subheader("Lineage")
    events = current.about("topic_lineage")
    if events.empty:
        st.info("Topic lineage: not analysed yet (it starts with the first refit).")
        return
    shown = events[events["topic"].isin(list(labels))] if labels else events
    st.dataframe(shown.sort_values("at", ascending=False), hide_index=True, width="stretch")


def examples(current: view.View, table: pd.DataFrame, labels: dict[int, str]) -> None:
    st.subheader("Representative posts")
    named = table[table["topic"] >= 0]
    if named.empty:
        return
    options: list[int] = [int(t) for t in named["topic"]]
    choice = st.selectbox("Example posts for topic", options, format_func=lambda t: labels[t])
    representative = named.set_index("topic").at[choice, "representative"]
    posts = current.query("post_page", ids=tuple(representative), limit=len(representative) or 1)
    if posts.empty:
        st.info("None of this topic's representative posts passes the filters.")
    post_cards.show_posts(posts, labels, key="topic")


current = view.current()
st.title("Topics")
topics = current.about("topic_frame")
if topics.empty:
    st.info("Topics: not analysed yet. Run  murmur analyze --monitor monitors/sora-leak.toml")
else:
    labels = dict(zip(topics["topic"], topics["label"], strict=True))
    model = current.about("topic_model_info")
    st.caption(
        f"BERTopic over {model['n_posts']:,} posts with {model['embedding_model']}, "
        f"fitted {pd.Timestamp(model['fitted_at']):%Y-%m-%d %H:%M} UTC."
    )
    breakdown = current.query("topic_breakdown")
    table = topic_table(breakdown, topics)
    if table.empty:
        st.info("No post in view has a topic.")
    else:
        unassigned = int(breakdown.loc[breakdown["topic"] < 0, "posts"].sum())
        st.caption(f"Topics of posts in view, largest first; {unassigned:,} posts in view belong to no topic.")
        st.dataframe(
            table[["label", "keywords", "posts", "share", "negative", "scored"]].rename(columns={"label": "topic"}),
            hide_index=True,
            width="stretch",
            column_config={
                "share": st.column_config.ProgressColumn("share", format="percent", min_value=0, max_value=1),
                "negative": st.column_config.NumberColumn("negative (of scored)", format="percent"),
            },
        )
        over_time(current, labels)
        breakdowns(breakdown, labels)
        keywords_by_language(table, labels)
        lineage(current, labels)
        examples(current, table, labels)
