"""The query language: normalisation, parsing, errors, matching and the clause (DNF) plan."""

from __future__ import annotations

import time
from itertools import combinations

import pytest

from monitor.errors import QuerySyntaxError
from monitor.normalize import normalize
from monitor.query import MAX_CLAUSES, And, Clause, Not, Or, Query, Term, parse_query

SORA = '("Sora" OR "سورا") AND (leak OR تسريب OR "PR-Puppets" OR "PR Puppets") NOT "Sora Bay"'


def t(text: str) -> Term:
    return Term(text, phrase=False)


def p(text: str) -> Term:
    return Term(text, phrase=True)


# --- normalize ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Sora LEAK", "sora leak"),
        ("  a \n\t b\r\n  c  ", "a b c"),
        ("PR\u00a0Puppets", "pr puppets"),  # non-breaking space
        ("a\u2003\u3000b", "a b"),  # em space, ideographic space
        ("fuité", "fuite"),
        ("FUITÉ", "fuite"),
        ("fuite\u0301", "fuite"),  # a combining acute on the last e
        ("Künstler veröffentlichen", "kunstler veroffentlichen"),
        ("Straße", "strasse"),
        ("ＳＯＲＡ", "sora"),  # full width
        ("ﬁle", "file"),  # ligature
        ("İstanbul", "istanbul"),  # casefold gives i + combining dot, which goes
        ("Ångström Øre", "angstrom øre"),  # ø has no decomposition: kept
        ("تَسْرِيبٌ", "تسريب"),  # fatha, sukun, kasra, dammatan
        ("الذَّكَاءُ", "الذكاء"),  # shadda
        ("تســـريب", "تسريب"),  # tatweel
        ("أوبن إيه آي", "اوبن ايه اي"),
        ("ٱلله", "الله"),  # alif wasla
        ("تسريبة", "تسريبه"),  # ta marbuta
        ("على", "علي"),  # alif maqsura
        ("مؤتمر", "موتمر"),
        ("هيئة", "هييه"),
        ("\ufeb3\ufeee\ufead\ufe8e", "سورا"),  # presentation forms
        ("ا\u0654", "ا"),  # decomposed hamza above
        ("Pup\u00adpets", "puppets"),  # soft hyphen
        ("تسر\u200cيب", "تسريب"),  # zero-width non-joiner
        ("한국어", "한국어"),  # Hangul recomposed after NFKD
        ("sora 😀 leak", "sora 😀 leak"),  # astral, not a mark: kept
        ("a\U0001d167b", "ab"),  # astral nonspacing mark (musical tremolo)
        ("漢\U000e0100字", "漢字"),  # ideographic variation selector
        ("", ""),
        ("   ", ""),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


@pytest.mark.parametrize("text", ["Sora Leak", "تَسْرِيبٌ أُوبن", "Künstler  FUITÉ", "ＳＯＲＡ-ﬁ"])
def test_normalize_is_idempotent(text: str) -> None:
    assert normalize(normalize(text)) == normalize(text)


def test_normalize_maps_arabic_variants_even_when_precomposed() -> None:
    """ٱ, ة and ى have no decomposition, so only the explicit map folds them."""
    for variant, base in [("أ", "ا"), ("إ", "ا"), ("آ", "ا"), ("ٱ", "ا"), ("ة", "ه"), ("ى", "ي")]:
        assert normalize(variant) == base
    assert normalize("ؤ") == "و"
    assert normalize("ئ") == "ي"


