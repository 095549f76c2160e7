"""The multilingual sentiment default, query-word masking, and the `analyze sentiment` tool."""

from __future__ import annotations

import io
import sys

import numpy as np
import pytest
from sqlalchemy import select

from analyze import sentiment_tool
from analyze.cli import main as analyze_main
from analyze.lexical import char_ngrams, word_ngrams
from analyze.pipeline import analyze_monitor, query_words
from analyze.sentiment import MultilingualBackend, VaderBackend, readable
from analyze.sentiment_model import MODEL_PATH
from analyze.text import term_masker
from monitor.config import load_monitor
from store.collection import save_posts, start_run
from store.post import Post
from store.schema import post_analysis
from tests.conftest import SORA_MONITOR


class FlatEmbedder:
    """Stands in for an embedding model where embeddings are not under test."""

    name = "flat"

    def embed(self, texts):
        return np.ones((len(texts), 4), dtype=np.float32) / 2


@pytest.fixture(scope="module")
def multilingual():
    return MultilingualBackend()


def test_the_default_reads_every_language_with_calibrated_probabilities(multilingual):
    texts = [
        "I love this, what a wonderful day, thank you so much!",
        "This is awful, I hate it, worst service ever.",
        "أنا سعيد جدا بهذا الخبر الرائع، شكرا لكم",
        "هذا أسوأ قرار، أنا غاضب جدا ومحبط",
        "C'est magnifique, j'adore, merci beaucoup !",
        "Quelle honte, c'est nul et dégoûtant.",
        "Das ist wunderbar, ich freue mich sehr!",
        "Qué asco, es horrible y estoy muy enfadado.",
    ]
    verdicts = multilingual.score(texts, ["en", "en", "ar", "ar", "fr", "fr", "de", "es"])
    assert [v.label for v in verdicts] == ["positive", "negative"] * 2 + [
        "positive",
        "negative",
        "positive",
        "negative",
    ]
    for verdict in verdicts:
        assert verdict.probabilities is not None and abs(sum(verdict.probabilities) - 1) < 1e-3
        negative, _, positive = verdict.probabilities
        assert verdict.score == pytest.approx(positive - negative, abs=1e-3)


def test_only_what_no_model_can_read_is_unscored(multilingual):
    texts = ["", "   ", "🔥🔥😂", "12:30 !!!", "שלום לכולם, מה שלומכם היום", "ok"]
    verdicts = multilingual.score(texts, ["und", "und", "und", "und", "he", "en"])
    assert verdicts[:5] == [None] * 5
    assert verdicts[5] is not None
    assert readable("Sora 🔥") and readable("سورا") and readable("ソラ") and not readable("Σόρα το μοντέλο")


def test_query_words_and_their_inflections_are_masked():
    monitor = load_monitor(SORA_MONITOR)
    mask = term_masker(query_words(monitor.query))
    assert mask("The Sora leak: LEAKED clips, leaks everywhere") == "The : clips, everywhere"
    assert mask("نشر الفنانون التسريب الخاص بنموذج سورا") == "نشر الفنانون الخاص بنموذج"
    assert mask("PR-Puppets explain why") == "explain why"
    assert mask("Leakage is another word") == "Leakage is another word"  # not an inflection of "leak"
    assert term_masker([])("unchanged text") == "unchanged text"


def test_a_neutral_post_naming_the_leak_is_not_negative_because_of_the_word(engine):
    monitor = load_monitor(SORA_MONITOR)
    text = "Sora leak: the artists posted the model online on Tuesday."
    vader = VaderBackend()
    unmasked = vader.score([text], ["en"])[0]
    assert unmasked is not None and unmasked.label == "negative"  # the word alone makes VADER say negative
    with engine.begin() as conn:
        run = start_run(conn, monitor.name, "demo")
        post = Post(platform="hackernews", native_id="1", text=text, created_at=_now(), url=None)
        save_posts(conn, [post], run_id=run, source="hackernews", demo=True)

    analyze_monitor(engine, monitor, sentiment=VaderBackend, embedder=FlatEmbedder, embedding_name=FlatEmbedder.name)
    with engine.connect() as conn:
        assert conn.execute(select(post_analysis.c.sentiment)).scalar_one() == "neutral"


