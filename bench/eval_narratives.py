"""`python -m bench.eval_narratives [MODEL …]`: zero-shot accuracy of narrative scoring.

The labelled set is TweetTopic (../shared/data/topics, tweets in English, Spanish, Greek and
Japanese with human topic labels; rows with exactly one topic). Each of the 19 labels is described
in one English sentence, exactly as a user would write a `[[narratives]]` description, and each
tweet, in every language, goes to the label whose description it is most similar to (the same
vectors and cosine as `analyze.narratives`). Accuracy per language and the chance level are printed.
There is no tuning on this data: the descriptions were written from the label names alone.

MODEL is an `[analysis] embeddings` setting (default: e5-small and minilm; use-multilingual too
where this Murmur has it).
"""

from __future__ import annotations

import sys
import time
from collections import Counter

import numpy as np

from analyze.embeddings import make_embedding_backend
from analyze.narratives import narrative_vectors, score
from bench import data
from monitor.config import Narrative

DESCRIPTIONS = {
    "Arts & Culture": "Art, museums, literature, theatre, painting and cultural heritage.",
    "Business & Entrepreneurs": "Companies, startups, markets, entrepreneurship, investing and the economy.",
    "Celebrity & Pop Culture": "Celebrities, famous people, gossip, influencers and pop culture.",
    "Diaries & Daily Life": "Personal everyday life, feelings, what someone did today and daily routines.",
    "Family": "Parents, children, siblings, relatives and family life.",
    "Fashion & Style": "Clothes, fashion, style, beauty, makeup and outfits.",
    "Film, TV & Video": "Movies, television series, actors, streaming and online videos.",
    "Fitness & Health": "Exercise, health, medicine, diet, disease and wellbeing.",
    "Food & Dining": "Food, cooking, recipes, restaurants and eating out.",
    "Gaming": "Video games, gamers, consoles, esports and game releases.",
    "Learning & Educational": "Learning, education, courses, teaching, knowledge and studying.",
    "Music": "Songs, albums, singers, bands, concerts and music releases.",
    "News & Social Concern": "News, politics, government, social issues, protests and public affairs.",
    "Other Hobbies": "Hobbies and pastimes such as collecting, crafts, gardening or pets.",
    "Relationships": "Romantic relationships, dating, love, friendship and breakups.",
    "Science & Technology": "Science, research, technology, computers, software and gadgets.",
    "Sports": "Sports, athletes, teams, matches, football, basketball and competitions.",
    "Travel & Adventure": "Travel, trips, holidays, tourism, destinations and adventure.",
    "Youth & Student Life": "Students, school, university, exams and the life of young people.",
}
LANGUAGES = ("en", "es", "gr", "ja")
DEFAULT_MODELS = ("e5-small", "use-multilingual", "minilm")


def evaluate(setting: str) -> None:
    try:
        backend = make_embedding_backend(setting)
    except ValueError as error:
        print(f"{setting}: not available in this Murmur ({error})")
        return
    labels = list(DESCRIPTIONS)
    vectors = narrative_vectors([Narrative(label, text) for label, text in DESCRIPTIONS.items()], backend)
    print(f"\n{setting} ({backend.name})")
    print(f"{'language':<9} {'tweets':>6} {'accuracy':>8} {'majority':>8} {'seconds':>7}")
    total_right = total = 0
    for language in LANGUAGES:
        texts, gold = data.single_topic_tweets(language)
        started = time.monotonic()
        predicted = score(backend.embed(texts), vectors).argmax(axis=1)
        right = sum(labels[p] == g for p, g in zip(predicted, gold, strict=True))
        majority = Counter(gold).most_common(1)[0][1] / len(gold)
        total_right, total = total_right + right, total + len(gold)
        seconds = time.monotonic() - started
        print(f"{language:<9} {len(gold):>6} {right / len(gold):>8.3f} {majority:>8.3f} {seconds:>7.1f}")
    print(f"{'all':<9} {total:>6} {total_right / total:>8.3f}   (chance 1/19 = {1 / 19:.3f})")


def main(models: list[str]) -> int:
    if not data.available():
        print(f"no labelled data at {data.SHARED_DATA}")
        return 1
    missing = set(label for language in LANGUAGES for label in data.single_topic_tweets(language)[1]) - set(
        DESCRIPTIONS
    )
    if missing:
        print(f"labels without a description: {sorted(missing)}")
        return 1
    np.random.seed(0)
    for setting in models or DEFAULT_MODELS:
        evaluate(setting)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
