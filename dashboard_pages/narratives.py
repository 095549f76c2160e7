"""Narratives: the share of each watchlist narrative over time, and its top posts (narrative analysis)."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from dashboard_pages import charts, post_cards, view

TOP_POSTS = 5

current = view.current()
st.title("Narratives")
if not current.facets["narratives"]:
    st.info(
        "Narratives: not analysed yet. A monitor's watchlist of narratives is matched by the narrative "
        "analysis (murmur analyze); their share over time and top posts appear here once it has run."
    )
else:
    counts = current.query("narrative_counts", hourly=current.hourly)
    if counts.empty:
        st.info("No post in view belongs to a narrative.")
    else:
        totals = current.query("counts_over_time", hourly=current.hourly).groupby("bin")["posts"].sum()
        shares = counts.assign(share=counts["posts"] / counts["bin"].map(totals))
        st.subheader("Share of posts over time")
        st.altair_chart(charts.narrative_shares(shares, current.hourly), width="stretch")
        st.caption("Share of all posts in view that each narrative matched; a post may belong to several.")
        for narrative in sorted(counts["narrative"].unique()):
            st.subheader(f"Top posts: {post_cards.plain(narrative)}")
            top = current.query(
                "post_page", where=replace(current.where, narratives=(narrative,)), sort="engagement", limit=TOP_POSTS
            )
            post_cards.show_posts(top, current.facets["topics"], key=f"narrative-{narrative}")
