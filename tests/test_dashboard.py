"""The dashboard, driven with Streamlit's AppTest on a seeded store."""

from __future__ import annotations

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT
from tests.seed import HOSTILE, POSTS, seed_store


@pytest.fixture
def app(engine, monkeypatch):
    def start(*, demo: bool = False, seed: bool = True) -> AppTest:
        if seed:
            seed_store(engine, demo=demo)
        monkeypatch.setenv("MURMUR_DB", str(engine.url))
        st.cache_data.clear()
        st.cache_resource.clear()
        return AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60).run()

    return start


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_totals_charts_topics_and_runs_are_shown(app):
    at = app()
    assert not at.exception
    assert at.title[0].value == "Murmur"
    assert metric(at, "Posts") == str(len(POSTS))
    assert metric(at, "Languages") == "4"
    assert metric(at, "Topics") == "2"
    assert metric(at, "Busiest day") == "26 Nov"
    assert [h.value for h in at.subheader] == ["Volume by source", "Sentiment over time", "Topics", "Last collection runs"]
    topics = at.dataframe[0].value
    assert list(topics["topic"])[:2] == ["unpaid, artists, labour", "clips, physics, 1080p"]
    runs = at.dataframe[1].value
    assert list(runs["status"]) == ["ok"] and list(runs["new posts"]) == [len(POSTS)]
    assert not at.warning  # live data: no demo banner


def test_demo_data_carries_a_visible_banner(app):
    at = app(demo=True)
    assert any("Demo data" in w.value for w in at.warning)


def test_filters_narrow_every_figure(app):
    at = app()
    next(m for m in at.sidebar.multiselect if m.label == "Languages").set_value(["en"]).run()
    english = sum(1 for row in POSTS if row[1] == "en")
    assert metric(at, "Posts") == str(english)
    assert metric(at, "Languages") == "1"


def test_example_posts_are_shown_as_plain_text_never_markup(app):
    at = app()
    texts = [t.value for t in at.text]
    assert HOSTILE in texts  # the representative of topic 0, shown verbatim
    for element in at.markdown:
        assert "<script>" not in element.value and "javascript:" not in element.value
    topic_picker = next(s for s in at.selectbox if s.label == "Example posts for topic")
    assert topic_picker.options == ["unpaid, artists, labour", "clips, physics, 1080p"]
    topic_picker.select_index(1).run()
    shown = [t.value for t in at.text]
    topic_one = {row[0] for row in POSTS if row[3] == 1}
    assert len(shown) == 3 and set(shown) <= topic_one


def test_an_empty_store_says_how_to_collect(app):
    at = app(seed=False)
    assert not at.exception
    assert "murmur collect" in at.info[0].value
