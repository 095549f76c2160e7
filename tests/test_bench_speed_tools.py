"""The pieces the speed figures rest on: reading only the vectors asked for, and per-stage timing."""

from datetime import UTC, datetime

import numpy as np

from bench.stages import StageClock
from store.analysis import save_embeddings, vectors_of
from store.collection import save_posts, start_run
from store.post import Post


def test_vectors_of_reads_only_the_posts_asked_for_in_id_order(engine):
    made = datetime(2024, 11, 26, tzinfo=UTC)
    with engine.begin() as conn:
        run = start_run(conn, "m", "live")
        save_posts(conn, [Post("x", str(i), f"post {i}", made) for i in range(6)], run_id=run, source="x")
        ids = [r[0] for r in conn.exec_driver_sql("SELECT id FROM posts ORDER BY id")]
        vectors = np.arange(6 * 4, dtype=np.float32).reshape(6, 4)
        save_embeddings(conn, "model-a", ids[:5], vectors[:5])
        save_embeddings(conn, "model-b", ids[5:], vectors[5:])
    with engine.connect() as conn:
        found, matrix = vectors_of(conn, "model-a", [ids[4], ids[1], ids[5], ids[1]])
        none, empty = vectors_of(conn, "model-a", [])
    assert found.tolist() == [ids[1], ids[4]]  # ids[5] has no model-a vector; duplicates read once
    assert np.array_equal(matrix, vectors[[1, 4]])
    assert len(none) == 0 and empty.shape == (0, 0)


def test_stage_clock_times_each_stage_from_its_first_report_to_its_last():
    clock = StageClock()
    clock.progress("embeddings", 0, 2)
    sum(i * i for i in range(200_000))  # some CPU work inside the stage
    clock.progress("embeddings", 1, 2)
    assert "embeddings" not in clock.stages
    clock.progress("embeddings", 2, 2)
    clock.progress("spikes", 1, 1)
    stage = clock.stages["embeddings"]
    assert stage.wall > 0 and stage.cpu > 0
    assert list(clock.stages) == ["embeddings", "spikes"]
    lines = clock.lines(posts=2)
    assert lines[0].split()[0] == "embeddings" and "s CPU" in lines[0]
