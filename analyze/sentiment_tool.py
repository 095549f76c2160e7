"""`python -m analyze sentiment FILE [--backend B]`: the sentiment of each line of a text file.

One text per input line; one output line per input line, in order: ``label<TAB>score``, where the
label is negative, neutral, positive or unscored (an empty line, emoji only, a script the model
does not read; the score is then empty) and the score runs from -1 (negative) to 1 (positive).
Nothing else goes to stdout; logs go to stderr. FILE "-" reads standard input.
"""

from __future__ import annotations

import argparse
import logging
import sys

from analyze.backends import ModelUnavailable
from analyze.language import detect_languages
from analyze.sentiment import make_sentiment_backend, sentiment_backend_name
from analyze.text import model_text
from monitor.errors import MurmurError

log = logging.getLogger("analyze.sentiment")
BATCH = 256


class BadToolArguments(MurmurError):
    """The tool was given a file it cannot read or a backend setting it does not know."""


def parse_args(argv: list[str], prog: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0].split(": ", 1)[1])
    parser.add_argument("file", metavar="FILE", help="UTF-8 text, one post per line; '-' for standard input")
    parser.add_argument(
        "--backend",
        default="multilingual",
        help="'multilingual' (default, offline), 'vader' or 'transformers:<model name or path>'",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None, prog: str = "python -m analyze sentiment") -> int:
    args = parse_args(list(argv or []), prog)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(name)s: %(message)s")
    try:
        sentiment_backend_name(args.backend)
    except ValueError as error:
        raise BadToolArguments(f"--backend: {error}, got {args.backend!r}") from None
    lines = _read_lines(args.file)
    try:
        backend = make_sentiment_backend(args.backend)
    except ModelUnavailable as error:
        raise BadToolArguments(f"--backend: {error}") from None
    out = sys.stdout
    for start in range(0, len(lines), BATCH):
        texts = [model_text(None, line) for line in lines[start : start + BATCH]]
        languages = [g.language for g in detect_languages(texts)]
        for verdict in backend.score(texts, languages):
            out.write(f"{verdict.label}\t{verdict.score:.4f}\n" if verdict else "unscored\t\n")
        out.flush()
    return 0


def _read_lines(path: str) -> list[str]:
    """The file's lines without their line ends (a final newline does not make an extra line)."""
    try:
        if path == "-":
            raw = sys.stdin.buffer.read()
        else:
            with open(path, "rb") as handle:
                raw = handle.read()
    except OSError as error:
        raise BadToolArguments(f"cannot read {path}: {error.strerror}") from None
    text = raw.decode("utf-8", errors="replace")
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()  # the newline ending the last line, or an empty input
    return [line.removesuffix("\r") for line in lines]
