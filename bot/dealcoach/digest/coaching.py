"""Coaching pages in words (issue 16): the 1:1 prep page and note threads, per flavor.

The prep page is `prompts/<locale>/digest/prep.j2`, rendered in the digest's environments
(`digest.render`: every `{{ value }}` escaped for the flavor, the same labels and themes as
the digest). Parts are separated by a line `@@` so adapters can put each in its own block.
Thread lines use the interface wording of `prompts/<locale>/coaching.yaml`; user text is
escaped by the caller's escaper before it goes in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

import jinja2

from dealcoach.coach.bank import QuestionBank, load_bank
from dealcoach.coach.markup import Flavor, tidy
from dealcoach.digest.render import _env, digest_dir
from dealcoach.errors import ContentError
from dealcoach.services.coaching import ManagedReview, NoteView, Prep, ct

PART_BREAK = "@@"


@dataclass(frozen=True)
class RenderedPrep:
    title: str
    parts: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n\n".join([self.title, *self.parts])


def render_prep(prep: Prep, flavor: Flavor) -> RenderedPrep:
    env = _env(flavor, prep.locale)
    context = {
        "rep_name": prep.rep.name,
        "manager_name": prep.manager_name,
        "deals": prep.deals,
        "themes": prep.themes,
        "open_notes": prep.open_notes,
        "overdue_steps": prep.overdue_steps,
        "weeks": prep.weeks,
    }
    path = str(digest_dir(prep.locale) / "prep.j2")
    try:
        module = env.get_template("prep.j2").make_module(context)
    except jinja2.TemplateNotFound:
        raise ContentError(path, "missing") from None
    except jinja2.TemplateError as exc:
        raise ContentError(path, f"template error: {exc}") from None
    title = str(getattr(module, "title", "")).strip()
    parts = tuple(tidy(part) for part in str(module).split(f"\n{PART_BREAK}\n") if tidy(part))
    return RenderedPrep(title=title, parts=parts)


def when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d") if value is not None else "–"


def thread_text(
    notes: Sequence[NoteView],
    locale: str,
    escape: Callable[[str], str],
    *,
    quote: Callable[[str], str] = lambda s: "> " + s.replace("\n", "\n> "),
) -> str:
    """Notes with their replies, oldest first: meta line, the quoted text, replies under it."""
    lines: list[str] = []
    for note in notes:
        status = ct(locale, "status_open" if note.open else "status_done")
        lines.append(
            ct(
                locale,
                "note_meta",
                author=escape(note.author_name),
                date=when(note.created_at),
                status=status,
            )
        )
        if note.action:
            lines.append(ct(locale, "about", action=escape(note.action)))
        lines.append(quote(escape(note.body)))
        for reply in note.replies:
            lines.append(
                ct(
                    locale,
                    "reply_meta",
                    author=escape(reply.author_name),
                    date=when(reply.created_at),
                )
            )
            lines.append(quote(escape(reply.body)))
        lines.append("")
    return "\n".join(lines).strip()


def answer_lines(review: ManagedReview) -> list[tuple[str, str]]:
    """A completed review's answers as (question label, answer as shown) in the review's
    language, options by their label, whole amounts without ".0": the same lines for Slack's
    review view and Teams' review card, each adapter escaping them its own way."""
    bank = load_bank(review.review_locale)
    lines: list[tuple[str, str]] = []
    for qid, value in review.answers.items():
        question = bank.questions.get(qid)
        if question is None or value in (None, "", []):
            continue
        values = value if isinstance(value, list) else [value]
        lines.append((question.label, ", ".join(_shown(bank, qid, v) for v in values)))
    return lines


def _shown(bank: QuestionBank, qid: str, value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    try:
        # An answer is any JSON value; one that is no option's value comes back as it was.
        return str(bank.option_label(qid, cast(str, value)))
    except (KeyError, ValueError, TypeError, AttributeError):
        return str(value)
