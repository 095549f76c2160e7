"""Narratives: the monitor file's watchlists, cross-lingual scoring with a real multilingual model,
what the analysis stores, the store's queries and the export."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from sqlalchemy import func, select

from analyze.embeddings import E5_SMALL_NAME, make_embedding_backend
from analyze.narratives import narrative_vectors, score, threshold_for
from analyze.pipeline import analyze_monitor
from monitor.config import Narrative, load_monitor
from monitor.errors import ConfigError
from store.analysis import PostVerdict, save_embeddings, save_verdicts
from store.collection import finish_run, save_posts, start_run
from store.exports import ExportFilter, export_rows
from store.narratives import memberships, narrative_share, top_narrative_posts
from store.post import Post
from store.schema import post_narratives, posts
from store.topic_models import TopicRecord, save_topic_model
from tests.conftest import SORA_MONITOR

# (narrative it carries or None, text): every language but English, descriptions are in English
POSTS = [
    ("unpaid-artist-labour", "الفنانون عملوا مجانًا لشركة OpenAI كمختبرين دون أي أجر"),
    ("unpaid-artist-labour", "Los artistas trabajaron gratis como probadores para OpenAI sin cobrar nada"),
    ("video-quality", "Les vidéos de Sora sont impressionnantes mais les mains sont encore déformées"),
    ("video-quality", "مقاطع الفيديو من سورا واقعية جدًا لكن الفيزياء فيها أخطاء"),
    ("jobs", "Los trabajadores de efectos visuales van a perder sus empleos por culpa de la IA"),
    ("leak-and-security", "Die Sora-Schnittstelle wurde auf Hugging Face mit einem API-Schlüssel veröffentlicht"),
    ("openai-response", "OpenAI a suspendu l'accès et déclaré que la participation était volontaire"),
    (None, "Je fais du pain au levain tous les dimanches avec ma grand-mère"),
    (None, "أحب كرة القدم وأشاهد المباريات كل أسبوع"),
]


@pytest.fixture(scope="module")
def e5():
    return make_embedding_backend("e5-small")


def test_the_sora_monitor_ships_its_narratives():
    names = [n.name for n in load_monitor(SORA_MONITOR).narratives]
    assert names == [
        "unpaid-artist-labour",
        "art-washing-pr",
        "leak-and-security",
        "openai-response",
        "video-quality",
        "jobs",
    ]


@pytest.mark.parametrize(
    ("toml", "key", "message"),
    [
        ('[[narratives]]\nname = "x"', "narratives[0].description", "missing"),
        ('[[narratives]]\nname = "a b"\ndescription = "d"', "narratives[0].name", "letters, digits"),
        ('[[narratives]]\nname = "x"\ndescription = "  "', "narratives[0].description", "empty"),
        ('[[narratives]]\nname = "x"\ndescription = "d"\nexamples = [1]', "narratives[0].examples", "strings"),
        ('[[narratives]]\nname = "x"\ndescription = "d"\ncolour = 1', "narratives[0].colour", "unknown key"),
        ('[[narratives]]\nname = "x"\ndescription = "d"\nthreshold = 2', "narratives[0].threshold", "at most 1"),
        (
            '[[narratives]]\nname = "x"\ndescription = "d"\n[[narratives]]\nname = "x"\ndescription = "e"',
            "narratives[1].name",
            "already",
        ),
        ('narratives = "x"', "narratives", "expected a list of tables"),
        ("narratives = [1]", "narratives[0]", "expected a table"),
    ],
)
def test_narrative_mistakes_are_one_line_naming_the_key(write_monitor, toml, key, message):
    base = 'name = "m"\nquery = "sora"\nstart = 2024-11-12\n[sources.hackernews]\n'
    body = toml if toml.startswith("narratives =") else base + toml
    text = (toml + "\n" + base) if toml.startswith("narratives =") else body
    with pytest.raises(ConfigError) as caught:
        load_monitor(write_monitor(text))
    assert f": {key}: " in str(caught.value) and message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_english_descriptions_find_posts_in_other_languages(e5):
    narratives = load_monitor(SORA_MONITOR).narratives
    names = [n.name for n in narratives]
    scores = score(e5.embed([text for _, text in POSTS]), narrative_vectors(narratives, e5))
    thresholds = np.array([threshold_for(n, e5.name) for n in narratives])
    for (gold, text), row in zip(POSTS, scores, strict=True):
        members = {names[j] for j in np.flatnonzero(row >= thresholds)}
        if gold is None:
            assert not members, text
        else:
            assert names[int(row.argmax())] == gold and gold in members, text


def test_a_narrative_threshold_overrides_the_models_default():
    assert threshold_for(Narrative("x", "d"), E5_SMALL_NAME) == 0.82
    assert threshold_for(Narrative("x", "d"), "sentence-transformers:all-MiniLM-L6-v2") == 0.45
    assert threshold_for(Narrative("x", "d", threshold=0.5), E5_SMALL_NAME) == 0.5


def store_posts(engine, e5, texts: list[str], first_id: int = 0) -> None:
    """Posts already through language, sentiment, embeddings (real e5 vectors) and a topic model."""
    start = datetime(2024, 11, 26, 12, tzinfo=timezone.utc)
    items = [
        Post(
            platform="mastodon",
            native_id=str(first_id + i),
            text=t,
            created_at=start + timedelta(hours=i % 3),
            url=f"https://mastodon.social/@a/{first_id + i}",
        )
        for i, t in enumerate(texts)
    ]
    with engine.begin() as conn:
        run = start_run(conn, "sora-leak", "demo")
        save_posts(conn, items, run_id=run, source="mastodon", demo=True)
        finish_run(conn, run, "ok", {}, [])
        by_native = dict(conn.execute(select(posts.c.native_id, posts.c.id)).all())
        ids = [by_native[item.native_id] for item in items]
        save_verdicts(conn, [PostVerdict(pid, "und", None, None, None, "test") for pid in ids])
        save_embeddings(conn, E5_SMALL_NAME, ids, e5.embed(texts))
        save_topic_model(
            conn,
            monitor="sora-leak",
            embedding_model=E5_SMALL_NAME,
            settings={},
            topic_records=[TopicRecord(-1, "Unassigned", [], len(ids), [])],
            assignments=[(pid, -1, None) for pid in ids],
        )


def must_not_load():
    raise AssertionError("no model should load")


def test_the_analysis_scores_every_post_and_the_store_answers(engine, e5):
    monitor = dataclasses.replace(
        load_monitor(SORA_MONITOR),
        analysis=dataclasses.replace(load_monitor(SORA_MONITOR).analysis, embeddings="e5-small"),
    )
    store_posts(engine, e5, [text for _, text in POSTS])
    report = analyze_monitor(
        engine, monitor, sentiment=must_not_load, embedder=lambda: e5, embedding_name=E5_SMALL_NAME
    )
    assert report.narrative_posts == len(POSTS)
    with engine.connect() as conn:
        rows = conn.execute(select(func.count()).select_from(post_narratives)).scalar()
        members = memberships(conn, "sora-leak")
        top = top_narrative_posts(conn, "sora-leak", "video-quality")
        share = narrative_share(conn, "sora-leak", freq="D")
        exported = list(export_rows(conn, "sora-leak", ExportFilter()))
        by_native = dict(conn.execute(select(posts.c.native_id, posts.c.id)).all())
    assert rows == len(POSTS) * len(monitor.narratives)
    by_text = {text: members.get(by_native[str(i)], ()) for i, (_, text) in enumerate(POSTS)}
    assert all(gold in by_text[text] for gold, text in POSTS if gold)
    assert all(not by_text[text] for gold, text in POSTS if gold is None)
    assert {p.text for p in top} >= {POSTS[2][1], POSTS[3][1]} and top[0].score >= top[-1].score
    day = share[share["narrative"] == "video-quality"].iloc[0]
    assert day["total"] == len(POSTS) and day["posts"] >= 2 and day["share"] == day["posts"] / len(POSTS)
    arabic = next(r for r in exported if r["text"] == POSTS[0][1])
    assert "unpaid-artist-labour" in json.loads(arabic["narratives"])
    assert set(json.loads(arabic["narrative_scores"])) == {n.name for n in monitor.narratives}

    # Nothing new: no model loads. New posts: only they are scored.
    again = analyze_monitor(
        engine, monitor, sentiment=must_not_load, embedder=must_not_load, embedding_name=E5_SMALL_NAME
    )
    assert again.narrative_posts == 0
    store_posts(engine, e5, ["Sora's leaked clips have wobbly physics and melting hands"], first_id=100)
    more = analyze_monitor(engine, monitor, sentiment=must_not_load, embedder=lambda: e5, embedding_name=E5_SMALL_NAME)
    assert more.narrative_posts == 1

    # Changed definitions: every post is scored again, once.
    stricter = dataclasses.replace(
        monitor, narratives=tuple(dataclasses.replace(n, threshold=0.99) for n in monitor.narratives)
    )
    redo = analyze_monitor(engine, stricter, sentiment=must_not_load, embedder=lambda: e5, embedding_name=E5_SMALL_NAME)
    assert redo.narrative_posts == len(POSTS) + 1
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(post_narratives)).scalar() == rows + 6
        assert memberships(conn, "sora-leak") == {}
