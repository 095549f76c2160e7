"""The shared HTML-to-text conversion: HN comment HTML, Mastodon statuses, feed summaries."""

from __future__ import annotations

import pytest

from collect.html_text import html_to_text


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("one<p>two<p>three", "one\n\ntwo\n\nthree"),
        ("<p>wrapped</p><p>paragraphs</p>", "wrapped\n\nparagraphs"),
        ("line<br>break<br/>again", "line\nbreak\nagain"),
        ("a   lot \n of   space", "a lot of space"),
        ("&quot;&gt;&lt;&amp;&#x27;&#x2F;", "\"><&'/"),
        ("<i>it</i> is <b>so</b>", "it is so"),
        (
            '<a href="https:&#x2F;&#x2F;openai.com&#x2F;sora">https:&#x2F;&#x2F;openai.com&#x2F;sora</a>',
            "https://openai.com/sora",
        ),
        (
            '<a href="https://example.com/a/very/long/path/index.html">https://example.com/a/ve...</a>',
            "https://example.com/a/very/long/path/index.html",
        ),
        ('see <a href="https://example.com/jobs">our jobs page</a>.', "see our jobs page (https://example.com/jobs)."),
        ('<a href="https://example.com/x">', "https://example.com/x"),
        ("<pre><code>  if x:\n      y()\n</code></pre>after", "  if x:\n      y()\n\nafter"),
        ("unclosed <i>tags <pre><code>code", "unclosed tags\n\ncode"),
        ("", ""),
    ],
)
def test_html_to_text_of_hacker_news_comments(html: str, text: str) -> None:
    assert html_to_text(html) == text


MASTODON_LINK = (
    '<a href="https://news.example/2024/11/26/sora-leak-artists" rel="nofollow noopener" target="_blank">'
    '<span class="invisible">https://</span><span class="ellipsis">news.example/2024/11/26/sora-</span>'
    '<span class="invisible">leak-artists</span></a>'
)


@pytest.mark.parametrize(
    ("html", "text"),
    [
        (
            '<p>Le <a href="https://mastodon.example/tags/Sora" class="mention hashtag" rel="tag">'
            "#<span>Sora</span></a> a fuité</p>",
            "Le #Sora a fuité",
        ),
        (
            '<p><span class="h-card" translate="no"><a href="https://mastodon.example/@ana" class="u-url mention">'
            "@<span>ana</span></a></span> oui</p>",
            "@ana oui",
        ),
        (f"<p>lire {MASTODON_LINK}</p>", "lire https://news.example/2024/11/26/sora-leak-artists"),
        ("<p>uno</p><p>dos<br />tres</p>", "uno\n\ndos\ntres"),
        ("<div>block</div><ul><li>one</li><li>two</li></ul>", "block\n\none\n\ntwo"),
        ("<script>alert(1)</script><style>p{}</style>visible", "visible"),
        ("<p>&lt;script&gt; stays text</p>", "<script> stays text"),
        ("<p>تسريب <b>سورا</b></p>", "تسريب سورا"),
        ('<a href="https://x.example/a">https://x.example/…</a>', "https://x.example/a"),
    ],
)
def test_html_to_text_of_statuses_and_feed_summaries(html: str, text: str) -> None:
    assert html_to_text(html) == text