# --- matching: the Sora monitor ----------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "OpenAI's Sora leaked by artists protesting unpaid work",
        "SORA LEAK: artists give public access to the video model",
        "Sora was leaked on Hugging Face by a group called PR-Puppets",
        "The PR‑Puppets collective (non-breaking hyphen) posted Sora",
        "pr puppets posted a front end to sora",
        "PR  –  Puppets and Sora",  # en dash with spaces
        "Sora's leak is all over the news",
        "#Sora leaks!",
        "تسريب سورا من قبل الفنانين",
        "تم التسريب: سورا متاح للجميع",
        "والتسريب جاء بعد أن منحت الشركة الفنانين وصولاً مبكراً إلى سُورَا",
        "بتسريب نموذج سورا",
        "قام الفنانون بتَسْرِيبِ سُورَا",  # with harakat
        "تســـريب ســورا",  # tatweel
        "التسريبات حول سورا",  # plural, by prefix
        "Künstler veröffentlichen Sora-Leak aus Protest",
        "Sora : les artistes de PR-Puppets ont fait fuiter l'outil — le leak choque",
    ],
)
def test_sora_query_matches(text: str) -> None:
    assert parse_query(SORA).matches(text)


@pytest.mark.parametrize(
    "text",
    [
        "The Sora Bay leak is flooding the coast",  # excluded phrase
        "sora-bay leaked photos",  # excluded phrase across a hyphen
        "SORA  BAY leak",
        "Sora looks bleak for OpenAI",  # 'leak' only inside 'bleak'
        "Soraya leaked the memo",  # 'Sora' is a phrase: whole word
        "OpenAI's video model leaked",  # no Sora
        "سورا نموذج جديد",  # Sora without leak
        "Sora : l'outil a fuité",  # French, but no query term for 'fuité'
        "Sora ist ein Videomodell",
        "",
    ],
)
def test_sora_query_does_not_match(text: str) -> None:
    assert not parse_query(SORA).matches(text)


# --- matching: terms ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("term", "text", "expected"),
    [
        (t("leak"), "leak", True),
        (t("leak"), "leaked", True),
        (t("leak"), "Leaks", True),
        (t("leak"), "Leak!", True),
        (t("leak"), "(leak)", True),
        (t("leak"), "a bleak day", False),
        (t("leak"), "sora_leak", False),  # underscore is part of a word
        (t("LEAK"), "leaked", True),
        (t("fuite"), "Le modèle a fuité", True),
        (t("fuité"), "une fuite massive", True),
        (t("fuite"), "FUITÉS", True),
        (t("Straße"), "STRASSE", True),
        (t("künstler"), "Kunstler", True),
        (t("Künstler"), "KÜNSTLERINNEN", True),
        (t("sora"), "Soraya", True),  # bare word: a prefix
        (p("sora"), "Soraya", False),  # phrase: a whole word
        (p("sora"), "Sora's", True),
        (p("sora"), "(Sora)", True),
        (p("PR Puppets"), "PR-Puppets", True),
        (p("PR Puppets"), "pr puppets", True),
        (p("PR Puppets"), "PR\u2011Puppets", True),  # non-breaking hyphen
        (p("PR Puppets"), "PR — Puppets", True),
        (p("PR Puppets"), "PRPuppets", False),
        (p("PR Puppets"), "PR Puppetship", False),
        (p("PR-Puppets"), "pr puppets", True),
        (p("PR-Puppets"), "PR\u2010Puppets", True),
        (t("PR-Puppets"), "PR\u2011Puppets2024", True),
        (p("Sora Bay"), "sora\nbay", True),
        (p("OpenAI Sora"), "openai  sora", True),
        (p("U.S. Army"), "U.S. army", True),
        (p("#sora"), "#Sora!", True),
        (p("#sora"), "sora", False),  # leading punctuation is literal
        # Arabic
        (t("تسريب"), "تسريب", True),
        (t("تسريب"), "التسريب", True),
        (t("تسريب"), "والتسريب", True),
        (t("تسريب"), "فالتسريب", True),
        (t("تسريب"), "بالتسريب", True),
        (t("تسريب"), "بتسريب", True),
        (t("تسريب"), "وتسريب", True),
        (t("تسريب"), "للتسريب", True),
        (t("تسريب"), "تسريبات", True),
        (t("تسريب"), "تَسْرِيب", True),
        (t("تسريب"), "اتسريب", False),  # ا is not a clitic
        (t("تسريب"), "مستسريب", False),
        (t("تَسْرِيب"), "تسريب", True),  # harakat in the query
        (t("أوبن"), "اوبن ايه اي", True),
        (t("اوبن"), "إوبن", True),
        (p("أوبن إيه آي"), "اوبن ايه اي", True),
        (p("سورا"), "وسورا", True),
        (p("سورا"), "لسورا", True),
        (p("سورا"), "سوراه", False),
        (t("الذكاء"), "والذَّكاء", True),
        (t("مدرسة"), "المدرسه", True),
    ],
)
def test_term_matches(term: Term, text: str, expected: bool) -> None:
    assert term.matches(text) is expected


