"""What a card sends back, checked before anything acts on it.

A submitted card is `{question id: value}` plus our envelope (`verb`, `review_id`, `nonce`,
`qids`, `people`; see `cards`). Anything here that does not look like one of our own cards
raises `BadCard`: the turn answers 400 (an invoke) or one line (a legacy submit), and nothing
is read or written. Pure functions, testable without Teams.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from dealcoach.errors import InputError

# A card's `data` as submitted (JSON: strings, mostly); nothing in it is trusted.
CardData = Mapping[str, object]
# An answer as typed, for the coach to validate: text, the values of a multi-select, blank.
RawAnswer = str | list[str] | None

_QID = re.compile(r"^[a-z_]+(\.[0-9a-z_]+){1,3}$")
MAX_QIDS = 120  # more questions than any one step of the bank shows (6 people × 12 + …)


class BadCard(InputError):
    """A card payload that did not come from one of our cards (or was tampered with)."""


def review_id(data: CardData) -> int:
    """The review the card is about (a positive integer of at most 18 digits)."""
    raw = data.get("review_id")
    text = str(raw).strip() if raw is not None else ""
    if not text.isdigit() or len(text) > 18:
        raise BadCard("the card names no review")
    return int(text)


def bounded_int(value: object, low: int, high: int) -> int:
    """An integer from the card, clamped to `low..high`."""
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        raise BadCard("the card carries a bad number") from None
    return max(low, min(high, number))


def question_ids(data: CardData, known: Mapping[str, object]) -> list[str]:
    """The question ids the card showed (`qids`), each one the review's bank knows: a
    resubmitted old card only ever re-saves its own answers."""
    raw = data.get("qids")
    if not isinstance(raw, str) or not raw:
        raise BadCard("the card names no questions")
    ids = [part.strip() for part in raw.split(",") if part.strip()]
    if len(ids) > MAX_QIDS or not all(_QID.match(qid) and qid in known for qid in ids):
        raise BadCard("the card names questions this review does not have")
    return ids


def raw_value(kind: str, value: object) -> RawAnswer:
    """Teams sends every input as a string (a multi-select as "a,b"); blank means blank."""
    if value is None:
        return None
    if isinstance(value, list):
        return [str(v) for v in value]
    text = str(value).strip()
    if not text:
        return None
    if kind == "multi_choice":
        return [part for part in (p.strip() for p in text.split(",")) if part]
    return text