def test_the_pipeline_stores_all_three_probabilities(engine, multilingual):
    monitor = load_monitor(SORA_MONITOR)
    with engine.begin() as conn:
        run = start_run(conn, monitor.name, "demo")
        posts = [
            Post(
                platform="hackernews",
                native_id="1",
                text="Sora leak — I love these artists, brilliant!",
                created_at=_now(),
                url=None,
            ),
            Post(platform="hackernews", native_id="2", text="Sora leak 🔥🔥", created_at=_now(), url=None),
        ]
        save_posts(conn, posts, run_id=run, source="hackernews", demo=True)
    analyze_monitor(
        engine, monitor, sentiment=lambda: multilingual, embedder=FlatEmbedder, embedding_name=FlatEmbedder.name
    )
    with engine.connect() as conn:
        rows = conn.execute(select(post_analysis).order_by(post_analysis.c.post_id)).all()
    loved, emoji = rows
    assert loved.sentiment == "positive" and loved.sentiment_backend.startswith("multilingual:")
    assert loved.sentiment_negative + loved.sentiment_neutral + loved.sentiment_positive == pytest.approx(1, abs=1e-3)
    assert emoji.sentiment is None and emoji.sentiment_positive is None  # "Sora leak" masked: emoji only


def test_hashed_ngrams_are_stable_across_machines_and_runs():
    rows = char_ngrams(["ab", "", "ab"], bits=10)
    assert list(np.diff(rows.indptr)) == [len(set(rows.indices[: rows.indptr[1]])), 0, rows.indptr[1]]
    assert list(rows.indices[: rows.indptr[1]]) == list(rows.indices[rows.indptr[2] :])
    # The bucket of a fixed n-gram is part of the shipped model's contract: it must never change.
    assert char_ngrams(["x"], bits=16).indices.tolist() == _EXPECTED_X_BUCKETS
    words = word_ngrams(["Nooooo way", "noo way"], bits=12)
    assert words.indices[: words.indptr[1]].tolist() == words.indices[words.indptr[1] :].tolist()
    weights = np.arange(2 * (1 << 12), dtype=np.float32).reshape(-1, 2)
    dense = np.zeros((2, 1 << 12))
    for row in range(2):
        span = slice(words.indptr[row], words.indptr[row + 1])
        dense[row, words.indices[span]] = words.values[span]
    assert np.allclose(words.dot(weights), dense @ weights)


def test_the_shipped_model_is_small_and_safe():
    assert MODEL_PATH.stat().st_size < 4_000_000
    with np.load(MODEL_PATH, allow_pickle=False) as arrays:  # would raise on pickled objects
        blocks = {"embedding_weights", "char_weights", "word_weights", "language_char_weights"}
        assert {"meta", *blocks} <= set(arrays.files)


def test_the_tool_writes_one_line_per_input_line(tmp_path, capsys):
    source = tmp_path / "posts.txt"
    source.write_text("I love it, wonderful!\n\nThis is terrible and I hate it\r\n🔥\n", encoding="utf-8")
    assert analyze_main(["sentiment", str(source), "--backend", "vader"]) == 0
    out = capsys.readouterr().out.split("\n")
    assert out[-1] == "" and len(out) == 5
    labels = [line.split("\t") for line in out[:-1]]
    assert labels[0][0] == "positive" and float(labels[0][1]) > 0
    assert labels[1] == ["unscored", ""]
    assert labels[2][0] == "negative" and float(labels[2][1]) < 0
    assert labels[3] == ["unscored", ""]


def test_the_tool_reads_standard_input_with_the_default_backend(monkeypatch, capsys):
    stdin = io.TextIOWrapper(
        io.BytesIO("C'est génial, merci !\nهذا أسوأ قرار، أنا غاضب جدا ومحبط".encode()), encoding="utf-8"
    )
    monkeypatch.setattr(sys, "stdin", stdin)
    assert sentiment_tool.main(["-"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[0] for line in lines] == ["positive", "negative"]


def test_the_tool_rejects_an_unknown_backend_and_a_missing_file(tmp_path):
    with pytest.raises(sentiment_tool.BadToolArguments, match="--backend"):
        sentiment_tool.main([str(tmp_path), "--backend", "textblob"])
    with pytest.raises(sentiment_tool.BadToolArguments, match="cannot read"):
        sentiment_tool.main([str(tmp_path / "missing.txt"), "--backend", "vader"])


def _now():
    from datetime import UTC, datetime

    return datetime(2024, 11, 26, 12, tzinfo=UTC)


_EXPECTED_X_BUCKETS = [10329, 45784, 59942]  # " x", "x " and " x " with bits=16
