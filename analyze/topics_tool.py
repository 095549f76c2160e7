"""`python -m analyze topics FILE [--embeddings B]`: topics for a text file, one post per line.

Fits topics the way the pipeline does (language detection, the configured embeddings, language
centring, BERTopic with the same settings) and prints one line per input line, in order:
`topic_id<TAB>label`, with -1 for posts in no topic (blank lines included). Nothing else goes to
stdout: logs and any library chatter go to stderr, so the output can be piped.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from analyze.backends import ModelUnavailable
from analyze.embeddings import embedding_model_name, make_embedding_backend
from analyze.language import detect_languages
from analyze.text import model_text
from analyze.topics import MIN_POSTS, fit_topics
from monitor.cli import setup_logging
from monitor.config import AnalysisSettings
from store.topic_models import OUTLIER

log = logging.getLogger("analyze.topics")
UNASSIGNED = "Unassigned"


def main(argv: list[str], prog: str = "python -m analyze topics") -> int:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Fit topics on a text file (one post per line) and print `topic_id<TAB>label` per line; "
        "-1 means no topic. Exit codes: 0 done, 2 bad file or embeddings setting.",
    )
    parser.add_argument("file", metavar="FILE", help="UTF-8 text, one post per line")
    default = AnalysisSettings().embeddings
    parser.add_argument(
        "--embeddings",
        metavar="B",
        default=default,
        help=f"embedding backend, as in a monitor's [analysis] embeddings (default {default!r})",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more detail on stderr")
    args = parser.parse_args(argv)
    setup_logging(args.verbose)
    try:
        embedding_model_name(args.embeddings)
    except ValueError as error:
        parser.error(f"--embeddings: {error}, got {args.embeddings!r}")
    try:
        lines = Path(args.file).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as error:
        parser.error(f"cannot read {args.file}: {error.strerror or error}")
    with _stdout_to_stderr():
        try:
            results = topics_for_lines(lines, args.embeddings)
        except ModelUnavailable as error:
            parser.error(f"--embeddings: {error}")
    sys.stdout.write("".join(f"{topic}\t{label}\n" for topic, label in results))
    sys.stdout.flush()
    return 0


def topics_for_lines(lines: list[str], embeddings: str) -> list[tuple[int, str]]:
    """(topic, label) per line; blank lines and a corpus too small for topics give -1."""
    texts = [model_text(None, line) for line in lines]
    kept = [i for i, text in enumerate(texts) if text]
    results = [(OUTLIER, UNASSIGNED)] * len(lines)
    if len(kept) < MIN_POSTS:
        log.warning("%d non-blank lines: too few for topics (need %d)", len(kept), MIN_POSTS)
        return results
    documents = [texts[i] for i in kept]
    languages = [g.language for g in detect_languages(documents)]
    log.info("embedding %d lines with %s", len(documents), embeddings)
    vectors = make_embedding_backend(embeddings).embed(documents)
    fit = fit_topics(kept, documents, vectors, languages)
    if fit is None:
        return results
    labels = {t.topic: t.label for t in fit.topics}
    for line, topic, _ in fit.assignments:
        results[line] = (topic, labels.get(topic, UNASSIGNED) if topic != OUTLIER else UNASSIGNED)
    log.info("%d topics", sum(1 for t in fit.topics if t.topic != OUTLIER))
    return results


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """Send everything written to stdout (by Python or native code) to stderr while models run."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
