"""Posts: read the filtered posts, newest or most engaged first; search with the sidebar's text filter."""

from __future__ import annotations

import streamlit as st

from dashboard_pages import post_cards, view

PAGE_SIZE = 25

current = view.current()
st.title("Posts")
total = current.query("post_count")
left, right = st.columns([2, 1])
sort = left.radio(
    "Sort by",
    ["newest", "engagement"],
    horizontal=True,
    key="posts_sort",
    format_func={"newest": "time (newest first)", "engagement": "engagement (likes + reposts + replies)"}.get,
)
pages = max(1, -(-total // PAGE_SIZE))
page = right.number_input(f"Page (of {pages:,})", min_value=1, max_value=pages, value=1, step=1, key="posts_page")
searched = f" matching “{current.where.q}”" if current.where.q else ""
st.caption(f"{total:,} posts{searched} · authors shown as pseudonyms only")
if total == 0:
    st.info("No posts match these filters.")
else:
    frame = current.query("post_page", sort=sort, limit=PAGE_SIZE, offset=(int(page) - 1) * PAGE_SIZE)
    labels = current.facets["topics"]
    post_cards.show_posts(frame, labels, key="list")
