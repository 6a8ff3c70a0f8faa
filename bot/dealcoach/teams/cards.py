"""Adaptive Card builders for the Teams adapter (cards declare version 1.5).

Pure functions from coach/service data to card JSON (dicts); nothing here talks to Teams or
imports the Agents SDK, so the cards can be built and schema-checked anywhere.

Conventions:
- Each review step is one card; every input's `id` is the question id of DESIGN.md
  (`deal.name`, `agenda.2.role`, …), so a submitted card is `{question id: value}` plus our
  envelope (below).
- Every button is an `Action.Execute` (Universal Actions: Teams sends an `adaptiveCard/action`
  invoke and shows the card we answer with in place of the old one). Its `data` carries the
  envelope `{"verb", "review_id", "nonce", "qids"}`: `qids` names the questions this card
  showed, so a resubmitted old card only ever re-saves its own answers, and `nonce` makes
  the final submit's idempotency key.
- Size: Teams refuses a card over ~28 KB. The agenda round with six decision-makers and
  every follow-up is the biggest card (tests/teams/test_card_size.py measures it); a choice's
  help text, the same for every person, is shown once — under the first person's question.
- Text that came from users (deal names, answers, advice built from them) must arrive here
  already escaped for Teams markdown (`coach.markup.escape_teams`); input `value`s and choice
  titles are plain text and are not markdown-rendered, so they are passed as typed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from dealcoach.teams.strings import t

CARD_VERSION = "1.5"
SCHEMA_URL = "http://adaptivecards.io/schemas/adaptive-card.json"
CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"

# Verbs of our Action.Execute buttons (also put in `data.verb` for Action.Submit clients).
VERB_STEP = "dealcoach.step"
VERB_ADD_PERSON = "dealcoach.add_person"
VERB_UPDATE = "dealcoach.update"
VERB_OUTCOME = "dealcoach.outcome"
VERB_SHARE = "dealcoach.share"
VERB_NUDGE = "dealcoach.nudge_review"  # a reminder's "Review <deal>": starts a review
VERBS = (VERB_STEP, VERB_ADD_PERSON, VERB_UPDATE, VERB_OUTCOME, VERB_SHARE, VERB_NUDGE)

OUTCOMES = ("won", "lost", "walked_away")
OUTCOME_INPUT = "dealcoach.outcome"

# Adaptive Card JSON, as built here and sent as is: a whole card, or one element of it (a
# TextBlock, an Input.*, a Container, an Action.*, …).
Card = dict[str, Any]
Element = dict[str, Any]

# Teams renders up to ~28 KB of card JSON; stay well under it.
MAX_TEXT = 2000
_PERSON = re.compile(r"^agenda\.(\d+)\.")


class OptionLike(Protocol):
    @property
    def value(self) -> str: ...

    @property
    def label(self) -> str: ...


class QuestionLike(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def type(self) -> str: ...

    @property
    def required(self) -> bool: ...

    @property
    def label(self) -> str: ...

    @property
    def help(self) -> str | None: ...

    @property
    def max_length(self) -> int | None: ...

    @property
    def options(self) -> Sequence[OptionLike]: ...


# --- small pieces --------------------------------------------------------------------------


def card(body: list[Element], actions: list[Element] | None = None,
         *, fallback: str | None = None) -> Card:
    result: Card = {
        "type": "AdaptiveCard",
        "$schema": SCHEMA_URL,
        "version": CARD_VERSION,
        "body": body,
    }
    if actions:
        result["actions"] = actions
    if fallback:
        result["fallbackText"] = _cap(fallback)
    return result


def text(value: str, **props: object) -> Element:
    block: Element = {"type": "TextBlock", "text": _cap(value), "wrap": True}
    block.update(props)
    return block


def heading(value: str) -> Element:
    return text(value, weight="Bolder", size="Medium")


def execute(title: str, verb: str, data: Mapping[str, object], **props: object) -> Element:
    action: Element = {
        "type": "Action.Execute",
        "title": title,
        "verb": verb,
        "data": {"verb": verb, **data},
    }
    action.update(props)
    return action


def _cap(value: str, limit: int = MAX_TEXT) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _format_value(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


# --- review step -------------------------------------------------------------------------


def input_for(question: QuestionLike, value: object, locale: str) -> Element:
    """The Adaptive Card input for one question; its id is the question id."""
    element: Element
    if question.type in {"choice", "multi_choice"}:
        multi = question.type == "multi_choice"
        choices = [{"title": o.label, "value": o.value} for o in question.options]
        element = {
            "type": "Input.ChoiceSet",
            "id": question.id,
            "choices": choices,
            "style": "expanded" if multi or len(choices) <= 4 else "compact",
        }
        if multi:
            element["isMultiSelect"] = True
        if value not in (None, "", []):
            element["value"] = _format_value(value)
    else:  # text and number: free text, the coach parses "12.5k" and "12,000"
        element = {"type": "Input.Text", "id": question.id}
        limit = question.max_length
        if limit:
            element["maxLength"] = limit
        if question.type == "text" and (limit is None or limit > 200):
            element["isMultiline"] = True
        if question.help:
            element["placeholder"] = _cap(question.help, 300)
        if value not in (None, ""):
            element["value"] = _format_value(value)
    element["label"] = question.label
    if question.required:
        element["isRequired"] = True
        element["errorMessage"] = question.label
    return element


def step_card(
    *,
    review_id: str,
    questions: Sequence[QuestionLike],
    answers: Mapping[str, object],
    locale: str,
    round_id: str,
    round_title: str | None = None,
    round_intro: str | None = None,
    deal_name_md: str | None = None,
    step_number: int = 1,
    people: int = 1,
    can_add_person: bool = False,
    is_last: bool = False,
    errors: Mapping[str, str] | None = None,
    notice_md: str | None = None,
    nonce: str = "",
    page_md: str | None = None,
    extra: Mapping[str, object] | None = None,
    sections: Mapping[str, tuple[str, str | None]] | None = None,
) -> Card:
    """One page of the review as a card. `deal_name_md` / `notice_md` are already escaped.
    `page_md`: which decision-makers this page of the agenda shows; `extra`: more envelope
    (the page's `start` and `more`, see `review_cards`). `sections`: question id → (title,
    intro) of a round that starts at that question inside the page (a page may show more
    than one round, e.g. the warning signals closing the mutual-benefit page); the card's
    heading names the page's first round (`round_title`)."""
    errors = dict(errors or {})
    title = round_title or t(locale, f"round.{round_id}")
    body: list[Element] = [
        text(t(locale, "card.step", n=step_number, round=title), weight="Bolder", size="Medium"),
    ]
    if deal_name_md:
        body.append(text(deal_name_md, isSubtle=True, spacing="None"))
    if page_md:
        body.append(text(page_md, weight="Bolder", spacing="Small"))
    if notice_md:
        body.append(text(notice_md, color="Warning"))
    if round_intro:
        body.append(text(round_intro, size="Small"))
    if errors:
        body.append(text(t(locale, "card.fix"), color="Attention", weight="Bolder"))

    current_person: int | None = None
    items: list[Element] = body
    helped: set[str] = set()  # a choice's help is shown once (the same for every person)
    for question in questions:
        section = (sections or {}).get(question.id)
        if section is not None:  # another round on the same page: its heading and intro
            section_title, section_intro = section
            body.append(text(section_title, weight="Bolder", separator=True, spacing="Medium"))
            if section_intro:
                body.append(text(section_intro, size="Small", spacing="Small"))
            current_person, items = None, body
        match = _PERSON.match(question.id)
        person = int(match.group(1)) if match else None
        if person is not None and person != current_person:
            current_person = person
            container: Element = {
                "type": "Container",
                "separator": True,
                "spacing": "Medium",
                "items": [text(t(locale, "card.person", n=person), weight="Bolder")],
            }
            body.append(container)
            items = container["items"]
        elif person is None:
            items = body
        items.append(input_for(question, answers.get(question.id), locale))
        generic = _PERSON.sub("agenda.N.", question.id)
        if question.type in {"choice", "multi_choice"} and question.help \
                and generic not in helped:
            helped.add(generic)
            items.append(text(question.help, isSubtle=True, size="Small", spacing="None"))
        if question.id in errors:
            items.append(text(errors[question.id], color="Attention", size="Small", spacing="None"))
    # Errors for fields not on this card (should not happen) still reach the user.
    shown = {q.id for q in questions}
    for qid, message in errors.items():
        if qid not in shown:
            body.append(text(f"{qid}: {message}", color="Attention", size="Small"))

    envelope = {
        "review_id": review_id,
        "nonce": nonce,
        "qids": ",".join(q.id for q in questions),
        "people": people,
        **(extra or {}),
    }
    actions = [
        execute(t(locale, "card.finish" if is_last else "card.next"), VERB_STEP, envelope,
                style="positive"),
    ]
    if can_add_person:
        actions.append(execute(t(locale, "card.add_person"), VERB_ADD_PERSON,
                               {**envelope, "people": people + 1}))
    body.append(text(t(locale, "card.saved"), isSubtle=True, size="Small", separator=True))
    return card(body, actions, fallback=t(locale, "card.title"))


