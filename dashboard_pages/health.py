"""Collection health: the last runs, each source's verdict in them, errors, run manifests, and days a
source brought nothing."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import streamlit as st

from dashboard_pages import charts, view
from store.queries import PostFilter

GAP = timedelta(hours=6)  # a scheduled collector runs far more often than this

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
sources = current.about("source_health")
if sources:
    st.subheader("Sources (each in its latest live run)")
    table = pd.DataFrame([vars(source) for source in sources]).drop(columns=["errors"])
    st.dataframe(table, hide_index=True, width="stretch")
    gaps = current.about("collection_gaps", longer_than=GAP)
    if gaps:
        st.warning(
            f"{len(gaps)} stretches of more than {GAP.total_seconds() / 3600:.0f} hours without a successful "
            "run: " + "; ".join(f"{a:%d %b %H:%M} – {b:%d %b %H:%M}" for a, b in gaps[-5:])
        )
elif summaries:
    latest = summaries[0]
    st.subheader(f"Sources in the latest run ({latest.started_at:%Y-%m-%d %H:%M} UTC, {latest.mode}, {latest.status})")
    st.dataframe(pd.DataFrame([vars(source) for source in latest.sources]), hide_index=True, width="stretch")
if summaries:
    errors = [error for run in summaries for error in run.errors]
    st.subheader("Errors")
    if errors:
        st.code("\n".join(errors[:50]), language=None, wrap_lines=True)
    else:
        st.success("No errors in the last runs.")
st.subheader("Run manifests")
manifests = current.about("run_manifest_table")
if manifests.empty:
    st.info("No run manifest yet: each collection and analysis run writes one when it ends.")
else:
    st.dataframe(
        manifests.drop(columns=["manifest"]),
        hide_index=True,
        width="stretch",
        column_config={"finished": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")},
    )
    st.caption("What each run was: Murmur's version and commit, the monitor file's hash, sources or models, seed.")
    chosen = st.selectbox(
        "Full manifest of",
        list(range(len(manifests))),
        format_func=lambda i: f"{manifests.at[i, 'kind']} · finished {manifests.at[i, 'finished']:%Y-%m-%d %H:%M}",
        key="manifest_choice",
    )
    st.code(manifests.at[chosen, "manifest"], language="json")
st.subheader("Coverage: posts per source and day")
daily = current.query("counts_over_time", where=PostFilter(), hourly=False)
if daily.empty:
    st.info("No posts yet.")
else:
    grid = daily.groupby(["bin", "source"], as_index=False)["posts"].sum()
    days = pd.date_range(grid["bin"].min(), grid["bin"].max(), freq="D")
    full = pd.MultiIndex.from_product([days, sorted(grid["source"].unique())], names=["bin", "source"])
    grid = grid.set_index(["bin", "source"]).reindex(full, fill_value=0).reset_index()
    empty_cells = grid[grid["posts"] == 0]
    st.altair_chart(charts.coverage(grid), width="stretch")
    st.caption(
        f"{len(empty_cells)} source-days without a post (blank cells) across {len(days)} days: a source that was "
        "down, or a quiet day."
    )
