#!/usr/bin/env python3
"""Generate Murmur's bundled demo corpus: the November 2024 Sora leak, as Hacker News search pages.

The corpus is fictional. The events it talks about are real (artists calling themselves PR-Puppets
put a front end to OpenAI's unreleased Sora video model on Hugging Face on 26 Nov 2024; OpenAI cut
access about three hours later; Sora launched publicly on 9 Dec 2024), but every post, handle,
article URL and item id here is invented. Posts are composed from hand-written phrase banks
(_phrases_*.py, _stories.py) with a fixed random seed, so running this again rewrites the same
bytes. Standard library only.

    python demo/generate.py

writes demo/sora-leak/hackernews/page-0001.json, page-0002.json, ...: full `search_by_date`
responses of the Algolia Hacker News Search API, 200 hits a page, oldest first, which Murmur's
demo loader replays through the real Hacker News parser. It prints statistics and asserts the
properties the demo relies on (see `check`).
"""

from __future__ import annotations

import html
import itertools
import json
import math
import random
import re
import sys
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _phrases_ar  # noqa: E402
import _phrases_en  # noqa: E402
import _phrases_eu  # noqa: E402
import _phrases_more  # noqa: E402
import _social  # noqa: E402
from _stories import STORIES  # noqa: E402

SEED = 20241126
OUT = HERE / "sora-leak" / "hackernews"
HITS_PER_PAGE = 200
QUERY = '("Sora" OR "سورا") AND (leak OR تسريب OR "PR-Puppets" OR "PR Puppets") NOT "Sora Bay"'


