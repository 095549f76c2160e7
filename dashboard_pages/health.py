"""Collection health: the last runs, each source's verdict in them, errors, and days a source brought nothing."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard_pages import charts, view
from store.queries import PostFilter

current = view.current()
st.title("Collection health")
summaries = current.about("run_summaries")
found = current.about("run_post_counts")
st.subheader("Last runs")
st.dataframe(
    pd.DataFrame(
        [
            {
                "run": run.id,
                "started": run.started_at,
                "finished": run.finished_at,
                "mode": run.mode,
                "status": run.status,
                "seconds": run.seconds,
                "posts found": found.get(run.id, 0),
                "new posts": sum(s.new for s in run.sources),
                "sources ok": sum(s.health == "ok" for s in run.sources),
                "sources failed": sum(s.health == "failed" for s in run.sources),
                "errors": len(run.errors),
            }
            for run in summaries
        ]
    ),
    hide_index=True,
    width="stretch",
)
if summaries:
    latest = summaries[0]
    st.subheader(f"Sources in the latest run ({latest.started_at:%Y-%m-%d %H:%M} UTC, {latest.status})")
    st.dataframe(pd.DataFrame([vars(source) for source in latest.sources]), hide_index=True, width="stretch")
    errors = [error for run in summaries for error in run.errors]
    st.subheader("Errors")
    if errors:
        st.code("\n".join(errors[:50]), language=None, wrap_lines=True)
    else:
        st.success("No errors in the last runs.")
st.subheader("Coverage: posts per source and day")
daily = current.query("counts_over_time", where=PostFilter(), hourly=False)
if daily.empty:
    st.info("No posts yet.")
else:
    grid = daily.groupby(["bin", "source"], as_index=False)["posts"].sum()
    days = pd.date_range(grid["bin"].min(), grid["bin"].max(), freq="D")
    full = pd.MultiIndex.from_product([days, sorted(grid["source"].unique())], names=["bin", "source"])
    grid = grid.set_index(["bin", "source"]).reindex(full, fill_value=0).reset_index()
    gaps = grid[grid["posts"] == 0]
    st.altair_chart(charts.coverage(grid), width="stretch")
    st.caption(
        f"{len(gaps)} source-days without a post (blank cells) across {len(days)} days: a source that was "
        "down, or a quiet day."
    )
