"""Search strings for sources whose search understands OR: one AND-of-ORs string where it fits.

Reddit, Google News and GDELT accept ``(a OR b) c``, so the usual monitor query ("Sora" AND (leak
OR "PR-Puppets")) needs one request per page instead of one per clause of its expansion. Exclusions
are left out (every result is re-checked with `query.matches`, so broader is fine). A query of
another shape falls back to one string per clause, as for sources without OR.
"""

from __future__ import annotations

from collections.abc import Callable

from monitor.query import And, Node, Not, Or, Query, Term

__all__ = ["or_searches", "quoted"]


def quoted(term: Term) -> str:
    """A term as most search engines read it: quoted if it is a phrase or holds more than letters."""
    if term.phrase or not term.text.isalnum():
        return '"' + term.text.replace('"', " ").strip() + '"'
    return term.text


def or_searches(query: Query, render: Callable[[Term], str] = quoted) -> list[str]:
    """One string when the query is an AND of ORs of terms (NOTs dropped); else one per clause."""
    single = _and_of_ors(query.root, render)
    if single:
        return [single]
    searches: list[str] = []
    for clause in query.clauses():
        search = " ".join(render(term) for term in clause.include)
        if search not in searches:
            searches.append(search)
    return searches


def _and_of_ors(node: Node, render: Callable[[Term], str]) -> str | None:
    items = node.items if isinstance(node, And) else (node,)
    parts = []
    for item in items:
        if isinstance(item, Not):
            continue
        group = _or_of_terms(item, render)
        if group is None:
            return None
        parts.append(group)
    return " ".join(parts) or None


def _or_of_terms(node: Node, render: Callable[[Term], str]) -> str | None:
    if isinstance(node, Term):
        return render(node)
    if isinstance(node, Or) and all(isinstance(item, Term) for item in node.items):
        rendered = [render(item) for item in node.items if isinstance(item, Term)]
        return "(" + " OR ".join(dict.fromkeys(rendered)) + ")"
    return None
