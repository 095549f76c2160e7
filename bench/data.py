"""Reading the labelled data in ../shared/data (never copied into the project)."""

from __future__ import annotations

import json
import os
from pathlib import Path


def _find_shared_data() -> Path:
    """The nearest ``shared/data`` above the checkout (a clone in work/main or a worktree in work/wt/x)."""
    for folder in Path(__file__).resolve().parents[1:]:
        if (folder / "shared" / "data").is_dir():
            return folder / "shared" / "data"
    return Path(__file__).resolve().parents[2] / "shared" / "data"


SHARED_DATA = Path(os.environ.get("MURMUR_SHARED_DATA") or _find_shared_data())
XLMT_LANGUAGES = {"arabic": "ar", "english": "en", "french": "fr", "german": "de", "hindi": "hi",
                  "italian": "it", "portuguese": "pt", "spanish": "es"}


def available() -> bool:
    return SHARED_DATA.is_dir()


def sentiment_split(folder: Path, split: str) -> tuple[list[str], list[int]]:
    texts = (folder / f"{split}_text.txt").read_text(encoding="utf-8").splitlines()
    labels = [int(x) for x in (folder / f"{split}_labels.txt").read_text(encoding="utf-8").split()]
    return texts, labels


def xlmt(language: str, split: str = "val") -> tuple[list[str], list[int]]:
    return sentiment_split(SHARED_DATA / "sentiment" / "xlmt" / language, split)


def tweeteval_val() -> tuple[list[str], list[int]]:
    return sentiment_split(SHARED_DATA / "sentiment" / "tweeteval", "val")


def single_topic_tweets(language: str) -> tuple[list[str], list[str]]:
    """Tweets with exactly one human topic label (TweetTopic), for NMI/ARI."""
    texts, labels = [], []
    for line in (SHARED_DATA / "topics" / f"{language}_1000.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if len(row["topics"]) == 1:
            texts.append(row["text"])
            labels.append(row["topics"][0])
    return texts, labels