# --- advice ------------------------------------------------------------------------------


def advice_actions(review_id: str, locale: str, *, nonce: str = "",
                   outcome: str | None = None,
                   outcome_inputs: Sequence[Element] = ()) -> list[Element]:
    """The same three buttons as Slack: update, record outcome, share with manager.

    `outcome_inputs` go under the outcome's choice (the loss reason, issue 15), so one
    *Save outcome* carries both."""
    data = {"review_id": review_id, "nonce": nonce}
    outcome_card = card(
        [
            {
                "type": "Input.ChoiceSet",
                "id": OUTCOME_INPUT,
                "label": t(locale, "advice.outcome_pick"),
                "style": "expanded",
                "isRequired": True,
                "errorMessage": t(locale, "advice.outcome_pick"),
                "choices": [{"title": t(locale, f"outcome.{o}"), "value": o} for o in OUTCOMES],
                **({"value": outcome} if outcome else {}),
            },
            *outcome_inputs,
        ],
        [execute(t(locale, "advice.outcome_save"), VERB_OUTCOME, data, style="positive")],
    )
    del outcome_card["$schema"]  # a nested card takes no $schema / fallbackText
    return [
        execute(t(locale, "advice.update"), VERB_UPDATE, data),
        {"type": "Action.ShowCard", "title": t(locale, "advice.outcome"), "card": outcome_card},
        execute(t(locale, "advice.share"), VERB_SHARE, data),
    ]