def test_terms_compare_by_text_and_kind_only() -> None:
    assert t("leak") == t("leak")
    assert hash(p("Sora Bay")) == hash(p("Sora Bay"))
    assert t("leak") != p("leak")
    assert t("leak") != t("Leak")  # as written; matching is what ignores case


def test_term_without_anything_to_match_is_refused() -> None:
    with pytest.raises(ValueError, match="nothing to match"):
        t("\u0640")


# --- parsing -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "root"),
    [
        ("leak", t("leak")),
        ('"PR Puppets"', p("PR Puppets")),
        ("Sora", t("Sora")),  # text kept as written
        ("a OR b c", Or((t("a"), And((t("b"), t("c")))))),
        ("a b OR c", Or((And((t("a"), t("b"))), t("c")))),
        ("a AND b OR c AND d", Or((And((t("a"), t("b"))), And((t("c"), t("d")))))),
        ("a OR b AND c", Or((t("a"), And((t("b"), t("c")))))),
        ("(a OR b) c", And((Or((t("a"), t("b"))), t("c")))),
        ("a NOT b", And((t("a"), Not(t("b"))))),
        ("NOT b a", And((Not(t("b")), t("a")))),
        ("a NOT b c", And((t("a"), Not(t("b")), t("c")))),
        ("a NOT b OR c", Or((And((t("a"), Not(t("b")))), t("c")))),
        ("a NOT (b OR c)", And((t("a"), Not(Or((t("b"), t("c"))))))),
        ("a NOT NOT b", And((t("a"), Not(Not(t("b")))))),
        ("a AND NOT b", And((t("a"), Not(t("b"))))),
        ("sora and leak", And((t("sora"), t("and"), t("leak")))),
        ("cats or dogs", And((t("cats"), t("or"), t("dogs")))),
        ("Not And Or", And((t("Not"), t("And"), t("Or")))),
        ('leak"Sora Bay"x', And((t("leak"), p("Sora Bay"), t("x")))),
        ("(a)(b)", And((t("a"), t("b")))),
        ("((a))", t("a")),
        ('" Sora "', p(" Sora ")),
        ("AND-ish ORacle", And((t("AND-ish"), t("ORacle")))),
    ],
)
def test_parse_structure(source: str, root: object) -> None:
    query = parse_query(source)
    assert query.root == root
    assert query.source == source


def test_precedence_in_matching() -> None:
    query = parse_query("alpha OR beta gamma")
    assert query.matches("alpha")
    assert not query.matches("beta")
    assert query.matches("gamma beta")


def test_lowercase_operators_are_words() -> None:
    query = parse_query("cats or dogs")
    assert not query.matches("cats")
    assert query.matches("cats or dogs")
    assert parse_query("cats OR dogs").matches("dogs")


def test_query_matches_agrees_with_terms_on_raw_text() -> None:
    query = parse_query('"PR Puppets" NOT bay')
    text = "PR‑PUPPETS  published Sora"
    assert query.matches(text) == (p("PR Puppets").matches(text) and not t("bay").matches(text))
    assert query.matches(text)


