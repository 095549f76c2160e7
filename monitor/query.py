"""The boolean query language of monitor files, its parser, its matcher and its search plan.

    ("Sora" OR "سورا") AND (leak OR تسريب OR "PR-Puppets" OR "PR Puppets") NOT "Sora Bay"

Terms are bare words (prefix matches: ``leak`` finds "leaked") or "quoted phrases" (whole words).
Operators are the uppercase keywords AND, OR, NOT and parentheses; two terms side by side mean AND,
and ``a NOT b`` means ``a AND NOT b``. NOT binds tighter than AND, AND tighter than OR. Matching
runs on `normalize`d text, so it ignores case, diacritics and Arabic spelling variants; a term in
Arabic script, bare or quoted, may also carry the attached و ف ب ل ك and ال ("والتسريب").

`Query.clauses` rewrites the query as an OR of plain AND/NOT searches for sources whose search has
no OR; whatever they return is re-checked with `Query.matches`, so a clause may be broader than
the query but never narrower.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property
from itertools import product
from math import prod

from monitor.errors import QuerySyntaxError
from monitor.normalize import normalize

__all__ = ["MAX_CLAUSES", "MAX_DEPTH", "And", "Clause", "Node", "Not", "Or", "Query", "Term", "parse_query"]

MAX_DEPTH = 32
"""Deepest nesting of parentheses and NOTs a query may have (real queries use two or three)."""

MAX_CLAUSES = 32
"""Most searches one query may expand to for a source without OR: each costs requests and quota."""

_MAX_EXPANSION = 4096
"""Past this many raw combinations `clauses` refuses without expanding (it would be rejected)."""

_KEYWORDS = frozenset({"AND", "OR", "NOT"})

# Between two word characters of a term, any run of other characters (space, hyphen, dot) stands
# for any such run in the text: "PR Puppets" finds "PR-Puppets", "pr  puppets" and "PR‑Puppets"
# with a non-breaking hyphen. Leading or trailing punctuation ("#sora") stays literal.
_SEPARATOR = re.compile(r"(?<=\w)\W+(?=\w)")

# Arabic writes the conjunctions و ف, the prepositions ب ل ك and the article ال onto the next
# word, so "the leak" is التسريب and "and the leak" والتسريب. A term in Arabic script may carry one
# of the five, then the article; ل + ال is spelt لل ("للتسريب").
_ARABIC_CLITICS = "(?:[وفبلك]?ال|[وف]?لل|[وفبلك])?"
_ARABIC_LETTER = re.compile(r"[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff]")

# A word character of a script that separates words with spaces. Chinese, Japanese and Thai do
# not, so a letter of theirs is no word: "Soraの" holds the word "Sora", and "漏洩" is found inside
# "情報漏洩事件".
_SPACED_WORD = r"[^\W\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f]"


def _pattern(text: str, phrase: bool) -> re.Pattern[str]:
    """The regex that finds a term in normalised text.

    Both kinds must start a word: a lookbehind for a non-word character rather than ``\\b``, which
    would demand a word character before a term that starts with punctuation ("#sora"). A bare
    word is a prefix; a phrase must also end a word.
    """
    key = normalize(text)
    if not key:
        kind = "phrase" if phrase else "term"
        raise ValueError(f"{kind} {text!r} has nothing to match once marks and spacing are folded")
    body = r"\W+".join(re.escape(part) for part in _SEPARATOR.split(key))
    clitics = _ARABIC_CLITICS if _ARABIC_LETTER.match(key) else ""
    end = rf"(?!{_SPACED_WORD})" if phrase else ""
    return re.compile(rf"(?<!{_SPACED_WORD}){clitics}{body}{end}")


@dataclass(frozen=True)
class Term:
    """A leaf: a bare word (prefix match) or a quoted phrase (whole words)."""

    text: str
    """As the user wrote it, without the quotes."""
    phrase: bool
    _regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_regex", _pattern(self.text, self.phrase))

    def matches(self, text: str) -> bool:
        """Whether the term occurs in the raw `text`."""
        return self._matches_normalized(normalize(text))

    def _matches_normalized(self, text: str) -> bool:
        return self._regex.search(text) is not None


@dataclass(frozen=True)
class And:
    """Every item matches."""

    items: tuple[Node, ...]

    def _matches_normalized(self, text: str) -> bool:
        return all(item._matches_normalized(text) for item in self.items)


@dataclass(frozen=True)
class Or:
    """At least one item matches."""

    items: tuple[Node, ...]

    def _matches_normalized(self, text: str) -> bool:
        return any(item._matches_normalized(text) for item in self.items)


@dataclass(frozen=True)
class Not:
    """The item does not match."""

    item: Node

    def _matches_normalized(self, text: str) -> bool:
        return not self.item._matches_normalized(text)


Node = Term | And | Or | Not


@dataclass(frozen=True)
class Clause:
    """One search for a source without OR: every `include` term and none of the `exclude` terms."""

    include: tuple[Term, ...]
    exclude: tuple[Term, ...]


@dataclass(frozen=True)
class Query:
    """A parsed query: what `parse_query` returns and monitors carry."""

    source: str
    """The query string as written in the monitor file."""
    root: Node

    def matches(self, text: str) -> bool:
        """Whether the raw `text` satisfies the query (normalised once for all terms)."""
        return self.root._matches_normalized(normalize(text))

    def clauses(self) -> list[Clause]:
        """The query as an OR of clauses (disjunctive normal form), in the order written.

        NOT is pushed down to the terms (De Morgan). An OR with an alternative that has no term to
        look for (``x AND (a OR NOT b)``, or ``NOT (a AND b)``, which is ``NOT a OR NOT b``) is left
        out of the clause: the clause is broader, and `matches` re-checks every result.
        Raises `QuerySyntaxError` if some clause would have nothing to include or if there are
        more than `MAX_CLAUSES`; `parse_query` calls this, so a parsed query never raises here.
        """
        return list(self._clauses)

    @cached_property
    def _clauses(self) -> tuple[Clause, ...]:
        root = _push_not(self.root, negated=False)
        if _unanchored(root):
            raise QuerySyntaxError(
                "the query can match on exclusions alone; every alternative needs a term to look "
                "for that is not negated (write 'sora NOT bay', not 'NOT bay')",
                0,
            )
        combinations = _count(root)
        if combinations > _MAX_EXPANSION:
            raise _too_many(f"up to {combinations}")
        clauses = _dedupe(_expand(root))
        if len(clauses) > MAX_CLAUSES:
            raise _too_many(str(len(clauses)))
        return clauses


def _too_many(count: str) -> QuerySyntaxError:
    return QuerySyntaxError(
        f"the query expands to {count} separate searches for sources without OR; the limit is "
        f"{MAX_CLAUSES} (factor out common terms or split the monitor)",
        0,
    )


def _push_not(node: Node, negated: bool) -> Node:
    """`node` with NOT only directly on terms (De Morgan), and unsearchable ORs replaced by "true".

    "True" is the empty And. An OR is unsearchable when one of its alternatives could match with
    no positive term; replacing a subformula by true only ever widens the query.
    """
    if isinstance(node, Term):
        return Not(node) if negated else node
    if isinstance(node, Not):
        return _push_not(node.item, not negated)
    items = tuple(_push_not(item, negated) for item in node.items)
    if isinstance(node, And) != negated:
        return And(items)
    return And(()) if any(_unanchored(item) for item in items) else Or(items)


def _unanchored(node: Node) -> bool:
    """Whether a NOT-pushed-down `node` can match without any positive term matching."""
    if isinstance(node, Term):
        return False
    if isinstance(node, Not):
        return True
    if isinstance(node, And):
        return all(_unanchored(item) for item in node.items)
    return any(_unanchored(item) for item in node.items)


def _count(node: Node) -> int:
    """How many clauses `_expand` would produce before deduplication."""
    if isinstance(node, (Term, Not)):
        return 1
    counts = [_count(item) for item in node.items]
    return prod(counts) if isinstance(node, And) else sum(counts)


def _expand(node: Node) -> list[Clause]:
    """The DNF of a NOT-pushed-down `node`, left to right, possibly with repeats."""
    if isinstance(node, Term):
        return [Clause((node,), ())]
    if isinstance(node, Not):
        assert isinstance(node.item, Term)
        return [Clause((), (node.item,))]
    if isinstance(node, Or):
        return [clause for item in node.items for clause in _expand(item)]
    return [
        Clause(sum((c.include for c in parts), ()), sum((c.exclude for c in parts), ()))
        for parts in product(*(_expand(item) for item in node.items))
    ]


def _dedupe(clauses: list[Clause]) -> tuple[Clause, ...]:
    """Drop repeated terms within a clause and repeated clauses, keeping first occurrences."""
    seen: dict[tuple[frozenset[Term], frozenset[Term]], Clause] = {}
    for clause in clauses:
        clause = Clause(tuple(dict.fromkeys(clause.include)), tuple(dict.fromkeys(clause.exclude)))
        seen.setdefault((frozenset(clause.include), frozenset(clause.exclude)), clause)
    return tuple(seen.values())


# --- parsing -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    kind: str  # "term", "phrase", "AND", "OR", "NOT", "(", ")" or "end"
    text: str
    position: int


def _tokenize(source: str) -> list[_Token]:
    """Split `source` into tokens, checking quotes and the balance of parentheses on the way.

    Balance is checked here, before the grammar, so that ``(leak OR`` reports the unclosed
    parenthesis rather than a missing operand.
    """
    tokens: list[_Token] = []
    opened: list[int] = []
    i = 0
    while i < len(source):
        char = source[i]
        if char.isspace():
            i += 1
        elif char == "(":
            opened.append(i)
            if len(opened) > MAX_DEPTH:
                raise QuerySyntaxError(f"parentheses nested deeper than {MAX_DEPTH} levels", i)
            tokens.append(_Token("(", char, i))
            i += 1
        elif char == ")":
            if not opened:
                raise QuerySyntaxError("')' has no matching '('", i)
            opened.pop()
            tokens.append(_Token(")", char, i))
            i += 1
        elif char == '"':
            end = source.find('"', i + 1)
            if end < 0:
                raise QuerySyntaxError('unterminated quote: this " is never closed', i)
            if not source[i + 1 : end].strip():
                raise QuerySyntaxError('empty phrase ""', i)
            tokens.append(_Token("phrase", source[i + 1 : end], i))
            i = end + 1
        else:
            start = i
            while i < len(source) and not source[i].isspace() and source[i] not in '()"':
                i += 1
            word = source[start:i]
            if all(unicodedata.category(c) == "Cf" for c in word):
                continue  # only invisible controls (a bidi mark beside a quote): nothing to search for
            tokens.append(_Token(word if word in _KEYWORDS else "term", word, start))
    if opened:
        raise QuerySyntaxError("'(' is never closed", opened[-1])
    tokens.append(_Token("end", "", len(source)))
    return tokens


class _Parser:
    """Recursive descent over the tokens: or := and (OR and)*; and := unary ([AND] unary)*;
    unary := NOT unary | term | phrase | '(' or ')'.
    """

    def __init__(self, source: str) -> None:
        self.tokens = _tokenize(source)
        self.index = 0
        self.depth = 0  # NOTs and parentheses open around the current operand

    def parse(self) -> Node:
        if self._peek().kind == "end":
            raise QuerySyntaxError("empty query", 0)
        node = self._or()
        assert self._peek().kind == "end"  # balanced parentheses leave nothing else
        return node

    def _peek(self) -> _Token:
        return self.tokens[self.index]

    def _take(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def _or(self) -> Node:
        items = [self._and(None)]
        while self._peek().kind == "OR":
            operator = self._take()
            items.append(self._and(operator))
        return items[0] if len(items) == 1 else Or(tuple(items))

    def _and(self, after: _Token | None) -> Node:
        items = [self._unary(after)]
        while True:
            token = self._peek()
            if token.kind == "AND":
                items.append(self._unary(self._take()))
            elif token.kind in ("term", "phrase", "NOT", "("):
                items.append(self._unary(None))
            else:
                break
        return items[0] if len(items) == 1 else And(tuple(items))

    def _unary(self, after: _Token | None) -> Node:
        """One operand; `after` is the operator that requires it, named if it is missing."""
        token = self._peek()
        if token.kind in ("NOT", "("):
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise QuerySyntaxError(f"NOTs and parentheses nested deeper than {MAX_DEPTH} levels", token.position)
            try:
                return self._nested(token)
            finally:
                self.depth -= 1
        if token.kind in ("term", "phrase"):
            self._take()
            try:
                return Term(token.text, token.kind == "phrase")
            except ValueError as error:
                raise QuerySyntaxError(str(error), token.position) from None
        if after is not None:
            raise QuerySyntaxError(f"{after.kind} has no term after it", after.position)
        raise QuerySyntaxError(f"{token.kind} has no term before it", token.position)


    def _nested(self, token: _Token) -> Node:
        """NOT's operand, or a parenthesised query."""
        if token.kind == "NOT":
            return Not(self._unary(self._take()))
        self._take()
        if self._peek().kind == ")":
            raise QuerySyntaxError("empty parentheses '()'", token.position)
        node = self._or()
        closing = self._take()
        assert closing.kind == ")"  # balance was checked by the tokenizer
        return node


def lowercase_operators(text: str) -> list[str]:
    """The lowercase and/or/not the query searches for as words, though they were probably meant as
    operators (operators are uppercase only)."""
    try:
        tokens = _tokenize(text)
    except QuerySyntaxError:
        return []
    return [token.text for token in tokens if token.kind == "term" and token.text.upper() in _KEYWORDS]


def parse_query(text: str) -> Query:
    """Parse a monitor's query; raises `QuerySyntaxError` naming what is wrong and where.

    The clauses are computed here too, so a query that only excludes, or that would need more
    than `MAX_CLAUSES` searches, fails when the monitor is loaded rather than mid-collection.
    """
    query = Query(text, _Parser(text).parse())
    query.clauses()
    return query
