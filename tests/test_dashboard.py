"""The dashboard, driven with Streamlit's AppTest on a seeded store: every page, every filter, the URL."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest
import streamlit as st
from sqlalchemy import Engine, select, text
from streamlit.testing.v1 import AppTest

from dashboard_pages import charts, downloads, view
from monitor.config import load_monitor
from store.collection import finish_run, save_posts, start_run
from store.post import Post
from store.queries import PostFilter, spike_marks
from store.schema import posts
from tests.conftest import ROOT, SORA_MONITOR
from tests.seed import BIDI, COPIED, HOSTILE, MONITOR, POSTS, seed_store

PAGES = ["overview", "topics", "narratives", "posts", "voices", "health", "export"]


@pytest.fixture
def app(engine, monkeypatch):
    def start(*, demo: bool = False, seed: bool = True, params: dict | None = None, page: str | None = None) -> AppTest:
        if seed:
            seed_store(engine, demo=demo)
        monkeypatch.setenv("MURMUR_DB", str(engine.url))
        monkeypatch.delenv("MURMUR_MONITOR_FILE", raising=False)
        st.cache_data.clear()
        st.cache_resource.clear()
        at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60)
        at.query_params.update(params or {})
        at.run()
        if page:
            at.switch_page(f"dashboard_pages/{page}.py").run()
        assert not at.exception, at.exception
        return at

    return start


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def widget(at: AppTest, label: str):
    return next(
        w for w in [*at.sidebar.multiselect, *at.sidebar.text_input, *at.sidebar.date_input] if w.label == label
    )


def count(*, language: str | None = None, days: tuple[int, ...] | None = None, topic: int | None = None) -> int:
    return sum(
        1
        for _text, lang, _sentiment, tid, day in POSTS
        if (language is None or lang == language) and (days is None or day in days) and (topic is None or tid == topic)
    )


def test_overview_shows_the_monitor_totals_and_charts(app):
    at = app()
    monitor = load_monitor(SORA_MONITOR)
    assert at.title[0].value == monitor.title
    assert at.code[0].value == monitor.query.source
    assert metric(at, "Posts") == str(len(POSTS))
    assert metric(at, "Languages") == "4"
    assert metric(at, "Busiest day") == "26 Nov"  # a 7-day range: binned by day
    assert [h.value for h in at.subheader] == ["Volume by source", "Sentiment over time", "Language mix over time"]
    assert "No spike in this range." in [c.value for c in at.caption]
    assert not at.warning  # live data: no demo banner


def test_sentiment_share_is_hidden_where_too_few_posts_are_scored(app):
    at = app()
    scored = [row[2] for row in POSTS if row[2]]
    assert len(scored) >= charts.MIN_SCORED  # enough in all for the total, too few on any one day for a share
    assert metric(at, "Negative (of scored)") == f"{scored.count('negative') / len(scored):.0%}"
    assert any("Too few scored posts" in i.value for i in at.info)


def test_demo_data_carries_a_visible_banner(app):
    at = app(demo=True)
    assert any("Demo data" in w.value for w in at.warning)


def test_an_empty_store_says_how_to_collect(app):
    at = app(seed=False)
    assert "murmur collect --monitor" in at.info[0].value
    assert not at.metric


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_on_the_seeded_store(app, page):
    at = app(page=page)
    assert at.title[0].value


def test_url_parameters_set_the_filters_and_a_short_range_is_binned_by_hour(app):
    at = app(params={"from": "2024-11-26", "to": "2024-11-27", "language": "en,fr"})
    assert widget(at, "Languages").value == ["en", "fr"]
    expected = count(language="en", days=(2, 3)) + count(language="fr", days=(2, 3))
    assert metric(at, "Posts") == str(expected)
    assert metric(at, "Busiest hour").startswith("26 Nov ")
    assert at.query_params["language"] == "en,fr" and at.query_params["from"] == "2024-11-26"


def test_repeated_url_parameters_mean_several_values_and_unknown_ones_are_dropped(app):
    at = app(params={"language": ["ar", "fr", "xx"], "topic": "0"})
    assert widget(at, "Languages").value == ["ar", "fr"]
    assert metric(at, "Posts") == str(count(language="ar", topic=0) + count(language="fr", topic=0))
    assert at.query_params["language"] == "ar,fr"


def test_changing_a_filter_writes_it_back_to_the_url(app):
    at = app()
    widget(at, "Languages").set_value(["ar"]).run()
    assert metric(at, "Posts") == "1"
    assert at.query_params["language"] == "ar"
    widget(at, "Sentiment").set_value(["unscored"]).run()
    assert at.query_params["sentiment"] == "unscored"
    widget(at, "Search text (any language)").set_value("سورا").run()
    assert metric(at, "Posts") == "1" and at.query_params["q"] == "سورا"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"source": "hackernews"}, len(POSTS)),
        ({"sentiment": "negative,positive"}, sum(1 for row in POSTS if row[2] in ("negative", "positive"))),
        ({"sentiment": "unscored"}, sum(1 for row in POSTS if row[2] is None)),
        ({"topic": "1"}, count(topic=1)),
        ({"q": "UNPAID"}, sum(1 for row in POSTS if "unpaid" in row[0].lower())),
        ({"q": "boycott sora"}, 2),  # every word, folded: case and doubled spaces do not matter
        ({"q": "100%"}, 0),  # LIKE wildcards in the search are literal
        ({"from": "2024-11-28", "to": "2024-11-28"}, count(days=(4,))),
    ],
)
def test_each_filter_narrows_the_totals(app, params, expected):
    at = app(params=params)
    if expected:
        assert metric(at, "Posts") == str(expected)
    else:
        assert "No posts match these filters." in [i.value for i in at.info]


def test_the_topic_table_and_examples_follow_the_filters(app):
    at = app(params={"from": "2024-11-27", "to": "2024-11-28"}, page="topics")
    table = at.dataframe[0].value
    assert list(table["posts"]) == sorted(table["posts"], reverse=True) and (table["posts"] > 0).all()
    assert dict(zip(table["topic"], table["posts"], strict=True)) == {
        "unpaid, artists, labour": count(topic=0, days=(3, 4)),
        "clips, physics, 1080p": count(topic=1, days=(3, 4)),
    }
    assert "Keywords per language" in [h.value for h in at.subheader] and "Lineage" in [h.value for h in at.subheader]
    shown = {t.value for t in at.text}
    in_range = {row[0] for row in POSTS if row[4] in (3, 4)}
    assert shown and shown <= in_range  # representative posts of other days are not shown


def test_posts_are_plain_text_sorted_by_engagement_with_rtl_laid_out_right_to_left(app):
    at = app(page="posts")
    texts = [t.value for t in at.text]
    assert HOSTILE in texts and BIDI in texts  # verbatim: markup and bidi controls are kept as characters
    for element in [*at.markdown, *at.caption]:
        assert "<script>" not in element.value and "<img" not in element.value
    next(r for r in at.radio if r.label == "Sort by").set_value("engagement").run()
    assert at.text[0].value == BIDI  # the most liked post of the seed
    arabic = next(t for t in at.text if t.value == POSTS[3][0])
    assert any("rtl-post-list-" in str(getattr(block, "key", "")) for block in _parents(at, arabic))
    captions = " ".join(c.value for c in at.caption)
    assert "author-" in captions and "author0" not in captions  # pseudonyms only


def _parents(at: AppTest, element):
    keys = []
    for block in at.main.children.values():
        stack = [block]
        while stack:
            node = stack.pop()
            children = getattr(node, "children", {})
            if element in _flatten(children):
                keys.append(node)
            stack.extend(children.values())
    return keys


def _flatten(children: dict) -> list:
    found = []
    for child in children.values():
        found.append(child)
        found.extend(_flatten(getattr(child, "children", {})))
    return found


def test_voices_finds_the_same_text_from_different_authors(app):
    at = app(page="voices")
    authors = at.dataframe[0].value
    assert authors["author"].str.startswith("author-").all() and authors["posts"].sum() == len(POSTS)
    groups = at.dataframe[1].value
    assert len(groups) == 1 and groups.iloc[0]["authors"] == 2 and groups.iloc[0]["posts"] == 2
    assert groups.iloc[0]["text"] == COPIED.lower()
    assert {t.value for t in at.text} == {COPIED, POSTS[-2][0]}


def test_voices_shows_near_identical_posts_found_by_embedding(app, engine):
    import numpy as np

    from analyze.near_duplicates import find_near_duplicates
    from tests.test_near_duplicates import MODEL, embed_seeded, unit

    seed_store(engine)
    campaign = np.arange(1.0, 17.0)
    edited = POSTS[12][0]  # another author than COPIED's, an hour later
    embed_seeded(engine, {COPIED: unit(campaign), edited: unit(campaign + 0.1)})
    find_near_duplicates(engine, MONITOR, MODEL)
    at = app(seed=False, page="voices")
    similar = next(d.value for d in at.dataframe if "similarity" in d.value.columns)
    assert list(similar["authors"]) == [2] and similar.at[0, "text"] == COPIED  # the earliest speaks for it
    assert {t.value for t in at.text} >= {COPIED, edited}  # the group's posts, as text


def test_collection_health_lists_runs_and_sources(app):
    at = app(page="health")
    runs = at.dataframe[0].value
    assert list(runs["status"]) == ["ok"] and list(runs["posts found"]) == [len(POSTS)]
    assert list(at.dataframe[1].value["source"]) == ["hackernews"]
    assert any("No errors" in s.value for s in at.success)


def test_collection_health_shows_the_run_manifests(app, engine):
    from store.manifests import save_manifest

    seed_store(engine)
    with engine.connect() as conn:
        run_id = conn.execute(text("SELECT max(id) FROM runs")).scalar()
    at_ = datetime(2024, 12, 1, 9, 0, tzinfo=timezone.utc)
    base = {"murmur": {"version": "0.2.0", "commit": "1a2b3c4d5e6f7a8b"}, "monitor": {"sha256": "9f8e7d6c5b4a3928"}}
    with engine.begin() as conn:
        save_manifest(
            conn,
            monitor=MONITOR,
            kind="collect",
            run_id=run_id,
            started_at=at_,
            finished_at=at_ + timedelta(seconds=42),
            manifest={
                **base,
                "kind": "collect",
                "sources": {"hackernews": {"enabled": True}, "reddit": {"enabled": False}},
            },
        )
        save_manifest(
            conn,
            monitor=MONITOR,
            kind="analyze",
            started_at=at_ + timedelta(minutes=5),
            finished_at=at_ + timedelta(minutes=6),
            manifest={
                **base,
                "kind": "analyze",
                "backends": {"sentiment": "vader"},
                "seed": 7,
                "counts": {"analyzed": 14},
            },
        )
    at = app(seed=False, page="health")
    table = next(d.value for d in at.dataframe if "commit" in d.value.columns)
    assert list(table["kind"]) == ["analyze", "collect"]
    assert list(table["run"].astype("object")) == [pd.NA, run_id]
    assert set(table["commit"]) == {"1a2b3c4d5e6f"} and set(table["monitor file"]) == {"9f8e7d6c5b4a"}
    assert table["what"].iloc[0] == "sentiment vader · seed 7 · analyzed 14"
    assert table["what"].iloc[1] == "sources: hackernews"
    shown = json.loads(at.code[-1].value)
    assert shown["seed"] == 7 and shown["backends"] == {"sentiment": "vader"}


def test_narratives_wait_for_their_analysis(app):
    at = app(page="narratives")
    assert "not analysed yet" in at.info[0].value


def test_export_writes_the_filtered_posts(app, engine):
    at = app(params={"language": "en"}, page="export")
    assert at.subheader[0].value == f"Posts ({count(language='en')} match the filters)"
    assert [b.label for b in at.get("download_button")][:3] == ["Posts as CSV", "Posts as PARQUET", "Posts as JSONL"]
    current = view.View(
        url=str(engine.url),
        monitor=MONITOR,
        version=(),
        where=PostFilter(languages=("en",)),
        narratives=(),
        facets={},
        demo=False,
    )
    rows = list(csv.DictReader(io.StringIO(downloads.posts_file(current, "csv")().decode())))
    assert len(rows) == count(language="en") and {row["language"] for row in rows} == {"en"}
    lines = downloads.posts_file(current, "jsonl")().decode().splitlines()
    assert {json.loads(line)["text"] for line in lines} >= {HOSTILE, BIDI}


def test_sentiment_shares_drop_thin_bins_and_band_the_rest():
    day = pd.Timestamp("2024-11-26", tz="UTC")
    counts = pd.DataFrame(
        {
            "bin": [day, day, day, day + pd.Timedelta(days=1)],
            "sentiment": ["negative", "positive", "unscored", "negative"],
            "posts": [30, 10, 500, 2],
        }
    )
    shares = charts.sentiment_shares(counts).set_index("sentiment")
    assert list(shares["bin"].unique()) == [day]  # 2 posts on the second day: no "100 % negative"
    assert shares.at["negative", "share"] == pytest.approx(0.75)
    assert shares.at["negative", "low"] < 0.75 < shares.at["negative", "high"]
    assert shares.at["negative", "scored"] == 40
    share_chart, count_chart = charts.sentiment_charts(
        shares.reset_index(), counts.assign(scored=counts["posts"]), hourly=False
    )
    assert (
        share_chart.to_dict()["layer"][0]["mark"]["type"] == "area" and count_chart.to_dict()["mark"]["type"] == "bar"
    )


def test_a_new_run_shows_without_waiting_for_the_cache(app, engine):
    at = app()
    assert metric(at, "Posts") == str(len(POSTS))
    with engine.begin() as conn:
        run = start_run(conn, MONITOR, "live")
        late = Post(
            platform="mastodon",
            native_id="late-1",
            text="A late post about the Sora leak",
            created_at=datetime(2024, 11, 27, 9, tzinfo=timezone.utc),
            author="someone",
        )
        save_posts(conn, [late], run_id=run, source="mastodon")
        finish_run(conn, run, "ok", {"mastodon": {"new": 1}}, [])
    at.run()
    assert metric(at, "Posts") == str(len(POSTS) + 1)
    assert metric(at, "Sources") == "2"


def add_spikes_and_narratives(engine: Engine) -> None:
    """What the spike and narrative analysis (issue 10) write, in its table layout, for the seeded posts."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TABLE IF NOT EXISTS spikes (id INTEGER PRIMARY KEY, monitor VARCHAR(128) NOT NULL, "
                "series VARCHAR(300) NOT NULL, granularity VARCHAR(8) NOT NULL, "
                "start TIMESTAMP WITH TIME ZONE NOT NULL, "
                '"end" TIMESTAMP WITH TIME ZONE NOT NULL, posts INTEGER NOT NULL, baseline FLOAT NOT NULL, '
                "peak INTEGER NOT NULL, drivers TEXT NOT NULL, top_posts TEXT NOT NULL, sentiment TEXT NOT NULL, "
                "detected_at TIMESTAMP WITH TIME ZONE NOT NULL)"
            )
        )
        conn.execute(
            text(
                "CREATE TABLE IF NOT EXISTS post_narratives (monitor VARCHAR(128) NOT NULL, "
                "narrative VARCHAR(128) NOT NULL, "
                "post_id INTEGER NOT NULL, score FLOAT NOT NULL, member BOOLEAN NOT NULL, "
                "PRIMARY KEY (monitor, narrative, post_id))"
            )
        )
        drivers = json.dumps(
            [{"kind": "topic", "value": "0", "label": "<b>unpaid</b>", "posts": 4, "share": 0.8, "share_before": 0.1}]
        )
        leak_day = datetime(2024, 11, 26, tzinfo=timezone.utc)
        conn.execute(
            text(
                'INSERT INTO spikes (id, monitor, series, granularity, start, "end", posts, baseline, peak, drivers, '
                "top_posts, sentiment, detected_at) VALUES (1, :m, 'all', 'day', :s, :e, 7, 1.5, 7, :d, '{}', '{}', :s)"
            ),
            {"m": MONITOR, "s": leak_day, "e": leak_day + timedelta(days=1), "d": drivers},
        )
        source_drivers = json.dumps([{"kind": "language", "label": "ar", "share": 0.5, "share_before": 0.0}])
        conn.execute(
            text(
                'INSERT INTO spikes (id, monitor, series, granularity, start, "end", posts, baseline, peak, drivers, '
                "top_posts, sentiment, detected_at) "
                "VALUES (2, :m, 'source:hackernews', 'day', :s, :e, 5, 1.0, 5, :d, '{}', '{}', :s)"
            ),
            {"m": MONITOR, "s": leak_day, "e": leak_day + timedelta(days=1), "d": source_drivers},
        )
        ids: dict[str, int] = {r.text: r.id for r in conn.execute(select(posts.c.text, posts.c.id))}
        members = [row[0] for row in POSTS if "unpaid" in row[0].lower()]
        conn.execute(
            text("INSERT INTO post_narratives VALUES (:m, 'unpaid-labour', :p, 0.9, :member)"),
            [{"m": MONITOR, "p": ids[t], "member": True} for t in members]
            + [{"m": MONITOR, "p": ids[POSTS[5][0]], "member": False}],
        )


