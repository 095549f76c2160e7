"""`python -m bench [NAME …]`: run the benchmarks and print their figures; no name runs them all.

Names: pipeline (demo corpus end to end: seconds and peak memory), sentiment (VADER on labelled
tweets), topics (BERTopic on human-labelled tweets: NMI/ARI), analyze (10,000 multilingual posts
and the demo corpus through the default analysis), eval-sentiment (the per-language validation
table), topics-languages (NMI/ARI and language NMI across four languages beside plain BERTopic),
topics-demo (the demo corpus's topics and their languages), topics-scale (1,000 new posts on
100,000; a refit over 1,000,000), ingest (posts/s beside sqlite-utils and sqlite3), ingest-files
(a 100 MB CSV through the files source).
"""

from __future__ import annotations

import sys

from bench import (
    analyze,
    analyze_topics_scale,
    demo_topics,
    eval_sentiment,
    eval_topics,
    ingest,
    ingest_files,
    pipeline,
    quality,
)

BENCHMARKS = {
    "pipeline": pipeline.run,
    "sentiment": quality.sentiment,
    "topics": quality.topics,
    "analyze": analyze.main,
    "eval-sentiment": lambda: eval_sentiment.main([]),
    "topics-languages": lambda: eval_topics.main([]),
    "topics-demo": demo_topics.main,
    "topics-scale": lambda: analyze_topics_scale.main([]),
    "ingest": lambda: ingest.main([]),
    "ingest-files": lambda: ingest_files.main([]),
}


def main(names: list[str]) -> int:
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    for name in names or list(BENCHMARKS):
        print(f"\n== {name} ==", flush=True)
        BENCHMARKS[name]()
    return 0


sys.exit(main(sys.argv[1:]))
