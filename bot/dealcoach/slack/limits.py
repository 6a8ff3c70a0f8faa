"""Block Kit limits, and fitting text into them without ever failing.

Numbers from Slack's Block Kit reference (and slack_sdk.models, which the tests validate
against). Text that does not fit is shortened at a word boundary with a visible note; a
list of blocks that does not fit is cut with a note block — a long answer never makes a
Web API call fail.
"""

from __future__ import annotations

import re
from typing import Any

VIEW_BLOCKS = 100
MESSAGE_BLOCKS = 50
SECTION_TEXT = 3000
CONTEXT_TEXT = 2000
HEADER_TEXT = 150
LABEL_TEXT = 2000
HINT_TEXT = 2000
OPTION_TEXT = 75
OPTION_VALUE = 150
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
TITLE_TEXT = 24  # modal title, submit and close
PRIVATE_METADATA = 3000
PLAIN_INPUT_MAX = 3000
MESSAGE_TEXT = 40_000  # chat.postMessage `text`; Slack truncates beyond this

# A cut must not leave half an HTML entity ("&am") or half a Slack link ("<@U12") behind.
_PARTIAL_ENTITY = re.compile(r"&[a-zA-Z#0-9]{0,6}$")
_PARTIAL_LINK = re.compile(r"<[^>]*$")


def clip(text: str, limit: int, note: str = "", *, at: str = " ") -> str:
    """`text` if it fits in `limit` characters, else a shortened copy ending in `… note`.

    The cut goes back to the last `at` (a space: a word; a newline: a whole line, for the
    digest's lists) when that keeps more than 60% of the room."""
    if len(text) <= limit:
        return text
    suffix = f"… {note}".rstrip() if note else "…"
    room = max(limit - len(suffix), 0)
    cut = text[:room]
    boundary = cut.rfind(at)
    if boundary > room * 0.6:
        cut = cut[:boundary]
    cut = _PARTIAL_LINK.sub("", _PARTIAL_ENTITY.sub("", cut)).rstrip()
    return (cut + suffix)[:limit]


def fit_blocks(blocks: list[dict[str, Any]], limit: int, note: str) -> list[dict[str, Any]]:
    """At most `limit` blocks; when cut, the last one says so."""
    if len(blocks) <= limit:
        return blocks
    kept = blocks[: limit - 1]
    kept.append(
        {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(note, CONTEXT_TEXT)}]}
    )
    return kept