# --- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "position", "message"),
    [
        ("", 0, "empty query"),
        ("   ", 0, "empty query"),
        ("(leak OR x", 0, "'(' is never closed"),
        ("(leak OR", 0, "'(' is never closed"),
        ("a (b (c) d", 2, "'(' is never closed"),
        ("(a) (b", 4, "'(' is never closed"),
        ("(a (b", 3, "'(' is never closed"),  # the latest of several
        ("leak)", 4, "')' has no matching '('"),
        ("a ) (b", 2, "')' has no matching '('"),
        ("(a)) OR (b", 3, "')' has no matching '('"),
        ('"Sora', 0, "unterminated quote"),
        ('leak "Sora Bay', 5, "unterminated quote"),
        ('"a" "b', 4, "unterminated quote"),
        ('("Sora)', 1, "unterminated quote"),
        ('""', 0, 'empty phrase ""'),
        ('leak ""', 5, 'empty phrase ""'),
        ('"   "', 0, 'empty phrase ""'),
        ("Sora AND", 5, "AND has no term after it"),
        ("OR leak", 0, "OR has no term before it"),
        ("AND leak", 0, "AND has no term before it"),
        ("(leak OR)", 6, "OR has no term after it"),
        ("(OR leak)", 1, "OR has no term before it"),
        ("leak AND OR x", 5, "AND has no term after it"),
        ("leak OR AND x", 5, "OR has no term after it"),
        ("leak OR OR x", 5, "OR has no term after it"),
        ("a NOT", 2, "NOT has no term after it"),
        ("NOT", 0, "NOT has no term after it"),
        ("a AND NOT", 6, "NOT has no term after it"),
        ("(a NOT) b", 3, "NOT has no term after it"),
        ("()", 0, "empty parentheses"),
        ("a ( ) b", 2, "empty parentheses"),
        ("a (())", 3, "empty parentheses"),
        ("leak \u0640", 5, "nothing to match"),
        ('leak "\u0640"', 5, "nothing to match"),
        ("NOT foo", 0, "exclusions alone"),
        ("NOT foo NOT bar", 0, "exclusions alone"),
        ("a OR NOT b", 0, "exclusions alone"),
        ("NOT (a AND b)", 0, "exclusions alone"),
        ("NOT (a OR b)", 0, "exclusions alone"),
        ("(a NOT b) OR (NOT c)", 0, "exclusions alone"),
    ],
)
def test_syntax_errors(source: str, position: int, message: str) -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        parse_query(source)
    assert caught.value.position == position
    assert message in str(caught.value)
    assert str(caught.value).startswith(f"at character {position + 1}: ")


# --- clauses -----------------------------------------------------------------------------------


def test_clauses_of_the_sora_query() -> None:
    clauses = parse_query(SORA).clauses()
    assert len(clauses) == 8
    assert [clause.include for clause in clauses] == [
        (sora, other)
        for sora in (p("Sora"), p("سورا"))
        for other in (t("leak"), t("تسريب"), p("PR-Puppets"), p("PR Puppets"))
    ]
    assert all(clause.exclude == (p("Sora Bay"),) for clause in clauses)