def test_spikes_are_marked_and_narratives_shown_once_analysed(app, engine):
    seed_store(engine)
    add_spikes_and_narratives(engine)
    at = app(seed=False)
    assert (
        "1 spikes of all sources (black dashes) and 1 of single sources (dashes and triangles in the source's "
        "colour) marked; hover for what drove each." in [c.value for c in at.caption]
    )
    with engine.connect() as conn:
        marks = spike_marks(conn, MONITOR, PostFilter(), hourly=False)
        of_mastodon = spike_marks(conn, MONITOR, PostFilter(sources=("mastodon",)), hourly=False)
    assert list(marks["source"].fillna("all")) == ["all", "hackernews"]
    layers = charts.spike_rules(marks).to_dict()["layer"]
    source_layers = [layer for layer in layers if layer["encoding"].get("color", {}).get("field") == "source"]
    assert {layer["mark"]["type"] for layer in source_layers} == {"rule", "point"}
    assert all(
        [t.get("field") for t in layer["encoding"]["tooltip"]][-1] == "explanation" for layer in layers
    )  # hover: what drove it
    assert marks["explanation"].iloc[1] == "language: ar 50% (before 0%)"
    assert list(of_mastodon["source"].fillna("all")) == ["all"]
    members = [row[0] for row in POSTS if "unpaid" in row[0].lower()]
    at = app(seed=False, params={"narrative": "unpaid-labour"})
    assert metric(at, "Posts") == str(len(members))
    assert widget(at, "Narratives").value == ["unpaid-labour"]
    at = app(seed=False, page="narratives")
    assert [h.value for h in at.subheader] == ["Share of posts over time", "Top posts: unpaid\\-labour"]
    assert {t.value for t in at.text} == set(members)


def test_spike_explanations_are_text():
    from store.queries import _explain

    drivers = json.dumps([{"kind": "language", "label": "ar", "share": 0.3, "share_before": 0.05}, "junk"])
    assert _explain(drivers) == "language: ar 30% (before 5%)"
    assert _explain("not json") == ""


def test_a_narrative_in_the_url_waits_for_the_narrative_analysis(app):
    at = app(params={"narrative": "unpaid-labour", "sentiment": "negative"})
    assert metric(at, "Posts") == str(sum(1 for row in POSTS if row[2] == "negative"))  # not narrowed yet
    assert at.query_params["narrative"] == "unpaid-labour"  # kept, so the shared link works once analysed
