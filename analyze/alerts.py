"""Announce new spikes to a Slack-compatible incoming webhook named by `MURMUR_ALERT_WEBHOOK`.

After each analysis, the spikes no alert has covered yet go out in one message (`text` for
notifications, `blocks` for the layout: what, when, why, top posts as links). A spike is marked as
announced only once the webhook accepted the message, in `spike_alerts`, so it is never sent twice
and a message that failed is sent again by the next run. A failing webhook is retried a few times
with backoff and logged; it never fails the run. The webhook URL holds a secret token, so it is
never logged.

Post text is data: it goes out in `plain_text` elements, and only Murmur's own words in `mrkdwn`,
with Slack's control characters (&, <, >) escaped wherever a value is interpolated.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from datetime import datetime

import httpx
from sqlalchemy import Engine

from store.spikes import StoredSpike, mark_announced, unannounced_spikes

log = logging.getLogger(__name__)

WEBHOOK_ENV = "MURMUR_ALERT_WEBHOOK"
ATTEMPTS = 3
BACKOFF_S = 2.0
MAX_SPIKES_PER_MESSAGE = 10  # Slack allows 50 blocks; four per spike plus a header
TOP_POSTS = 3
SNIPPET = 200


def announce_new_spikes(
    engine: Engine,
    monitor: str,
    *,
    webhook: str | None = None,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Send the monitor's unannounced spikes (newest `MAX_SPIKES_PER_MESSAGE`, the rest the next
    time); returns how many were announced. Without a webhook it does nothing."""
    webhook = webhook if webhook is not None else os.environ.get(WEBHOOK_ENV, "").strip()
    if not webhook:
        return 0
    with engine.connect() as conn:
        pending = unannounced_spikes(conn, monitor)
    if not pending:
        return 0
    batch = pending[-MAX_SPIKES_PER_MESSAGE:]
    if not _post(webhook, slack_message(monitor, batch, len(pending)), transport, sleep):
        return 0
    with engine.begin() as conn:
        for spike in batch:
            mark_announced(conn, spike)
    log.info("alert sent: %d new spike(s) of %s", len(batch), monitor)
    return len(batch)


def _post(webhook: str, message: dict, transport: httpx.BaseTransport | None, sleep: Callable[[float], None]) -> bool:
    with httpx.Client(timeout=15.0, transport=transport) as client:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                response = client.post(webhook, json=message)
                if response.is_success:
                    return True
                problem = f"HTTP {response.status_code}"
            except httpx.HTTPError as error:
                problem = type(error).__name__
            log.warning("alert webhook failed (%s), attempt %d of %d", problem, attempt, ATTEMPTS)
            if attempt < ATTEMPTS:
                sleep(BACKOFF_S * 2 ** (attempt - 1))
    log.error("alert not sent after %d attempts; the next run tries again", ATTEMPTS)
    return False


def slack_message(monitor: str, spikes: list[StoredSpike], pending: int) -> dict:
    """The Slack message for `spikes` (oldest first): a header, then per spike what/when/why and links."""
    title = f"Murmur: {len(spikes)} new spike{'s' if len(spikes) != 1 else ''} in {monitor}"
    if pending > len(spikes):
        title += f" ({pending - len(spikes)} more next run)"
    blocks: list[dict] = [{"type": "header", "text": {"type": "plain_text", "text": title[:150]}}]
    lines = [title]
    for spike in reversed(spikes):  # newest first, as `murmur spikes` lists them
        what = f"{spike.series} ({spike.granularity}): {spike.posts} posts vs {spike.baseline:g} expected"
        when = f"{_when(spike.start)} → {_when(spike.end)} UTC"
        why = "; ".join(_driver(d) for d in spike.drivers[:4]) or "no single slice stands out"
        lines.append(f"{what}, {when}; driven by {why}")
        posts = spike.top_posts.get("engagement", [])[:TOP_POSTS]
        links = " · ".join(
            f"<{_escape(p['url'])}|post {i}>" for i, p in enumerate(posts, 1) if _is_web_link(p.get("url"))
        )
        blocks.append(
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": f"*{_escape(what)}*\n{_escape(when)}\nDriven by: {_escape(why)}"
                    + (f"\nTop posts: {links}" if links else ""),
                },
            }
        )
        if posts:
            blocks.append(
                {
                    "type": "context",
                    "elements": [
                        {"type": "plain_text", "text": f"{i}. {p['text'][:SNIPPET] or '(no text)'}", "emoji": False}
                        for i, p in enumerate(posts, 1)
                    ],
                }
            )
        blocks.append({"type": "divider"})
    return {"text": "\n".join(lines), "blocks": blocks}


def _driver(driver: dict) -> str:
    name = f"{driver['kind']} {driver['label']}"
    return f"{name} {driver['share_before']:.0%}→{driver['share']:.0%}"


def _when(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M}"


def _escape(text: str) -> str:
    """Slack's rule for mrkdwn: &, < and > are control characters and must be escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _is_web_link(url: object) -> bool:
    return isinstance(url, str) and url.startswith(("https://", "http://")) and "|" not in url
