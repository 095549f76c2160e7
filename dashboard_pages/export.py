"""Export: the filtered posts with their analysis (CSV, Parquet, JSON Lines) and each chart's data (CSV)."""

from __future__ import annotations

import streamlit as st

from dashboard_pages import view
from dashboard_pages.downloads import MIME, chart_data, posts_file

current = view.current()
st.title("Export")
total = current.query("post_count")
st.subheader(f"Posts ({total:,} match the filters)")
st.caption("One row per post with its language, sentiment and topic; authors as pseudonyms only.")
columns = st.columns(3)
for column, kind in zip(columns, ("csv", "parquet", "jsonl"), strict=True):
    column.download_button(
        f"Posts as {kind.upper()}",
        posts_file(current, kind),
        file_name=f"{current.monitor}-posts.{kind}",
        mime=MIME[kind],
        disabled=total == 0,
        key=f"export_{kind}",
    )
st.subheader("Chart data")
for name, frame in chart_data(current).items():
    st.download_button(
        f"{name}.csv ({len(frame):,} rows)",
        frame.to_csv(index=False).encode("utf-8"),
        file_name=f"{current.monitor}-{name}.csv",
        mime="text/csv",
        key=f"chart_{name}",
    )