def sections_card(
    sections: Sequence[tuple[str | None, str]],
    *,
    title_md: str | None = None,
    subtitle_md: str | None = None,
    facts: Sequence[tuple[str, str]] = (),
    actions: list[Element] | None = None,
    fallback: str | None = None,
    emphasis: str | None = None,
) -> Card:
    """A card of markdown sections: `[(heading or None, markdown body), …]`.

    All strings are Teams markdown and must already be escaped where they carry user text.
    """
    body: list[Element] = []
    if title_md:
        head: Element = {
            "type": "Container",
            "items": [text(title_md, weight="Bolder", size="Large")],
        }
        if subtitle_md:
            head["items"].append(text(subtitle_md, spacing="Small"))
        if emphasis:
            head["style"] = emphasis
        body.append(head)
    if facts:
        body.append({"type": "FactSet",
                     "facts": [{"title": _cap(k, 200), "value": _cap(v, 500)} for k, v in facts]})
    for section_heading, section_body in sections:
        if section_heading:
            body.append(text(section_heading, weight="Bolder", separator=True, spacing="Medium"))
        if section_body.strip():
            body.append(text(section_body, spacing="Small" if section_heading else "Default"))
    return card(body, actions, fallback=fallback)


# --- plain replies -----------------------------------------------------------------------


def message_card(body_md: str, *, title_md: str | None = None,
                 actions: list[Element] | None = None,
                 color: str | None = None) -> Card:
    body: list[Element] = []
    if title_md:
        body.append(heading(title_md))
    block = text(body_md)
    if color:
        block["color"] = color
    body.append(block)
    return card(body, actions, fallback=body_md)


def help_card(locale: str) -> Card:
    return message_card(t(locale, "help.body"), title_md=t(locale, "help.title"))


def history_card(rows: Sequence[tuple[str, str, str]], locale: str,
                 actions_for: Sequence[list[Element]] = ()) -> Card:
    """`rows` are (deal name escaped, date, status or recommendation)."""
    if not rows:
        return message_card(t(locale, "history.none"))
    body: list[Element] = [heading(t(locale, "history.header"))]
    for index, (deal, when, status) in enumerate(rows):
        column_set: Element = {
            "type": "ColumnSet",
            "separator": index > 0,
            "columns": [
                {"type": "Column", "width": "stretch", "items": [text(f"**{deal}**")]},
                {"type": "Column", "width": "auto", "items": [text(when, isSubtle=True)]},
                {"type": "Column", "width": "auto", "items": [text(status)]},
            ],
        }
        body.append(column_set)
        if index < len(actions_for) and actions_for[index]:
            body.append({"type": "ActionSet", "actions": actions_for[index]})
    return card(body, fallback=t(locale, "history.header"))