@pytest.mark.parametrize(
    ("source", "clauses"),
    [
        ("a", [Clause((t("a"),), ())]),
        ("a b", [Clause((t("a"), t("b")), ())]),
        ("a OR b", [Clause((t("a"),), ()), Clause((t("b"),), ())]),
        (
            "(a OR b) (c OR d)",
            [
                Clause((t("a"), t("c")), ()),
                Clause((t("a"), t("d")), ()),
                Clause((t("b"), t("c")), ()),
                Clause((t("b"), t("d")), ()),
            ],
        ),
        ("a NOT b", [Clause((t("a"),), (t("b"),))]),
        # NOT (b OR c) is NOT b AND NOT c: both excluded
        ("a NOT (b OR c)", [Clause((t("a"),), (t("b"), t("c")))]),
        # NOT (b AND c) is NOT b OR NOT c: no plain exclusion, so it is left out (broader)
        ("a NOT (b AND c)", [Clause((t("a"),), ())]),
        # ... but the part that can be excluded still is
        ("a NOT (b OR (c AND d))", [Clause((t("a"),), (t("b"),))]),
        # NOT (b AND NOT c) is NOT b OR c: left out
        ("a NOT (b AND NOT c)", [Clause((t("a"),), ())]),
        # NOT (b OR NOT c) is NOT b AND c
        ("a NOT (b OR NOT c)", [Clause((t("a"), t("c")), (t("b"),))]),
        ("a NOT NOT b", [Clause((t("a"), t("b")), ())]),
        ("NOT NOT a", [Clause((t("a"),), ())]),
        ("NOT (NOT a OR NOT b)", [Clause((t("a"), t("b")), ())]),
        ("NOT (NOT a AND NOT b)", [Clause((t("a"),), ()), Clause((t("b"),), ())]),
        ("x (a OR NOT b)", [Clause((t("x"),), ())]),
        (
            "(a OR b) NOT (c OR d)",
            [Clause((t("a"),), (t("c"), t("d"))), Clause((t("b"),), (t("c"), t("d")))],
        ),
        (
            "(a NOT c) OR (b NOT d)",
            [Clause((t("a"),), (t("c"),)), Clause((t("b"),), (t("d"),))],
        ),
        # duplicates: within a clause and between clauses
        ("a a NOT b NOT b", [Clause((t("a"),), (t("b"),))]),
        ("a OR a", [Clause((t("a"),), ())]),
        ("(a b) OR (b a)", [Clause((t("a"), t("b")), ())]),
        (
            "(a OR b) (a OR b)",
            [Clause((t("a"),), ()), Clause((t("a"), t("b")), ()), Clause((t("b"),), ())],
        ),
    ],
)
def test_clauses(source: str, clauses: list[Clause]) -> None:
    assert parse_query(source).clauses() == clauses


def test_clauses_returns_a_fresh_list() -> None:
    query = parse_query("a OR b")
    query.clauses().clear()
    assert len(query.clauses()) == 2


def clause_search(clauses: list[Clause], text: str) -> bool:
    """What a source without OR finds: any clause with all includes and none of the excludes."""
    return any(
        all(term.matches(text) for term in clause.include)
        and not any(term.matches(text) for term in clause.exclude)
        for clause in clauses
    )


WORDS = ("alpha", "beta", "gamma", "delta")
TEXTS = [" ".join(chosen) for size in range(5) for chosen in combinations(WORDS, size)]


@pytest.mark.parametrize(
    "source",
    [
        "alpha OR beta gamma",
        "alpha NOT (beta AND gamma)",
        "alpha NOT (beta OR (gamma AND delta))",
        "(alpha OR beta) NOT (gamma AND NOT delta)",
        "alpha (beta OR NOT gamma) NOT delta",
        "NOT (NOT alpha AND NOT beta) NOT gamma",
        "(alpha NOT beta) OR (gamma NOT delta) OR (alpha gamma)",
        "alpha NOT NOT (beta OR gamma) NOT (delta OR NOT beta)",
    ],
)
def test_clauses_are_never_narrower_than_the_query(source: str) -> None:
    """Every text the query matches is found by some clause, as a source would search it."""
    query = parse_query(source)
    clauses = query.clauses()
    assert all(clause.include for clause in clauses)
    for text in TEXTS:
        assert clause_search(clauses, text) or not query.matches(text), text


@pytest.mark.parametrize(
    "source",
    [
        "(alpha OR beta) NOT (gamma OR delta)",
        "NOT (NOT alpha AND NOT beta) NOT gamma",
        "(alpha NOT beta) OR (gamma NOT delta)",
        "alpha NOT (beta OR NOT gamma)",
    ],
)
def test_clauses_are_exact_when_no_negated_group_is_left_out(source: str) -> None:
    query = parse_query(source)
    for text in TEXTS:
        assert clause_search(query.clauses(), text) == query.matches(text), text


