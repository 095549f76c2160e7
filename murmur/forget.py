"""`murmur forget`: delete a person's posts (or one post) and keep them from coming back.

    murmur forget --platform hackernews --author HANDLE
    murmur forget --url https://news.ycombinator.com/item?id=42250110

The handle is pseudonymised with the store's key to find the posts; the store keeps a tombstone
(the platform and the pseudonym, or the post's native id), never the handle, and later collection
refuses matching posts.
"""

from __future__ import annotations

import argparse

from monitor.cli import EXIT_OK
from monitor.errors import MurmurError
from store.db import open_store
from store.lifecycle import forget_author, forget_post, post_for_url


class NothingToForget(MurmurError):
    """The URL names no stored post."""


def main(argv: list[str] | None = None, prog: str = "murmur forget") -> int:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Delete a person's posts, or one post, with their analysis, and keep them from being "
        "collected again (a tombstone).",
    )
    parser.add_argument("--platform", help="the platform, as stored on posts (e.g. hackernews)")
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--author", metavar="HANDLE", help="the author's handle on that platform")
    who.add_argument("--url", help="the URL of one post")
    parser.add_argument("--db", metavar="URL", help="database URL (overrides MURMUR_DB)")
    args = parser.parse_args(argv)
    if args.author is not None and not args.platform:
        parser.error("--author needs --platform")
    engine = open_store(args.db)
    with engine.begin() as conn:
        if args.author is not None:
            deleted = forget_author(conn, args.platform, args.author)
            print(f"forgot the author on {args.platform}: {deleted} posts deleted; they will not be collected again")
        else:
            found = post_for_url(conn, args.url)
            if found is None:
                raise NothingToForget(f"no stored post has the URL {args.url}")
            deleted = forget_post(conn, *found)
            print(f"forgot {found[0]} post {found[1]}: deleted; it will not be collected again")
    engine.dispose()
    return EXIT_OK