def _epoch(month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> int:
    return int(datetime(2024, month, day, hour, minute, second, tzinfo=timezone.utc).timestamp())


START = _epoch(11, 12)
END = _epoch(12, 10, 23, 59, 59)
LEAK = _epoch(11, 26, 11, 40)  # the Space goes up
NOTICED = _epoch(11, 26, 11, 50)  # people start posting about it
SHUTDOWN = LEAK + 3 * 3600  # OpenAI cuts access about three hours later
LEAK_PHASE_END = _epoch(11, 28)
SHIP = _epoch(12, 5, 18)  # OpenAI's "12 days" of announcements begin
PRELAUNCH = _epoch(12, 9)
LAUNCH = _epoch(12, 9, 18)

# Posts (stories + comments) per UTC day.
DAILY = {
    "11-12": 11,
    "11-13": 12,
    "11-14": 14,
    "11-15": 12,
    "11-16": 10,
    "11-17": 11,
    "11-18": 16,
    "11-19": 15,
    "11-20": 17,
    "11-21": 16,
    "11-22": 18,
    "11-23": 13,
    "11-24": 15,
    "11-25": 22,
    "11-26": 385,
    "11-27": 245,
    "11-28": 150,
    "11-29": 96,
    "11-30": 70,
    "12-01": 56,
    "12-02": 54,
    "12-03": 45,
    "12-04": 40,
    "12-05": 44,
    "12-06": 34,
    "12-07": 27,
    "12-08": 31,
    "12-09": 170,
    "12-10": 110,
}

LANGS = ("en", "ar", "fr", "de", "es", "pt", "it", "ja")
LANG_SHARE = {"en": 0.425, "ar": 0.14, "fr": 0.105, "de": 0.105, "es": 0.105, "pt": 0.042, "it": 0.042, "ja": 0.036}
BAY_SHARE = {"en": 0.72, "ar": 0.12, "fr": 0.06, "de": 0.05, "es": 0.05}
PLAIN_SHARE = {"en": 0.55, "ar": 0.10, "fr": 0.08, "de": 0.08, "es": 0.08, "pt": 0.04, "it": 0.04, "ja": 0.03}
NOISE_RATE = {"bay": 0.03, "plain": 0.03}

# Relative activity per UTC hour, by the writers' usual time zones.
DIURNAL = {
    "en": [
        0.60,
        0.50,
        0.40,
        0.30,
        0.25,
        0.25,
        0.30,
        0.40,
        0.50,
        0.60,
        0.70,
        0.80,
        0.90,
        1,
        1,
        1,
        1,
        1,
        1,
        0.95,
        0.90,
        0.85,
        0.80,
        0.70,
    ],
    "ar": [
        0.30,
        0.20,
        0.15,
        0.15,
        0.20,
        0.35,
        0.50,
        0.70,
        0.85,
        0.90,
        0.90,
        0.90,
        0.95,
        1,
        1,
        1,
        1,
        1,
        1,
        0.95,
        0.85,
        0.70,
        0.55,
        0.40,
    ],
    "fr": [
        0.25,
        0.15,
        0.10,
        0.08,
        0.08,
        0.15,
        0.35,
        0.60,
        0.80,
        0.90,
        0.90,
        0.95,
        1,
        0.95,
        0.95,
        0.95,
        0.95,
        1,
        1,
        1,
        0.95,
        0.85,
        0.65,
        0.40,
    ],
    "de": [
        0.20,
        0.12,
        0.08,
        0.06,
        0.08,
        0.18,
        0.40,
        0.65,
        0.85,
        0.90,
        0.90,
        0.95,
        1,
        0.95,
        0.95,
        0.95,
        0.95,
        1,
        1,
        1,
        0.90,
        0.75,
        0.55,
        0.35,
    ],
    "es": [
        0.45,
        0.35,
        0.25,
        0.15,
        0.10,
        0.12,
        0.25,
        0.45,
        0.65,
        0.80,
        0.85,
        0.90,
        0.95,
        0.95,
        0.95,
        0.95,
        1,
        1,
        1,
        1,
        1,
        0.95,
        0.80,
        0.60,
    ],
    "pt": [
        0.70,
        0.55,
        0.40,
        0.25,
        0.15,
        0.10,
        0.10,
        0.15,
        0.30,
        0.50,
        0.70,
        0.85,
        0.90,
        0.95,
        1,
        1,
        1,
        1,
        0.95,
        0.95,
        0.95,
        0.90,
        0.90,
        0.80,
    ],
    "it": [
        0.20,
        0.12,
        0.08,
        0.06,
        0.08,
        0.15,
        0.35,
        0.60,
        0.80,
        0.90,
        0.90,
        0.95,
        1,
        0.90,
        0.90,
        0.95,
        0.95,
        1,
        1,
        1,
        0.95,
        0.80,
        0.55,
        0.35,
    ],
    "ja": [
        0.90,
        1,
        1,
        1,
        1,
        0.95,
        0.90,
        0.80,
        0.80,
        0.85,
        0.90,
        1,
        1,
        0.90,
        0.70,
        0.50,
        0.30,
        0.15,
        0.10,
        0.08,
        0.10,
        0.20,
        0.40,
        0.65,
    ],
}

# Which conversations people have, by phase of the story.
PHASE_WEIGHTS = {
    "pre": {"rumours": 1.0},
    "leak": {
        "leak": 0.24,
        "labour": 0.17,
        "artwash": 0.17,
        "response": 0.12,
        "quality": 0.16,
        "jobs": 0.09,
        "rumours": 0.05,
    },
    "after": {
        "labour": 0.18,
        "artwash": 0.16,
        "leak": 0.10,
        "response": 0.14,
        "quality": 0.13,
        "jobs": 0.19,
        "rumours": 0.10,
    },
    "prelaunch": {
        "rumours": 0.45,
        "labour": 0.10,
        "artwash": 0.10,
        "response": 0.06,
        "quality": 0.10,
        "jobs": 0.14,
        "leak": 0.05,
    },
    "launch": {
        "launch": 0.55,
        "quality": 0.14,
        "jobs": 0.10,
        "labour": 0.08,
        "artwash": 0.06,
        "response": 0.03,
        "leak": 0.04,
    },
}
CONVERSATIONS = ("rumours", "labour", "artwash", "leak", "response", "quality", "jobs", "launch")

N_AUTHORS = {"en": 186, "ar": 58, "fr": 40, "de": 38, "es": 38, "pt": 14, "it": 13, "ja": 13}
EMOJI = ["😬", "🙃", "🤷", "👀", "😂", "🍿", "😅", "🤔", "👏", "🔥"]


def phase(t: int) -> str:
    if t < LEAK:
        return "pre"
    if t < LEAK_PHASE_END:
        return "leak"
    if t < PRELAUNCH:
        return "after"
    if t < LAUNCH:
        return "prelaunch"
    return "launch"


def eligible(marker: str, t: int) -> bool:
    """Whether a sentence with this marker (see _phrases_en.py) fits a post written at `t`."""
    if marker == "<":
        return t < LEAK
    if marker == ">":
        return t >= LEAK
    if marker == "}":
        return SHIP <= t < LAUNCH
    if marker == "]":
        return t >= LAUNCH
    if marker == "~":
        return t >= SHUTDOWN
    return True


# Sentences that talk about the shutdown, the pause or how long it lasted only fit once it happened.
_AFTER_SHUTDOWN = re.compile(
    r"three hours|hours later|trois heures|drei Stunden|tres horas|três horas|tre ore|3時間|ثلاث ساعات|"
    r"shut|revok|kill switch|paus|took the Space down|died|anymore|retiré|coupure|coupe l'accès|"
    r"gekappt|entfernt|abschalten|cortara|retiró|apagar|cortar o acesso|tagliasse|sospes|suspend|"
    r"遮断|一時停止|أزالت|تقطع|تعليق|إيقاف|قطع الوصول",
    re.I,
)


# --- the monitor query, as a plain regex check ---------------------------------------------------
# Mirrors monitor/normalize.py and monitor/query.py: case, width, diacritics and Arabic spelling
# variants are folded; a bare word matches as a prefix, a "phrase" as whole words; an Arabic term
# may carry an attached و ف ب ل ك and the article ال.

_FOLD = (("أ", "ا"), ("إ", "ا"), ("آ", "ا"), ("ٱ", "ا"), ("ة", "ه"), ("ى", "ي"), ("ؤ", "و"), ("ئ", "ي"), ("\u0640", ""))
_CLITICS = "(?:[وفبلك]?ال|[وف]?لل|[وفبلك])?"
RE_SORA = re.compile(rf"(?<!\w)(?:sora|{_CLITICS}سورا)(?!\w)")
RE_LEAK = re.compile(rf"(?<!\w)(?:leak|{_CLITICS}تسريب|pr\W+puppets(?!\w))")
RE_BAY = re.compile(r"(?<!\w)sora\W+bay(?!\w)")


def fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    for variant, base in _FOLD:
        text = text.replace(variant, base)
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " ".join(unicodedata.normalize("NFC", text).split())


def terms(text: str) -> tuple[bool, bool, bool]:
    """(mentions Sora, mentions a leak term, mentions Sora Bay)."""
    key = fold(text)
    return bool(RE_SORA.search(key)), bool(RE_LEAK.search(key)), bool(RE_BAY.search(key))


def monitor_matches(text: str) -> bool:
    sora, leak, bay = terms(text)
    return sora and leak and not bay


# --- phrase banks ----------------------------------------------------------------------------------

# Each language's banks: "bank" maps a conversation to its sentences, every other key is a list of sentences.
LANG_DATA: dict[str, dict[str, Any]] = {
    "en": {
        "bank": _phrases_en.BANK,
        "openers": _phrases_en.OPENERS,
        "closers": _phrases_en.CLOSERS,
        "replies": _phrases_en.REPLY_OPENERS,
        "links": _phrases_en.LINK_LEADS,
        "bay": _phrases_en.NOISE_BAY,
        "plain": _phrases_en.NOISE_PLAIN,
    },
    "ar": _phrases_ar.AR,
    "fr": _phrases_eu.FR,
    "de": _phrases_eu.DE,
    "es": _phrases_eu.ES,
    "pt": _phrases_more.PT,
    "it": _phrases_more.IT,
    "ja": _phrases_more.JA,
}


@dataclass(frozen=True)
class Sentence:
    text: str
    marker: str
    sora: bool
    leak: bool
    bay: bool


def sentence(raw: str) -> Sentence:
    marker = raw[0] if raw[0] in "<>}]" else ""
    text = raw[1:] if marker else raw
    if not marker and _AFTER_SHUTDOWN.search(text):
        marker = "~"
    return Sentence(text, marker, *terms(text.replace("*", "")))


class Deck:
    """Sentences dealt in shuffled rounds, so none comes back before the others have been used."""

    def __init__(self, items: list[Sentence], rng: random.Random) -> None:
        self.items = items
        self.rng = rng
        self.queue: list[Sentence] = []
        self.last: Sentence | None = None

    def draw(self, t: int, avoid: set[str]) -> Sentence | None:
        for _ in range(2):
            for i, item in enumerate(self.queue):
                if eligible(item.marker, t) and item.text not in avoid:
                    self.last = self.queue.pop(i)
                    return self.last
            fresh = [item for item in self.items if item not in self.queue]
            self.rng.shuffle(fresh)
            if len(fresh) > 1 and fresh[0] == self.last:
                fresh[0], fresh[-1] = fresh[-1], fresh[0]
            self.queue.extend(fresh)
        return None


# --- posts -------------------------------------------------------------------------------------------


@dataclass
class Post:
    seq: int
    t: int
    lang: str
    kind: str  # "story" or "comment"
    conv: str  # a conversation, or "bay" / "plain" for noise
    story: Post | None = None  # the thread's story (None for a story)
    parent: Post | None = None
    pull: float = 1.0
    title: str = ""
    url: str | None = None
    story_text: str | None = None
    author: str | None = None
    sents: list[str] = field(default_factory=list)  # this post's own sentences, as written
    src: list[str] = field(default_factory=list)  # the bank sentences it used
    used: list[str] = field(default_factory=list)  # those, plus opener, closer and quoted sentence
    text: str = ""  # plain text, what the monitor sees
    html: str | None = None
    deleted: bool = False
    oid: int = 0
    children: list[Post] = field(default_factory=list)
    platform: str = "hackernews"  # or "mastodon" / "bluesky": see _social.py

    @property
    def noise(self) -> str | None:
        return self.conv if self.conv in ("bay", "plain") else None


def weighted(rng: random.Random, weights: dict) -> str:
    keys = list(weights)
    return rng.choices(keys, [weights[k] for k in keys])[0]


def day_start(key: str) -> int:
    month, day = (int(x) for x in key.split("-"))
    return _epoch(month, day)


def event_factor(t: int) -> float:
    if _epoch(11, 26) <= t < _epoch(11, 27):
        if t < NOTICED:
            return 0.05
        return 0.5 if t < NOTICED + 1800 else 1.0
    if PRELAUNCH <= t < LAUNCH:
        return 0.08
    return 1.0


def sample_time(rng: random.Random, day: str, lang: str) -> int:
    start = day_start(day)
    while True:
        t = start + rng.randrange(86400)
        if rng.random() < DIURNAL[lang][(t - start) // 3600] * event_factor(t):
            return t


def build_stories(rng: random.Random) -> list[Post]:
    stories = []
    for i, (date, clock, lang, conv, pull, title, url, text) in enumerate(STORIES):
        month, day = (int(x) for x in date.split("-"))
        hour, minute = (int(x) for x in clock.split(":"))
        t = _epoch(month, day, hour, minute, rng.randrange(60))
        stories.append(
            Post(seq=i, t=t, lang=lang, kind="story", conv=conv, pull=pull, title=title, url=url, story_text=text)
        )
    return sorted(stories, key=lambda p: p.t)


def story_weight(story: Post, t: int, lang: str) -> float:
    age = (t - story.t) / 3600
    if age < 1 / 60:
        return 0.0
    weight = story.pull * (math.exp(-age / 16) + 0.03 * math.exp(-age / 120))
    if story.lang == lang:
        return weight * 20
    return weight if story.lang == "en" else weight * 0.02


def build_threads(rng: random.Random, stories: list[Post]) -> list[Post]:
    """Comments: when, in which language, under which story and parent, about what."""
    per_day = Counter(datetime.fromtimestamp(s.t, timezone.utc).strftime("%m-%d") for s in stories)
    planned: list[tuple[int, str, str]] = []  # (time, language, noise kind or "")
    for day, target in DAILY.items():
        jitter = rng.uniform(0.94, 1.06) if target < 30 else rng.uniform(0.98, 1.02)
        for _ in range(max(0, round(target * jitter) - per_day[day])):
            roll = rng.random()
            noise = "bay" if roll < NOISE_RATE["bay"] else "plain" if roll < sum(NOISE_RATE.values()) else ""
            share = BAY_SHARE if noise == "bay" else PLAIN_SHARE if noise == "plain" else LANG_SHARE
            lang = weighted(rng, share)
            for _ in range(200):
                t = sample_time(rng, day, lang)
                if any(s.t < t - 60 and s.noise is None for s in stories):
                    break
            planned.append((t, lang, noise))
    planned.sort()

    comments: list[Post] = []
    thread: dict[int, list[Post]] = defaultdict(list)
    for seq, (t, lang, noise) in enumerate(planned, start=len(stories)):
        if noise == "plain" and rng.random() < 0.35:
            pool = [s for s in stories if s.noise is None]  # plain Sora talk inside a leak thread
        else:
            pool = [s for s in stories if s.noise == (noise or None)]
        pool = [s for s in pool if s.t < t - 60]
        if not pool:  # no noise thread yet: an ordinary comment
            noise = ""
            pool = [s for s in stories if s.noise is None and s.t < t - 60]
        weights = [story_weight(s, t, lang) for s in pool]
        if sum(weights) <= 0:
            weights = [1.0] * len(pool)
        story = rng.choices(pool, weights)[0]

        earlier = [c for c in thread[story.seq] if c.t < t - 30]
        parent = story
        if earlier and rng.random() > 0.42:
            cw = [math.exp(-(t - c.t) / 18000) * (6 if c.lang == lang else 0.4) for c in earlier]
            parent = rng.choices(earlier, cw)[0]

        if noise:
            conv = noise
        else:
            allowed = PHASE_WEIGHTS[phase(t)]
            if t < SHUTDOWN:  # no statement from OpenAI yet
                allowed = {k: v for k, v in allowed.items() if k != "response"}
            if parent is not story and parent.conv in allowed and rng.random() < 0.55:
                conv = parent.conv
            elif story.conv in allowed and rng.random() < 0.4:
                conv = story.conv
            else:
                conv = weighted(rng, allowed)
        post = Post(seq=seq, t=t, lang=lang, kind="comment", conv=conv, story=story, parent=parent)
        thread[story.seq].append(post)
        parent.children.append(post)
        comments.append(post)
    return comments


# --- authors -----------------------------------------------------------------------------------------

HANDLE_PARTS = {
    "en": {
        "names": [
            "mira",
            "jonas",
            "priya",
            "tomas",
            "eli",
            "nadia",
            "sam",
            "ivy",
            "leo",
            "rafa",
            "kit",
            "noor",
            "dev",
            "ana",
            "theo",
            "ben",
            "zoe",
            "lena",
            "hank",
            "ruth",
            "oskar",
            "june",
            "ravi",
            "wes",
            "tova",
        ],
        "words": [
            "quiet",
            "lazy",
            "rusty",
            "tiny",
            "brave",
            "lucid",
            "stale",
            "silent",
            "amber",
            "cobalt",
            "hollow",
            "misty",
            "static",
            "sleepy",
            "crisp",
            "feral",
            "velvet",
            "polar",
            "dusty",
            "mellow",
            "noisy",
            "bitter",
            "gentle",
            "grumpy",
            "rapid",
            "cosmic",
            "pale",
            "modest",
            "frugal",
            "idle",
            "salty",
            "lunar",
        ],
        "things": [
            "compiler",
            "kernel",
            "pixel",
            "lambda",
            "otter",
            "heron",
            "falcon",
            "bytes",
            "socket",
            "vector",
            "sprocket",
            "lantern",
            "harbor",
            "badger",
            "walrus",
            "comet",
            "gopher",
            "cursor",
            "buffer",
            "parser",
            "thread",
            "shader",
            "daemon",
            "cactus",
            "pebble",
            "ferret",
            "mantis",
            "quokka",
            "beacon",
            "fog",
            "moss",
            "fern",
            "tide",
            "dune",
            "reef",
            "lark",
            "wren",
            "pine",
            "gale",
        ],
    },
    "ar": {
        "names": [
            "omar",
            "layla",
            "karim",
            "nour",
            "yasmin",
            "tarek",
            "hadi",
            "sara",
            "khaled",
            "rania",
            "samir",
            "huda",
            "fadi",
            "amal",
            "ziad",
            "maha",
            "bilal",
            "dina",
            "yousef",
            "lina",
            "hamza",
            "salma",
            "anas",
            "reem",
            "majed",
            "faris",
            "lubna",
        ],
        "words": ["qamar", "bahr", "nakhla", "sahra", "jabal", "wadi", "rimal", "najm"],
        "things": ["dev", "codes", "builds", "ops", "pixels", "lab", "byte"],
    },
    "fr": {
        "names": [
            "claire",
            "julien",
            "amelie",
            "mathis",
            "lucie",
            "hugo",
            "manon",
            "camille",
            "bastien",
            "chloe",
            "antoine",
            "elodie",
            "yann",
            "gael",
        ],
        "words": ["lapin", "renard", "castor", "mistral", "galette", "caillou", "hibou", "corbeau", "fromage", "crepe"],
        "things": ["bleu", "gris", "rouge", "sage", "vif", "doux"],
    },
    "de": {
        "names": [
            "jan",
            "lukas",
            "anna",
            "felix",
            "jonas",
            "lea",
            "tobias",
            "miriam",
            "katrin",
            "stefan",
            "hannes",
            "ines",
            "jannik",
        ],
        "words": ["nebel", "kaese", "brot", "fuchs", "dachs", "wolke", "eisen", "kiesel", "funke", "spatz", "igel"],
        "things": ["kerze", "topf", "bude", "kopf", "werk", "zeug"],
    },
    "es": {
        "names": [
            "lucia",
            "pablo",
            "marta",
            "diego",
            "sofia",
            "javier",
            "elena",
            "carlos",
            "nerea",
            "alvaro",
            "mateo",
            "irene",
        ],
        "words": ["gato", "lobo", "niebla", "cafe", "tortuga", "rayo", "luna", "pulpo", "bicho", "churro", "mango"],
        "things": ["loco", "azul", "verde", "rojo", "sabio"],
    },
    "pt": {
        "names": ["joao", "ana", "pedro", "bia", "rafael", "camila", "thiago", "leticia", "caio"],
        "words": ["caju", "sabia", "tucano", "brisa", "farol", "capivara"],
        "things": ["dev", "azul", "lab"],
    },
    "it": {
        "names": ["giulia", "marco", "luca", "chiara", "matteo", "davide", "elisa", "paolo"],
        "words": ["gatto", "nebbia", "lupo", "vento", "riccio", "fico", "brodo"],
        "things": ["dev", "blu", "lab"],
    },
    "ja": {
        "names": ["kenta", "yuki", "haruto", "sakura", "ren", "aoi", "daiki", "mei", "sho", "hina"],
        "words": ["hoshi", "tanuki", "kitsune", "neko", "kumo", "mochi", "tsuki", "yama", "umi"],
        "things": ["dev", "lab", "works"],
    },
}


def make_handle(rng: random.Random, lang: str) -> str:
    parts = HANDLE_PARTS[lang]
    names, words, things = parts["names"], parts["words"], parts["things"]
    pattern = rng.random()
    if pattern < 0.25:
        return f"{rng.choice(names)}_{rng.choice('abcdefghijklmnoprstvwz')}"
    if pattern < 0.40:
        return f"{rng.choice(names)}{rng.randrange(2, 99)}"
    if pattern < 0.75:
        return f"{rng.choice(words)}{rng.choice(things)}"
    if pattern < 0.85:
        return f"{rng.choice(names)}{rng.choice(['_', ''])}{rng.choice(things)}"
    if pattern < 0.97:
        return f"{rng.choice(words)}{rng.choice(['_', '-', ''])}{rng.randrange(1, 999)}"
    return f"throwaway{rng.randrange(1000, 9999)}"


@dataclass
class Author:
    handle: str
    lang: str
    style: dict


def make_authors(rng: random.Random) -> dict[str, list[Author]]:
    seen: set[str] = set()
    authors: dict[str, list[Author]] = {}
    for lang in LANGS:
        authors[lang] = []
        while len(authors[lang]) < N_AUTHORS[lang]:
            handle = make_handle(rng, lang)
            if handle in seen or "sora" in handle or "leak" in handle or len(handle) > 15:
                continue
            seen.add(handle)
            authors[lang].append(Author(handle, lang, author_style(rng, lang)))
    return authors


def author_style(rng: random.Random, lang: str) -> dict:
    style: dict[str, bool | float | str] = {
        "lower": lang == "en" and rng.random() < 0.06,
        "typos": 0.22 if rng.random() < 0.15 else 0.03,
        "emoji": 0.3 if rng.random() < 0.08 else 0.01,
    }
    if lang == "ar":
        careful = rng.random() < 0.22  # writes harakat, keeps every hamza
        style.update(
            harakat=careful,
            hamza="keep" if careful else rng.choices(["keep", "initial", "all"], [0.45, 0.25, 0.30])[0],
            ta=not careful and rng.random() < 0.15,
            ya=not careful and rng.random() < 0.15,
            sora=rng.choices(["arabic", "latin", "both"], [0.52, 0.38, 0.10])[0],
            openai=rng.choices(["OpenAI", "أوبن إيه آي", "اوبن ايه اي"], [0.6, 0.28, 0.12])[0],
            hf=rng.random() < 0.2,
        )
    return style


def assign_authors(rng: random.Random, posts: list[Post], authors: dict[str, list[Author]]) -> dict[str, Author]:
    """Each author posts at least once; a heavy tail posts a lot (the regulars of the thread)."""
    by_lang = Counter(p.lang for p in posts)
    queues: dict[str, list[Author]] = {}
    for lang in LANGS:
        pool = authors[lang][: by_lang[lang]]
        cap = max(10.0, 100.0 * len(pool) / N_AUTHORS["en"])
        weights = [min(rng.paretovariate(0.75), cap) for _ in pool]
        slots = list(pool) + rng.choices(pool, weights, k=by_lang[lang] - len(pool))
        rng.shuffle(slots)
        queues[lang] = slots
    index = {a.handle: a for lang in LANGS for a in authors[lang]}
    for post in sorted(posts, key=lambda p: (p.t, p.seq)):
        queue = queues[post.lang]
        avoid = post.parent.author if post.parent is not None else None
        pick = next((i for i, a in enumerate(queue) if a.handle != avoid), 0)
        post.author = queue.pop(pick).handle
    return index


# --- writing a post ---------------------------------------------------------------------------------

HARAKAT = {
    "التسريب": "التَّسْرِيب",
    "تسريب": "تَسْرِيب",
    "الفنانين": "الفَنَّانِين",
    "الفنانون": "الفَنَّانُون",
    "الشركة": "الشَّرِكَة",
    "العمل": "العَمَل",
    "النموذج": "النَّمُوذَج",
    "نموذج": "نَمُوذَج",
    "الوصول": "الوُصُول",
    "البيان": "البَيَان",
    "أجر": "أَجْر",
    "الذكاء": "الذَّكَاء",
    "سورا": "سُورَا",
    "مقاطع": "مَقَاطِع",
    "الرسالة": "الرِّسَالَة",
    "الجودة": "الجَوْدَة",
    "مجانًا": "مَجَّانًا",
}
_AR_WORD = re.compile(r"(?<!\w)(" + "|".join(sorted(HARAKAT, key=len, reverse=True)) + r")(?!\w)")
_FINAL_YA = re.compile(r"(?<!\w)(في|الذي|التي|يعني|حتي|علي)(?!\w)")


def arabic_orthography(text: str, style: dict, rng: random.Random) -> str:
    """One writer's spelling habits; the monitor folds all of them back together."""
    if style["harakat"]:
        text = _AR_WORD.sub(lambda m: HARAKAT[m[1]] if rng.random() < 0.6 else m[1], text)
    if style["hamza"] == "all":  # a writer who drops the hamza drops its vowel sign too
        text = re.sub("[أإآ][\u064b-\u0652]?", "ا", text)
    elif style["hamza"] == "initial":
        text = re.sub("(?<!\\w)[أإ][\u064b-\u0652]?", "ا", text)
    if style["ta"]:
        text = re.sub(r"ة(?!\w)", "ه", text)
    if style["ya"]:
        text = _FINAL_YA.sub(lambda m: m[1][:-1] + "ى", text)
    if style["sora"] == "latin":
        text = re.sub(r"(?<!\w)سورا(?!\w)", "Sora", text)
    openai = style["openai"]
    if style["hamza"] == "all":
        openai = openai.replace("أ", "ا").replace("إ", "ا").replace("آ", "ا")
    text = text.replace("OpenAI", openai)
    if style["hf"]:
        text = text.replace("Hugging Face", "هاغينغ فيس")
    return text


_PROTECT = re.compile(r"sora|leak|puppet|openai|hugging|http|overlord", re.I)
_WORD = re.compile(r"[^\W\d_]{6,}")


def typo(text: str, rng: random.Random) -> str:
    words = [m for m in _WORD.finditer(text) if not _PROTECT.search(m[0])]
    if not words:
        return text
    m = rng.choice(words)
    w, i = m[0], rng.randrange(1, len(m[0]) - 2)
    roll = rng.random()
    if roll < 0.5:
        w = w[:i] + w[i + 1] + w[i] + w[i + 2 :]
    elif roll < 0.8:
        w = w[:i] + w[i + 1 :]
    else:
        w = w[:i] + w[i] + w[i:]
    return text[: m.start()] + w + text[m.end() :]


def escape(text: str) -> str:
    """HN's escaping: &amp; &lt; &gt; &quot; &#x27; and &#x2F; for every slash."""
    return html.escape(text, quote=True).replace("/", "&#x2F;")


_MARKUP = re.compile(r"\[\[(.+?)\]\]|\*(.+?)\*")


def render(paragraph: str) -> str:
    out, pos = [], 0
    for m in _MARKUP.finditer(paragraph):
        out.append(escape(paragraph[pos : m.start()]))
        if m[1]:
            url = escape(m[1])
            out.append(f'<a href="{url}" rel="nofollow">{url}</a>')
        else:
            out.append(f"<i>{escape(m[2])}</i>")
        pos = m.end()
    out.append(escape(paragraph[pos:]))
    return "".join(out)


def plain(paragraph: str) -> str:
    return _MARKUP.sub(lambda m: m[1] or m[2], paragraph)


# Ways of saying the same thing, so a bank sentence does not come back word for word every time.
DISCOURSE = {
    "en": [
        "Honestly, ",
        "IMO ",
        "FWIW, ",
        "To be fair, ",
        "Tbh ",
        "Frankly, ",
        "Personally, ",
        "As far as I can see, ",
    ],
    "fr": ["Franchement, ", "Perso, ", "À mon avis, ", "Honnêtement, ", "Bon, "],
    "de": ["Ehrlich gesagt: ", "Ganz ehrlich: ", "Meiner Meinung nach: ", "Mal ehrlich: "],
    "es": ["Sinceramente, ", "La verdad, ", "En mi opinión, ", "Honestamente, "],
    "pt": ["Sinceramente, ", "Na boa, ", "Pra mim, "],
    "it": ["Sinceramente, ", "Secondo me, ", "Onestamente, "],
    "ar": ["برأيي، ", "بصراحة، ", "في الحقيقة، ", "في تقديري، "],
    "ja": ["正直、", "個人的には、", "結局、"],
}
_KEEP_CASE = {
    "Sora",
    "Sora's",
    "Kling",
    "Runway",
    "Veo",
    "Hollywood",
    "Meta",
    "Google",
    "Gemini",
    "Hailuo",
    "Plus",
    "Pro",
    "Turbo",
    "European",
    "February",
    "December",
    "Gradio",
    "Reddit",
    "Hugging",
    "Watermark",
    "Art-washing",
    "Art-Washing",
    "Europa",
    "España",
    "Italia",
}
_OPENING = re.compile(r"[^\W\d_][\w'’-]*")


def add_discourse(text: str, lang: str, rng: random.Random) -> str:
    """`text` with a hedge in front ("Honestly, ...") where that reads naturally, else unchanged."""
    first = _OPENING.match(text)
    if first is None or text.rstrip().endswith(("?", "？", "؟")):
        return text
    word = first[0]
    marker = rng.choice(DISCOURSE[lang])
    if word.casefold() == marker.split()[0].strip(",:、،").casefold() or word in {
        "Honestly",
        "Honest",
        "Hot",
        "Frankly",
        "Personally",
        "IMO",
        "FWIW",
        "Tbh",
        "Franchement",
        "Sinceramente",
        "Secondo",
        "Bon",
        "Perso",
        "Took",
        "Played",
        "Signed",
        "Document",
        "Say",
        "Notice",
        "Can't",
        "Fun",
        "Funny",
        "Someone",
        "Somebody",
        "Even",
        "Exactly",
    }:
        return text
    if lang in ("ar", "ja", "de"):
        return marker + text
    if word == "I" or word.startswith(("I'", "I’")):  # "IMO I ran..." reads wrong
        return text
    keep = word in _KEEP_CASE or any(c.isupper() for c in word[1:])
    return marker + (text if keep else text[0].lower() + text[1:])


_EN_LEAK_NP = re.compile(
    r"\b([Tt])he Sora leak\b(?!\s+(?:Space|clips|outputs|front|coverage|samples|footage|videos|rumours|thread))"
)


def vary_phrasing(text: str, lang: str, t: int, rng: random.Random) -> str:
    """Refer to the leak the way different people do ("the Sora leak", "yesterday's Sora leak")."""
    if t < LEAK:
        return text
    if lang == "en":
        options = {
            "he Sora leak": 60,
            "he leak of Sora": 9,
            "his Sora leak": 7,
            "he whole Sora leak": 7,
            "he PR-Puppets leak of Sora": 5,
        }
        day = datetime.fromtimestamp(t, timezone.utc).strftime("%m-%d")
        dated = {"11-26": "oday's Sora leak", "11-27": "uesday's Sora leak", "11-28": "uesday's Sora leak"}
        if day in dated:
            options[dated[day]] = 10
        elif "12-02" <= day <= "12-08":
            options["ast week's Sora leak"] = 8

        def pick(m: re.Match[str]) -> str:
            tail = weighted(rng, options)
            head = {"h": m[1], "o": "T" if m[1] == "T" else "t", "u": "T", "a": "L" if m[1] == "T" else "l"}[tail[0]]
            return head + tail

        return _EN_LEAK_NP.sub(pick, text)
    if lang == "fr" and rng.random() < 0.2:
        return re.sub(r"\b([Ll])e leak de Sora\b", lambda m: ("C" if m[1] == "L" else "c") + "e leak de Sora", text)
    if lang == "es" and rng.random() < 0.2:
        return re.sub(r"\b([Ee])l leak de Sora\b", lambda m: m[1] + "ste leak de Sora", text)
    if lang == "de" and rng.random() < 0.1:
        return re.sub(
            r"\b([Dd])(er|em|en) Sora-Leak\b",
            lambda m: m[1] + {"er": "ieser", "em": "iesem", "en": "iesen"}[m[2]] + " Sora-Leak",
            text,
        )
    return text


class Writer:
    def __init__(self, rng: random.Random, stories: list[Post]) -> None:
        self.rng = rng
        self.decks: dict[tuple[str, str], Deck] = {}
        self.anchors: dict[tuple[str, str], Deck] = {}
        self.small: dict[tuple[str, str], Deck] = {}
        for lang, data in LANG_DATA.items():
            for conv in CONVERSATIONS:
                items = [sentence(s) for s in data["bank"][conv]]
                self.decks[lang, conv] = Deck(items, rng)
                self.anchors[lang, conv] = Deck([s for s in items if s.sora and s.leak and not s.bay], rng)
            for noise in ("bay", "plain"):
                items = [sentence(s) for s in data[noise]]
                self.decks[lang, noise] = Deck(items, rng)
                good = [s for s in items if noise_ok(noise, lang, s.sora, s.leak, s.bay)]
                self.anchors[lang, noise] = Deck(good, rng)
            for extra in ("openers", "closers", "replies", "links"):
                self.small[lang, extra] = Deck([sentence(s) for s in data[extra]], rng)
        self.urls: dict[str, list[tuple[int, str, str]]] = defaultdict(list)  # articles, by conversation
        for s in stories:
            if s.url and s.noise is None:
                self.urls[s.conv].append((s.t, s.lang, s.url))
        self.seen: set[str] = set()

    def write(self, post: Post, author: Author) -> None:
        for _ in range(60):
            if self._compose(post, author):
                return
        raise RuntimeError(f"could not write a unique post #{post.seq}")

    def _compose(self, post: Post, author: Author) -> bool:
        rng, lang, t = self.rng, post.lang, post.t
        noise = post.noise
        reply = post.parent is not None and post.parent.kind == "comment"
        sizes = [1, 2, 3] if noise else [1, 2, 3, 4, 5]
        n = rng.choices(sizes, [0.45, 0.40, 0.15] if noise else [0.27, 0.36, 0.23, 0.11, 0.03])[0]
        if reply and n > 1 and rng.random() < 0.3:
            n -= 1
        deck = self.decks[lang, post.conv]
        body: list[Sentence] = []
        for _ in range(n):
            s = deck.draw(t, {b.text for b in body})
            if s is not None:
                body.append(s)
        if not self._ok(post, body):
            anchor = self.anchors[lang, post.conv].draw(t, {b.text for b in body})
            if anchor is None:
                raise RuntimeError(f"no anchor sentence for {lang}/{post.conv} at {t}")
            if body:
                body[rng.randrange(len(body))] = anchor
            else:
                body = [anchor]
            if not self._ok(post, body):
                return False

        lead: Sentence | None = None
        if reply and rng.random() < 0.4:
            lead = self.small[lang, "replies"].draw(t, set())
        elif rng.random() < 0.16:
            lead = self.small[lang, "openers"].draw(t, set())
        closer = self.small[lang, "closers"].draw(t, set()) if rng.random() < 0.07 else None

        # Each writer's habits, on the post's own sentences.
        texts = [vary_phrasing(s.text, lang, t, rng) for s in body]
        if not noise and rng.random() < (0.3 if lang == "en" else 0.2):
            i = rng.randrange(len(texts))
            texts[i] = add_discourse(texts[i], lang, rng)
        extras = [x.text for x in (lead, closer) if x is not None]
        if lang == "ar":
            texts = [arabic_orthography(x, author.style, rng) for x in texts]
            if author.style["sora"] == "both":
                for i, x in enumerate(texts):
                    if re.search(r"(?<!\w)سورا(?!\w)", x):
                        texts[i] = re.sub(r"(?<!\w)سورا(?!\w)", "سورا (Sora)", x, count=1)
                        break
            extras = [arabic_orthography(x, author.style, rng) for x in extras]
        if lang not in ("ar", "ja") and rng.random() < author.style["typos"]:
            i = rng.randrange(len(texts))
            texts[i] = typo(texts[i], rng)
        if author.style["lower"]:
            texts = [x.lower() for x in texts]
            extras = [x.lower() for x in extras]
        if rng.random() < author.style["emoji"]:
            texts[-1] = texts[-1] + " " + rng.choice(EMOJI)
        lead_text = extras[0] if lead is not None else None
        closer_text = extras[-1] if closer is not None else None

        # Paragraphs: an optional quote of the parent, the body (split when long), a link, a closer.
        joiner = "" if lang == "ja" else " "
        paragraphs: list[str] = []
        quote_src = None
        parent = post.parent if reply else None  # the comment this one answers
        if parent and parent.lang == lang and parent.sents and parent.noise == noise and rng.random() < 0.22:
            i = rng.randrange(len(parent.sents))
            quoted, quote_src = parent.sents[i], parent.src[i]
            cut = re.split(r"(?<=[,;:،、])\s*", quoted, maxsplit=1)
            if len(cut) == 2 and len(cut[0]) >= 25 and rng.random() < 0.5:
                quoted = cut[0].rstrip(",;:،、") + ("..." if lang != "ja" else "…")
            paragraphs.append("> " + quoted)
        first = ([lead_text] if lead_text else []) + texts
        split = rng.randrange(2, len(first)) if len(first) >= 3 and rng.random() < 0.55 else len(first)
        paragraphs.append(joiner.join(first[:split]))
        if split < len(first):
            paragraphs.append(joiner.join(first[split:]))
        urls = [url for when, where, url in self.urls[post.conv] if when < t and where in (lang, "en")]
        linked = not noise and urls and rng.random() < 0.035
        if linked:
            lead_in = self.small[lang, "links"].draw(t, set())
            assert lead_in is not None  # the links deck has no time markers, so it always has a sentence
            paragraphs.append(f"{lead_in.text} [[{rng.choice(urls)}]]")
        if closer_text:
            if linked or rng.random() < 0.4:
                paragraphs.append(closer_text)
            else:
                paragraphs[-1] += joiner + closer_text

        text = "\n\n".join(plain(p) for p in paragraphs)
        if text in self.seen or not self._ok_text(post, text):
            return False
        self.seen.add(text)
        post.text = text
        post.html = "<p>".join(render(p) for p in paragraphs)
        post.sents = texts
        post.src = [s.text for s in body]
        post.used = post.src + [x.text for x in (lead, closer) if x is not None]
        post.used += [quote_src] if quote_src else []
        return True

    def _ok(self, post: Post, body: list[Sentence]) -> bool:
        if not body:
            return False
        sora = any(s.sora for s in body)
        leak = any(s.leak for s in body)
        bay = any(s.bay for s in body)
        if post.noise:
            return noise_ok(post.noise, post.lang, sora, leak, bay)
        return sora and leak and not bay

    def _ok_text(self, post: Post, text: str) -> bool:
        sora, leak, bay = terms(text)
        if post.noise:
            return noise_ok(post.noise, post.lang, sora, leak, bay)
        return sora and leak and not bay


def noise_ok(noise: str, lang: str, sora: bool, leak: bool, bay: bool) -> bool:
    """Sora Bay posts name the place (and, in English and Arabic, a leak); plain posts name Sora
    and no leak term at all."""
    if noise == "bay":
        return bay and (leak or lang not in ("en", "ar"))
    return sora and not leak and not bay


def write_story(post: Post) -> None:
    post.text = post.title + ("\n\n" + post.story_text if post.story_text else "")
    if post.story_text:
        post.html = "<p>".join(escape(p) for p in post.story_text.split("\n\n"))
    post.src = post.used = []


# --- output -----------------------------------------------------------------------------------------


def iso(t: int) -> str:
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def assign_ids(rng: random.Random, posts: list[Post]) -> None:
    """Item ids grow with time, about 9,300 a day, as HN's did in late 2024."""
    previous = 0
    for post in sorted(posts, key=lambda p: (p.t, p.seq)):
        target = 42_118_000 + int((post.t - START) * 9300 / 86400) + rng.randrange(40)
        post.oid = max(previous + rng.randint(1, 25), target)
        previous = post.oid


def highlight(value: str) -> dict:
    return {"matchLevel": "none", "matchedWords": [], "value": value}


def to_hit(post: Post, rng: random.Random) -> dict:
    updated = iso(post.t + rng.randrange(600, 3 * 86400))
    assert post.author is not None  # assign_authors gives every post one
    hit: dict[str, Any]
    if post.kind == "story":
        visible = count_comments(post)
        tags = ["story", f"author_{post.author}", f"story_{post.oid}"]
        if post.title.startswith("Ask HN"):
            tags.append("ask_hn")
        hit = {
            "_tags": tags,
            "author": post.author,
            "children": sorted(c.oid for c in post.children if c.platform == "hackernews"),
            "created_at": iso(post.t),
            "created_at_i": post.t,
            "num_comments": visible,
            "objectID": str(post.oid),
            "points": max(1, int(12 * post.pull**1.7 * rng.lognormvariate(0, 0.35)) + visible // 4),
            "story_id": post.oid,
            "title": post.title,
            "updated_at": updated,
        }
        if post.url:
            hit["url"] = post.url
        if post.story_text:
            hit["story_text"] = post.html
        if rng.random() < 0.25:
            hit["_highlightResult"] = {"author": highlight(post.author), "title": highlight(post.title)}
            if post.url:
                hit["_highlightResult"]["url"] = highlight(post.url)
            if post.story_text:
                assert post.html is not None  # write_story sets it from the story_text
                hit["_highlightResult"]["story_text"] = highlight(post.html)
        return hit
    story, parent = post.story, post.parent
    assert story is not None and parent is not None  # every comment has both
    hit = {
        "_tags": ["comment", f"author_{post.author}", f"story_{story.oid}"],
        "author": post.author,
        "comment_text": post.html,
        "created_at": iso(post.t),
        "created_at_i": post.t,
        "objectID": str(post.oid),
        "parent_id": parent.oid,
        "story_id": story.oid,
        "story_title": story.title,
        "updated_at": updated,
    }
    if story.url:
        hit["story_url"] = story.url
    if post.deleted:
        del hit["author"]
        hit["_tags"] = ["comment", f"story_{story.oid}"]
        hit["comment_text"] = None
    elif rng.random() < 0.25:
        assert post.html is not None  # Writer.write composed it
        hit["_highlightResult"] = {
            "author": highlight(post.author),
            "comment_text": highlight(post.html),
            "story_title": highlight(story.title),
        }
        if story.url:
            hit["_highlightResult"]["story_url"] = highlight(story.url)
    return hit


def count_comments(story: Post) -> int:
    stack, n = [c for c in story.children if c.platform == "hackernews"], 0
    while stack:
        c = stack.pop()
        n += not c.deleted
        stack.extend(c.children)
    return n


def write_pages(rng: random.Random, posts: list[Post]) -> list[Path]:
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("page-*.json"):
        old.unlink()
    hits = [to_hit(p, rng) for p in sorted(posts, key=lambda p: (p.t, p.oid)) if p.platform == "hackernews"]
    pages = math.ceil(len(hits) / HITS_PER_PAGE)
    paths = []
    for page in range(pages):
        processing = rng.randint(1, 9)
        envelope = {
            "exhaustive": {"nbHits": True, "typo": True},
            "exhaustiveNbHits": True,
            "exhaustiveTypo": True,
            "hits": hits[page * HITS_PER_PAGE : (page + 1) * HITS_PER_PAGE],
            "hitsPerPage": HITS_PER_PAGE,
            "nbHits": len(hits),
            "nbPages": pages,
            "page": page,
            "params": f"query=sora&tags=%28story%2Ccomment%29&hitsPerPage={HITS_PER_PAGE}&page={page}",
            "processingTimeMS": processing,
            "query": "sora",
            "serverTimeMS": processing + rng.randint(1, 4),
        }
        path = OUT / f"page-{page + 1:04d}.json"
        path.write_text(json.dumps(envelope, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


# --- statistics and checks -----------------------------------------------------------------------------


def bar(n: int, scale: float) -> str:
    return "#" * max(1 if n else 0, round(n * scale))


def report_and_check(posts: list[Post], paths: list[Path]) -> None:
    visible = [p for p in posts if not p.deleted]
    total = len(visible)
    stories = [p for p in visible if p.kind == "story"]
    print(
        f"hits: {len(posts)} ({len(stories)} stories, {len(posts) - len(stories)} comments, "
        f"{sum(p.deleted for p in posts)} deleted) in {len(paths)} pages, "
        f"{sum(p.stat().st_size for p in paths) / 1e6:.2f} MB"
    )

    print("\nper language:")
    langs = Counter(p.lang for p in visible)
    for lang, n in langs.most_common():
        print(f"  {lang}  {n:5d}  {100 * n / total:5.1f}%")

    print("\nper day (UTC):")
    days = Counter(datetime.fromtimestamp(p.t, timezone.utc).strftime("%m-%d") for p in visible)
    for day in sorted(days):
        print(f"  {day}  {days[day]:4d}  {100 * days[day] / total:5.1f}%  {bar(days[day], 0.15)}")

    print("\nper conversation (noise: bay = 'Sora Bay' + leak, plain = Sora without a leak term):")
    convs = Counter(p.conv for p in visible)
    for conv, n in convs.most_common():
        by_lang = Counter(p.lang for p in visible if p.conv == conv)
        print(f"  {conv:9s} {n:5d}  {100 * n / total:5.1f}%  " + " ".join(f"{k}:{v}" for k, v in by_lang.most_common()))

    matched = [p for p in visible if monitor_matches(p.text)]
    print(f"\nmonitor query {QUERY}\n  matches {len(matched)} of {total} posts")

    handles = Counter(p.author for p in visible)
    once_twice = sum(1 for n in handles.values() if n <= 2)
    print(
        f"\nauthors: {len(handles)}; {once_twice} ({100 * once_twice / len(handles):.0f}%) post once or "
        f"twice; most active: " + ", ".join(f"{h} {n}" for h, n in handles.most_common(6))
    )

    usage = Counter(s for p in visible for s in set(p.used))
    top_sentence, top_count = usage.most_common(1)[0]
    print(
        f"\nbank sentences used: {len(usage)}; most used in {top_count} posts "
        f"({100 * top_count / total:.1f}%): {top_sentence[:70]!r}"
    )
    lengths = sorted(len(p.text) for p in visible if p.kind == "comment")
    print(
        f"comment length: median {lengths[len(lengths) // 2]} chars, 90th pct {lengths[9 * len(lengths) // 10]}, "
        f"max {lengths[-1]}; replies to comments: "
        f"{sum(1 for p in visible if p.parent is not None and p.parent.kind == 'comment')}; "
        f"with a quote: {sum(1 for p in visible if p.text.startswith('> '))}"
    )

    # The checks the demo depends on.
    assert total >= 1600, total
    assert all(START <= p.t <= END for p in posts)
    assert len({p.text for p in visible}) == total, "two posts have the same text"
    assert top_count <= 0.02 * total, "a sentence is used in more than 2% of the posts"
    share = {lang: langs[lang] / total for lang in LANGS}
    assert 0.40 <= share["en"] <= 0.50 and share["ar"] >= 0.12, share
    assert all(share[lang] >= 0.08 for lang in ("fr", "de", "es")), share
    assert all(share[lang] > 0 for lang in ("pt", "it", "ja")), share
    busiest = days.most_common(1)[0][0]
    assert busiest == "11-26" and days["11-26"] >= 0.15 * total, days
    assert days["12-09"] > max(days[d] for d in days if "11-29" <= d <= "12-08"), days
    for p in visible:
        sora, leak, bay = terms(p.text)
        if p.noise:
            assert noise_ok(p.noise, p.lang, sora, leak, bay), (p.noise, p.text)
        else:
            assert sora and leak and not bay, p.text
    bay_share = convs["bay"] / total
    plain_share = convs["plain"] / total
    assert 0.015 <= bay_share <= 0.05 and 0.015 <= plain_share <= 0.05, (bay_share, plain_share)
    for p in posts:
        if p.kind == "comment":
            assert p.parent is not None and p.story is not None
            assert p.parent.t < p.t and p.story.t < p.t and p.parent.oid < p.oid
    ordered = sorted(posts, key=lambda p: p.t)
    assert all(a.oid < b.oid for a, b in itertools.pairwise(ordered))
    assert sum(p.stat().st_size for p in paths) < 4_000_000
    print("\nall checks passed")


def report_and_check_platforms(posts: list[Post], written: dict[str, int]) -> None:
    """Where the posts went: Mastodon and Bluesky carry most of the non-English conversation."""
    visible = [p for p in posts if not p.deleted]
    print("\nper platform (files written: " + ", ".join(f"{k} {v}" for k, v in written.items()) + "):")
    for platform in ("hackernews", "mastodon", "bluesky"):
        mine = [p for p in visible if p.platform == platform]
        langs = Counter(p.lang for p in mine)
        print(f"  {platform:10s} {len(mine):5d}  " + " ".join(f"{k}:{v}" for k, v in langs.most_common()))
    foreign = [p for p in visible if p.lang != "en"]
    social = sum(1 for p in foreign if p.platform != "hackernews")
    print(f"  non-English posts on Mastodon or Bluesky: {social} of {len(foreign)}")
    assert social > 0.6 * len(foreign), (social, len(foreign))
    assert all(written[name] >= 50 for name in ("mastodon", "bluesky", "jetstream")), written
    assert sum(1 for p in visible if p.platform == "hackernews") >= 700


def main() -> None:
    rng = random.Random(SEED)
    stories = build_stories(rng)
    comments = build_threads(rng, stories)
    posts = stories + comments
    authors = make_authors(rng)
    index = assign_authors(rng, posts, authors)
    writer = Writer(rng, stories)
    for post in sorted(posts, key=lambda p: (p.t, p.seq)):
        if post.kind == "story":
            write_story(post)
        else:
            assert post.author is not None  # assign_authors gave it one
            writer.write(post, index[post.author])
    candidates = [p for p in comments if p.noise is None and p.t > LEAK]
    for post in rng.sample(candidates, 6):
        post.deleted = True
    assign_ids(rng, posts)
    _social.assign_platforms(posts, random.Random(_social.SEED))
    paths = write_pages(rng, posts)
    report_and_check(posts, paths)
    report_and_check_platforms(posts, _social.write(posts, OUT.parent))


if __name__ == "__main__":
    main()
