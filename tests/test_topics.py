"""Topics across languages with durable identities: lineage, placement between refits, refits.

Embeddings are synthetic (tests/topic_stream.py): the model is not under test here, BERTopic and
the matching are.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from sqlalchemy import func, select

from analyze import topic_refresh
from analyze.lineage import TopicSummary, match_topics
from analyze.topic_refresh import update_topics
from analyze.words import keyword_text
from store.schema import post_topics, topic_models, topics
from store.topic_models import latest_topic_model, load_centroids, topic_events_of
from tests.topic_stream import MODEL, cluster, directions, store_posts

MONITOR = "stream"
# Per conversation: English and Spanish words its posts use.
WORDS = {
    "pay": (["unpaid", "wages", "compensation"], ["impago", "salario", "compensación"]),
    "video": (["lighting", "physics", "frames"], ["iluminación", "física", "fotogramas"]),
    "token": (["token", "endpoint", "credentials"], ["clave", "acceso", "credenciales"]),
    "court": (["lawsuit", "copyright", "judge"], ["demanda", "derechos", "juez"]),
    "music": (["guitar", "album", "concert"], ["guitarra", "disco", "concierto"]),
}


def _summary(number: int, ids: range, centre: np.ndarray) -> TopicSummary:
    return TopicSummary(number, len(ids), f"topic {number}", centre)


def test_lineage_names_a_birth_a_merge_a_split_and_a_fade():
    a, b, c, d, f = directions(5)
    bc = (b + c) / np.linalg.norm(b + c)
    d1, d2 = d + 0.2 * a, d - 0.2 * a  # two halves of one conversation drifting apart
    old_posts = {0: range(0, 40), 1: range(40, 80), 2: range(80, 110), 3: range(110, 160), 4: range(160, 190)}
    old = [
        _summary(n, ids, centre) for (n, ids), centre in zip(old_posts.items(), (a, b, c, d, 0.9 * a + f), strict=True)
    ]
    old_placed = (np.arange(190), np.repeat(list(old_posts), [len(r) for r in old_posts.values()]))
    # The refit: A gains 10 posts, B and C are one topic, D is two, E's posts fit nothing, F is new.
    new_posts = {
        10: [*range(0, 40), *range(190, 200)],
        11: [*range(40, 110)],
        12: [*range(110, 140)],
        13: [*range(140, 160)],
        14: [*range(200, 240)],
        -1: [*range(160, 190)],
    }
    new = [
        _summary(n, range(len(ids)), centre)
        for (n, ids), centre in zip(new_posts.items(), (a, bc, d1, d2, f), strict=False)
    ]
    ids = np.concatenate([np.array(v) for v in new_posts.values()])
    topics = np.concatenate([np.full(len(v), n) for n, v in new_posts.items()])
    order = np.argsort(ids)

    lineage = match_topics(old, old_placed, new, (ids[order], topics[order]), next_number=5)

    assert lineage.numbers == {10: 0, 11: 1, 12: 3, 13: 5, 14: 6, -1: -1}
    assert sorted((e.topic, e.event, e.other) for e in lineage.events) == [
        (0, "continued", None),
        (1, "grew", None),  # 40 → 70 posts
        (2, "merged_into", 1),
        (3, "continued", None),  # keeps its number: its larger half
        (4, "faded", None),
        (5, "split_from", 3),
        (6, "born", None),
    ]


def test_unrelated_topics_sharing_a_few_posts_are_not_linked():
    a, b = directions(2)
    old = [_summary(0, range(50), a)]
    new = [_summary(0, range(50), b)]  # same posts, but the centroid points elsewhere
    lineage = match_topics(
        old, (np.arange(50), np.zeros(50, np.int64)), new, (np.arange(50), np.zeros(50, np.int64)), next_number=1
    )
    assert {(e.topic, e.event) for e in lineage.events} == {(0, "faded"), (1, "born")}


def test_japanese_and_chinese_keywords_are_words():
    japanese = keyword_text("アーティストたちがソラの動画モデルを公開した", "ja").split()
    chinese = keyword_text("艺术家泄露了视频模型", "zh").split()
    assert {"アーティスト", "動画", "モデル", "公開"} <= set(japanese)
    assert {"艺术家", "泄露", "视频", "模型"} <= set(chinese)
    assert keyword_text("Artists leaked the model", "en") == "Artists leaked the model"


def _conversation(engine, name: str, centre, n: int, rng, day: int = 0, offsets=None) -> list[int]:
    """`n` posts of one conversation, half English and half Spanish, each language with its offset."""
    english, spanish = WORDS[name]
    languages = ["en" if i % 2 == 0 else "es" for i in range(n)]
    vectors = cluster(centre, n, rng)
    if offsets is not None:
        vectors = vectors + np.array([offsets[lang] for lang in languages])
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    texts = [
        " ".join(rng.choice(english if lang == "en" else spanish, size=3)) + f" post {i}"
        for i, lang in enumerate(languages)
    ]
    return store_posts(engine, MONITOR, vectors.astype(np.float32), texts, languages, day=day)


def _count(engine, table, **where) -> int:
    with engine.connect() as conn:
        query = select(func.count()).select_from(table)
        for column, value in where.items():
            query = query.where(table.c[column] == value)
        return conn.execute(query).scalar_one()


@pytest.mark.slow
def test_topics_keep_their_numbers_as_posts_arrive_and_a_new_conversation_appears(engine, monkeypatch):
    rng = np.random.default_rng(1)
    centres = dict(zip(WORDS, directions(len(WORDS), seed=3), strict=True))
    language = directions(2, seed=11)
    offsets = {"en": 0.5 * language[0], "es": 0.5 * language[1]}  # "written in Spanish" moves every post
    for name in ("pay", "video", "token", "court"):
        _conversation(engine, name, centres[name], 40, rng, offsets=offsets)

    first = update_topics(engine, MONITOR, MODEL, min_topic_size=10)
    assert first.refit == "no topic model yet" and first.topics == 4
    with engine.connect() as conn:
        model = latest_topic_model(conn, MONITOR)
        assert model is not None
        rows = conn.execute(select(topics).where(topics.c.model_id == model["id"], topics.c.topic >= 0)).all()
    assert sorted(r.topic for r in rows) == [0, 1, 2, 3]
    for row in rows:
        languages = json.loads(row.languages)
        assert max(languages.values()) / sum(languages.values()) < 0.9  # a conversation, not a language
        by_language = json.loads(row.keywords_by_language)
        english, spanish = next(WORDS[n] for n in WORDS if any(w in row.label for w in WORDS[n][0] + WORDS[n][1]))
        assert {w for w, _ in by_language["en"]} & set(english)
        assert {w for w, _ in by_language["es"]} & set(spanish)
        assert {w for w, _ in by_language["en"]}.isdisjoint(spanish)
        representative = json.loads(row.representative)
        assert len(representative) == 5
    number_of = {}
    for name in ("pay", "video", "token", "court"):
        number_of[name] = next(r.topic for r in rows if set(r.label.split(", ")) & set(WORDS[name][0] + WORDS[name][1]))
    assert len(set(number_of.values())) == 4

    # Between refits: new posts of known conversations join their topics from the saved centroids.
    fresh = _conversation(engine, "pay", centres["pay"], 12, rng, day=1, offsets=offsets)
    fit_topics = topic_refresh.fit_topics
    monkeypatch.setattr(topic_refresh, "fit_topics", _must_not_refit)
    placed = update_topics(engine, MONITOR, MODEL, min_topic_size=10)
    assert (placed.placed, placed.unfit, placed.refit) == (12, 0, None)
    with engine.connect() as conn:
        assigned = dict(
            conn.execute(
                select(post_topics.c.post_id, post_topics.c.topic).where(post_topics.c.model_id == model["id"])
            ).all()
        )
    assert {assigned[i] for i in fresh} == {number_of["pay"]}

    # An interrupted run: posts embedded but never placed are placed by the next one.
    orphans = _conversation(engine, "video", centres["video"], 4, rng, day=1, offsets=offsets)
    assert update_topics(engine, MONITOR, MODEL, min_topic_size=10).placed == 4
    assert _count(engine, post_topics, model_id=model["id"]) == 160 + 12 + 4
    assert all(_count(engine, post_topics, post_id=i) == 1 for i in orphans)

    # A new conversation fits no saved topic: past the unfit share, the topics are refitted.
    monkeypatch.setattr(topic_refresh, "fit_topics", fit_topics)
    _conversation(engine, "music", centres["music"], 40, rng, day=2, offsets=offsets)
    refit = update_topics(engine, MONITOR, MODEL, min_topic_size=10)
    assert refit.unfit == 40 and refit.refit == "40 of 56 new posts fit no topic"  # counted since the last fit
    with engine.connect() as conn:
        events = topic_events_of(conn, MONITOR)
        latest = latest_topic_model(conn, MONITOR)
        assert latest is not None
        centroids = load_centroids(conn, latest["id"])
    second = [(e["topic"], e["event"]) for e in events if e["model_id"] == latest["id"]]
    assert sorted(second) == [
        (number_of["pay"], "continued"),
        (number_of["video"], "continued"),
        (number_of["token"], "continued"),
        (number_of["court"], "continued"),
        (4, "born"),
    ]
    assert [e["event"] for e in events if e["model_id"] == model["id"]] == ["born"] * 4
    assert sorted(centroids.topics.tolist()) == [0, 1, 2, 3, 4] and set(centroids.language_means) == {"en", "es"}
    assert _count(engine, post_topics, model_id=latest["id"]) == 216


@pytest.mark.slow
def test_an_interrupted_refit_leaves_every_post_placed_at_the_next_run(engine, monkeypatch):
    rng = np.random.default_rng(2)
    centres = directions(3, seed=5)
    for name, centre in zip(("pay", "video", "token"), centres, strict=True):
        _conversation(engine, name, centre, 30, rng)
    update_topics(engine, MONITOR, MODEL, min_topic_size=10)
    _conversation(engine, "pay", centres[0], 10, rng, day=1)

    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    save_topic_model = topic_refresh.save_topic_model
    monkeypatch.setattr(topic_refresh, "save_topic_model", crash)
    with pytest.raises(KeyboardInterrupt):
        update_topics(engine, MONITOR, MODEL, min_topic_size=10, refit=True)
    monkeypatch.setattr(topic_refresh, "save_topic_model", save_topic_model)
    assert _count(engine, topic_models) == 1  # the refit left nothing half-written
    again = update_topics(engine, MONITOR, MODEL, min_topic_size=10)
    assert again.placed == 10 and again.refit is None
    with engine.connect() as conn:
        model = latest_topic_model(conn, MONITOR)
    assert model is not None
    assert _count(engine, post_topics, model_id=model["id"]) == 100


@pytest.mark.slow
def test_a_refit_over_more_posts_than_the_sample_places_the_rest_by_centroid(engine):
    rng = np.random.default_rng(3)
    conversations = [
        _conversation(engine, name, centre, 50, rng)
        for name, centre in zip(("pay", "video", "token"), directions(3, seed=9), strict=True)
    ]
    update = update_topics(engine, MONITOR, MODEL, min_topic_size=10, max_fit_posts=90)
    assert update.topics == 3 and update.posts == 150
    with engine.connect() as conn:
        model = latest_topic_model(conn, MONITOR)
        assert model is not None
        placed = dict(
            conn.execute(
                select(post_topics.c.post_id, post_topics.c.topic).where(post_topics.c.model_id == model["id"])
            ).all()
        )
    assert model["n_posts"] == 150 and len(placed) == 150
    found = [{placed[i] for i in ids} - {-1} for ids in conversations]
    assert all(len(topics) == 1 for topics in found) and len(set.union(*found)) == 3  # one topic each
    assert list(placed.values()).count(-1) <= 15


def _must_not_refit(*args, **kwargs):
    raise AssertionError("refitted although new posts fit the saved topics")