# --- MAX_CLAUSES -------------------------------------------------------------------------------


def groups(count: int) -> str:
    return " ".join(f"(a{i} OR b{i})" for i in range(count))


def test_max_clauses_is_allowed() -> None:
    assert MAX_CLAUSES == 32
    assert len(parse_query(groups(5)).clauses()) == 32


def test_too_many_clauses_fail_at_parse_time() -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        parse_query(groups(6))
    assert caught.value.position == 0
    assert "expands to 64 separate searches" in str(caught.value)
    assert "limit is 32" in str(caught.value)
    with pytest.raises(QuerySyntaxError, match="expands to 33 separate searches"):
        parse_query(f"({groups(5)}) OR extra")


def test_too_many_clauses_counts_after_deduplication() -> None:
    assert parse_query(" ".join(["(alpha OR alpha)"] * 6)).clauses() == [Clause((t("alpha"),), ())]
    assert len(parse_query(groups(5) + " (a0 OR a0)").clauses()) == 32  # 64 combinations


def test_huge_expansion_is_refused_without_expanding() -> None:
    started = time.perf_counter()
    with pytest.raises(QuerySyntaxError) as caught:
        parse_query(groups(40))  # 2**40 combinations
    assert time.perf_counter() - started < 1
    assert caught.value.position == 0
    assert f"up to {2**40} separate searches" in str(caught.value)


def test_directly_built_query_checks_on_clauses() -> None:
    query = Query("NOT a", Not(t("a")))
    assert query.matches("b")
    with pytest.raises(QuerySyntaxError, match="exclusions alone"):
        query.clauses()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("OpenAIのSoraがleakされた", True),  # Japanese writes no spaces between words
        ("Soraの流出について", True),
        ("情報流出とSoraの関係", True),  # a CJK term is found inside CJK text
        ("Sorakin leak", False),  # still whole words in spaced scripts
        ("流出", False),
    ],
)
def test_scripts_without_spaces_still_have_word_boundaries(text, expected):
    assert parse_query('"Sora" AND (leak OR 流出)').matches(text) is expected


# --- issue 9: hostile queries ------------------------------------------------------------------


def test_deep_nesting_is_a_clear_error_not_a_recursion_error():
    from monitor.query import MAX_DEPTH

    for text in ("(" * 330 + "sora" + ")" * 330, "NOT " * 330 + "sora", "sora AND " + "NOT (" * 40 + "x" + ")" * 40):
        with pytest.raises(QuerySyntaxError, match=f"deeper than {MAX_DEPTH}"):
            parse_query(text)
    assert parse_query("(" * 10 + "sora leak" + ")" * 10).matches("the Sora leak")


@pytest.mark.parametrize("control", ["\u200e", "\u200f", "\u202b", "\u202e", "\u2066", "\u2069", "\u061c", "\u00ad"])
def test_bidi_and_other_format_controls_fold_away(control):
    query = parse_query(f'{control}"سورا"{control} AND ("PR-{control}Puppets" OR leak{control})')
    assert query.matches("تسريب سورا: PR-Puppets")
    assert query.matches(f"{control}سورا{control} leaked")
    assert parse_query("sora leak").matches(f"So{control}ra le{control}ak")


def test_lowercase_operators_are_words_and_draw_a_warning(write_monitor, caplog):
    from monitor.config import load_monitor

    path = write_monitor("""
        name = "m"
        query = 'sora and leak or protest'
        start = 2024-11-20
        [sources.hackernews]
    """)
    with caplog.at_level("WARNING"):
        monitor = load_monitor(path)
    assert "'and', 'or' searched for as words" in caplog.text and "uppercase" in caplog.text
    assert not monitor.query.matches("Sora leak")  # "and" and "or" are terms here
    caplog.clear()
    with caplog.at_level("WARNING"):
        load_monitor(write_monitor('name = "m"\nquery = "sora AND leak"\nstart = 2024-11-20\n[sources.hackernews]\n'))
    assert not caplog.text
