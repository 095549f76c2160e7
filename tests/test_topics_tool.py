"""`python -m analyze topics FILE`: one `topic_id<TAB>label` line per input line, nothing else on stdout."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.conftest import ROOT

CONVERSATIONS = [
    [
        "Artists were never paid for testing the video model",
        "Los artistas nunca cobraron por probar el modelo",
        "Les artistes n'ont jamais été payés pour tester le modèle",
        "Unpaid testers worked for months for free",
    ],
    [
        "The football match ended in a draw after extra time",
        "El partido de fútbol terminó en empate",
        "Le match de football s'est terminé par un match nul",
        "The striker scored twice in the second half",
    ],
    [
        "This pasta recipe needs garlic, olive oil and basil",
        "Esta receta de pasta lleva ajo y albahaca",
        "Cette recette de pâtes demande de l'ail et du basilic",
        "Bake the bread for forty minutes at high heat",
    ],
]


def run_tool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "analyze", "topics", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"},
    )


@pytest.mark.slow
def test_prints_one_topic_line_per_input_line_in_order(tmp_path):
    lines = [f"{CONVERSATIONS[i % 3][(i // 3) % 4]} ({i})" for i in range(60)]
    lines.insert(10, "")  # a blank line still gets its output line
    path = tmp_path / "posts.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    done = run_tool(str(path), "--embeddings", "e5-small")

    assert done.returncode == 0, done.stderr
    output = done.stdout.splitlines()
    assert len(output) == len(lines)
    assert all(re.fullmatch(r"-?\d+\t\S.*", line) for line in output)
    topics = [int(line.split("\t")[0]) for line in output]
    assert topics[10] == -1
    by_conversation = [
        {topics[j] for j in range(len(lines)) if j != 10 and int(lines[j].rsplit("(", 1)[1][:-1]) % 3 == c}
        for c in range(3)
    ]
    named = [s - {-1} for s in by_conversation]
    assert all(len(s) == 1 for s in named) and len(set.union(*named)) == 3  # a topic per conversation, any language
    labels = {line.split("\t")[0]: line.split("\t")[1] for line in output}
    assert all(labels[str(next(iter(s)))] != "Unassigned" for s in named)


def test_a_file_too_small_for_topics_gives_minus_one_per_line(tmp_path):
    path = tmp_path / "few.txt"
    path.write_text("one post\n\nanother post\n", encoding="utf-8")
    done = run_tool(str(path), "--embeddings", "e5-small")
    assert done.returncode == 0 and done.stdout == "-1\tUnassigned\n" * 3


def test_a_bad_embeddings_setting_or_missing_file_is_one_error_line(tmp_path):
    path = tmp_path / "posts.txt"
    path.write_text("a post\n", encoding="utf-8")
    bad = run_tool(str(path), "--embeddings", "word2vec")
    missing = run_tool(str(tmp_path / "nope.txt"))
    for done in (bad, missing):
        assert done.returncode == 2 and done.stdout == "" and "Traceback" not in done.stderr
    assert "--embeddings" in bad.stderr and "nope.txt" in missing.stderr
