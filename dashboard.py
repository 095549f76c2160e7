"""Murmur's dashboard: `murmur dashboard` (or `streamlit run dashboard.py`).

UI only. This entry draws what every page shares (the monitor, the filters kept in the URL, the
demo banner) and hands over to the page chosen in the navigation; the pages live in
`dashboard_pages/`, one small script each. Every figure comes from `store.queries` (aggregated in
SQL, cached); the dashboard never calls a source and never fits a model. Post text is shown as
text, never as markdown or HTML: it is data written by strangers.
"""

from __future__ import annotations

import streamlit as st

from dashboard_pages import post_cards, view

PAGES = [
    ("overview", "Overview", ":material/insights:"),
    ("topics", "Topics", ":material/topic:"),
    ("narratives", "Narratives", ":material/forum:"),
    ("posts", "Posts", ":material/article:"),
    ("voices", "Voices", ":material/groups:"),
    ("health", "Collection health", ":material/monitor_heart:"),
    ("export", "Export", ":material/download:"),
]
REFRESH_SECONDS = 60
COLLECT_FIRST = (
    "Nothing collected yet. Collect first:  murmur collect --monitor monitors/sora-leak.toml  "
    "(then  murmur analyze --monitor monitors/sora-leak.toml  for languages, sentiment and topics)."
)
DEMO_BANNER = (
    "**Demo data.** No source could be reached, so this dashboard shows Murmur's bundled demo corpus: "
    "fictional posts written for this project, replayed through the real parsers. Collect live data "
    "with `murmur collect --monitor monitors/sora-leak.toml`."
)


def main() -> None:
    st.set_page_config(page_title="Murmur", page_icon="📣", layout="wide")
    post_cards.install_style()
    current = view.build_view()
    if current is None:
        st.title("Murmur")
        st.info(COLLECT_FIRST)
        return
    if current.demo:
        st.warning(DEMO_BANNER, icon="⚠️")
    st.session_state["_view"] = current
    watch_for_new_data(current)
    pages = [
        st.Page(f"dashboard_pages/{name}.py", title=title, icon=icon, url_path=name, default=name == "overview")
        for name, title, icon in PAGES
    ]
    st.navigation(pages).run()


@st.fragment(run_every=REFRESH_SECONDS)
def watch_for_new_data(current: view.View) -> None:
    """Rerun the page when a collection run or an analysis lands (the caches are keyed on the version)."""
    if view.data_version(current.url, current.monitor) != current.version:
        st.rerun()


main()
