"""Files the Export page offers: the filtered posts with their analysis, and each chart's data.

Posts stream from the store only when a button is pressed (`murmur export`'s writers over
`store.exports.export_rows`, narrowed by the dashboard's filters), so drawing this page costs nothing.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import pandas as pd

from dashboard_pages import view
from murmur.export import WRITERS
from store.exports import ExportFilter, export_rows
from store.filters import filter_conditions

MIME = {"csv": "text/csv", "jsonl": "application/x-ndjson", "parquet": "application/vnd.apache.parquet"}


def posts_file(current: view.View, kind: str) -> Callable[[], bytes]:
    """Writes the filtered posts when the download is asked for, not when the page is drawn."""

    def write() -> bytes:
        binary = io.BytesIO()
        with view.engine(current.url).connect() as conn:
            rows = export_rows(conn, current.monitor, ExportFilter(), filter_conditions(current.where))
            if kind == "parquet":
                WRITERS[kind](rows, binary)
            else:
                text = io.StringIO(newline="")
                WRITERS[kind](rows, text)
                binary.write(text.getvalue().encode("utf-8"))
        return binary.getvalue()

    return write


def chart_data(current: view.View) -> dict[str, pd.DataFrame]:
    counts = current.query("counts_over_time", hourly=current.hourly)
    return {
        "volume_by_source": counts.groupby(["bin", "source"], as_index=False)["posts"].sum(),
        "sentiment_over_time": counts.groupby(["bin", "sentiment"], as_index=False)["posts"].sum(),
        "language_mix": counts.groupby(["bin", "language"], as_index=False)["posts"].sum(),
        "topics_over_time": current.query("topic_counts", hourly=current.hourly),
        "topic_breakdown": current.query("topic_breakdown"),
        "authors": current.query("top_authors"),
    }
