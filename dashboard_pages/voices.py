"""Voices: the most active pseudonymous authors, and identical or near-identical posts from different authors.

A group of posts with the same text once case, marks and spacing are folded, or with nearly the same
embedding (found by the analysis: a word swapped, a hashtag added), written by several authors is a
possible copy-paste campaign; each group opens onto its posts.
"""

from __future__ import annotations

import streamlit as st

from dashboard_pages import post_cards, view

current = view.current()
st.title("Voices")
st.subheader("Most active authors")
authors = current.query("top_authors")
if authors.empty:
    st.info("No post in view names an author.")
else:
    st.dataframe(
        authors,
        hide_index=True,
        width="stretch",
        column_config={
            "first seen": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
            "last seen": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
        },
    )
    st.caption("Authors are keyed pseudonyms: the same person keeps one across sources' runs; no handle is shown.")
st.subheader("Same text from different authors")
groups = current.query("copy_paste_groups")
if groups.empty:
    st.info("No text in view was posted by two or more different authors.")
else:
    st.dataframe(
        groups.drop(columns=["example_id"]),
        hide_index=True,
        width="stretch",
        column_config={
            "text": st.column_config.TextColumn("text (folded)", width="large"),
            "first": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
            "last": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
        },
    )
    choice = st.selectbox(
        "Posts of group",
        list(range(len(groups))),
        format_func=lambda i: (
            f"{i + 1}: {groups.at[i, 'authors']} authors, {groups.at[i, 'posts']} posts — {groups.at[i, 'text'][:60]}"
        ),
    )
    ids = current.query("group_post_ids", folded_text=groups.at[choice, "text"])
    post_cards.show_posts(
        current.query("post_page", ids=tuple(ids), limit=len(ids) or 1), current.facets["topics"], key="group"
    )
st.subheader("Nearly the same text from different authors")
similar = current.query("near_duplicate_groups")
if similar.empty:
    st.info(
        "No near-identical posts from different authors in view (found by the analysis from embeddings: "
        "murmur analyze)."
    )
else:
    st.dataframe(
        similar.drop(columns=["post_ids"]),
        hide_index=True,
        width="stretch",
        column_config={
            "text": st.column_config.TextColumn("text (earliest post)", width="large"),
            "similarity": st.column_config.NumberColumn("lowest similarity", format="%.2f"),
            "first": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
            "last": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
        },
    )
    st.caption("Posts whose embeddings are almost the same (a high cosine threshold), written close in time.")
    picked = st.selectbox(
        "Posts of near-identical group",
        list(range(len(similar))),
        format_func=lambda i: (
            f"{i + 1}: {similar.at[i, 'authors']} authors, {similar.at[i, 'posts']} posts — "
            f"{similar.at[i, 'text'][:60]}"
        ),
    )
    ids = similar.at[picked, "post_ids"]
    post_cards.show_posts(
        current.query("post_page", ids=tuple(ids), limit=len(ids) or 1), current.facets["topics"], key="similar"
    )
