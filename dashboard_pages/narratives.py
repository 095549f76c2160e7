"""Narratives: the share of each watchlist narrative over time, and its top posts (narrative analysis)."""

from __future__ import annotations

import streamlit as st

from dashboard_pages import view

current = view.current()
st.title("Narratives")
if not current.has_table("narratives"):
    st.info(
        "Narratives: not analysed yet. A monitor's watchlist of narratives is matched by the narrative "
        "analysis (murmur analyze); their share over time and top posts appear here once it has run."
    )
