"""Managers coach in Teams (issue 16), shaped like Slack's `slack/listeners/coaching.py`:
*Open review* on the digest card, a coaching note sent to the rep as a card with *Reply* and
*Mark as done*, replies back to the other side, and `prep @rep`. Someone on another platform
(a Slack manager or rep: reporting lines may span platforms) is reached through the notifier
of their platform (`deps.relay`, a `services.notify.NoteRelay` set by `web.create_app`).

All buttons are `Action.Execute` with verbs `dealcoach.coaching.*`; `routing` hands them
here (`card_action`). Refusals come back as a short card in the asker's language
(`prompts/<locale>/coaching.yaml`); user text is escaped for Teams markdown.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from dealcoach.coach.advice import render_advice
from dealcoach.coach.markup import escape_teams
from dealcoach.digest.coaching import answer_lines, render_prep, thread_text, when
from dealcoach.digest.render import OpenReview
from dealcoach.errors import DeliveryError, InputError, NotFound
from dealcoach.services.actors import Actor
from dealcoach.services.coaching import (
    CoachingRefused,
    Contact,
    ManagedReview,
    NoteDelivery,
    NoteInvalid,
    NoteView,
    ct,
)
from dealcoach.teams import cards
from dealcoach.teams.advice import advice_card
from dealcoach.teams.cards import Card, Element
from dealcoach.teams.context import TeamsDeps
from dealcoach.teams.payload import CardData
from dealcoach.teams.replies import Reply

__all__ = ["VERBS", "card_action", "ct", "open_review_actions", "prep"]

log = logging.getLogger("dealcoach.teams")

VERB_OPEN = "dealcoach.coaching.open"
VERB_NOTE = "dealcoach.coaching.note"
VERB_REPLY = "dealcoach.coaching.reply"
VERB_DONE = "dealcoach.coaching.done"
VERBS = (VERB_OPEN, VERB_NOTE, VERB_REPLY, VERB_DONE)
NOTE_INPUT = "coaching.note"
ABOUT_INPUT = "coaching.about"
REPLY_INPUT = "coaching.reply"


def _id(data: CardData, key: str) -> int:
    raw = str(data.get(key) or "").strip()
    if not raw.isdigit() or len(raw) > 18:
        raise InputError("the card names nothing we know")
    return int(raw)


def _deal(locale: str, name: str | None) -> str:
    return f"**{escape_teams(name)}**" if name else ct(locale, "unnamed_deal")


def _quote(value: str) -> str:
    return "\n".join(f"> {line}" for line in value.splitlines() or [""])


def open_review_actions(rendered_extra: Mapping[str, Sequence[OpenReview]]) -> list[Element]:
    """The digest card's *Open review* buttons (from `RenderedDigest.extra`)."""
    return [
        cards.execute(r.label[:75], VERB_OPEN, {"review_id": str(r.review_id)})
        for r in rendered_extra.get("open_reviews") or ()
    ]


def answers_md(review: ManagedReview) -> str:
    return "\n".join(
        f"- {escape_teams(label)}: {escape_teams(shown)}" for label, shown in answer_lines(review)
    )


def earlier_notes_items(locale: str, review_id: int,
                        notes: Sequence[NoteView]) -> list[Element]:
    """Under the advice of the rep's next review of a deal: the manager's notes on its
    earlier reviews (issue 16), with *Open review* for the whole thread."""
    return [
        cards.text(ct(locale, "earlier_notes_intro"), weight="Bolder", separator=True),
        cards.text(thread_text(notes, locale, escape_teams, quote=_quote)),
        {
            "type": "ActionSet",
            "actions": [
                cards.execute(ct(locale, "open_review"), VERB_OPEN, {"review_id": str(review_id)})
            ],
        },
    ]


def review_card(review: ManagedReview) -> Card:
    locale = review.locale
    date = when(review.completed_at)
    head = (
        ct(
            locale,
            "review_of",
            rep=escape_teams(review.rep.name),
            deal=_deal(locale, review.deal_name),
            date=date,
        )
        if review.viewer_is_manager
        else ct(locale, "review_own", deal=_deal(locale, review.deal_name), date=date)
    )
    rendered = render_advice(review.advice, "teams")
    card = advice_card(
        rendered,
        review_id=str(review.review_id),
        locale=review.review_locale,
        recommendation=review.recommendation,
        with_actions=False,
        header_md=head,
    )
    body = card["body"]
    answers = answers_md(review)
    if answers:
        body.append(cards.text(ct(locale, "answers_title"), weight="Bolder", separator=True))
        body.append(cards.text(answers))
    thread = thread_text(review.notes, locale, escape_teams, quote=_quote)
    body.append(cards.text(ct(locale, "notes_title"), weight="Bolder", separator=True))
    body.append(cards.text(thread or ct(locale, "no_notes")))
    if review.earlier_notes:
        body.append(cards.text(ct(locale, "earlier_notes_title"), weight="Bolder"))
        body.append(
            cards.text(thread_text(review.earlier_notes, locale, escape_teams, quote=_quote))
        )
    if review.viewer_is_manager:
        body.append(
            {
                "type": "Input.Text",
                "id": NOTE_INPUT,
                "label": ct(locale, "note_label", rep=review.rep.name),
                "placeholder": ct(locale, "note_placeholder"),
                "isMultiline": True,
                "maxLength": 1000,
                "isRequired": True,
                "errorMessage": ct(locale, "invalid.empty"),
            }
        )
        if review.actions:
            body.append(
                {
                    "type": "Input.ChoiceSet",
                    "id": ABOUT_INPUT,
                    "label": ct(locale, "note_about"),
                    "style": "compact",
                    "choices": [
                        {"title": a[:200], "value": str(n)} for n, a in enumerate(review.actions)
                    ],
                }
            )
        card["actions"] = [
            cards.execute(
                ct(locale, "note_submit"),
                VERB_NOTE,
                {"review_id": str(review.review_id)},
                style="positive",
            ),
        ]
    return card


def note_card(delivery: NoteDelivery, *, reply_prompt: bool, done_button: bool) -> Card:
    """A note (or the latest reply) as its recipient gets it, with Reply / Mark as done."""
    to = delivery.recipient
    assert to is not None
    locale = to.locale
    note = delivery.note
    if delivery.kind == "note":
        intro = ct(
            locale,
            "note_dm_intro",
            manager=escape_teams(delivery.sender.name),
            deal=_deal(locale, delivery.deal_name),
        )
        text = note.body
    else:
        intro = ct(
            locale,
            "reply_dm",
            who=escape_teams(delivery.sender.name),
            deal=_deal(locale, delivery.deal_name),
        )
        text = note.replies[-1].body if note.replies else ""
    body: list[Element] = [cards.text(intro), cards.text(_quote(escape_teams(text)))]
    if delivery.kind == "note" and note.action:
        body.append(
            cards.text(
                ct(locale, "about", action=escape_teams(note.action)), isSubtle=True, size="Small"
            )
        )
    actions: list[Element] = []
    if reply_prompt:
        body.append(
            {
                "type": "Input.Text",
                "id": REPLY_INPUT,
                "label": ct(locale, "reply_label"),
                "isMultiline": True,
                "maxLength": 1000,
            }
        )
        actions.append(
            cards.execute(ct(locale, "reply"), VERB_REPLY, {"note_id": str(note.note_id)})
        )
    if done_button:
        actions.append(
            cards.execute(
                ct(locale, "mark_done"), VERB_DONE, {"note_id": str(note.note_id)}, style="positive"
            )
        )
        body.append(cards.text(ct(locale, "note_dm_footer"), isSubtle=True, size="Small"))
    return cards.card(body, actions or None, fallback=f"{intro}\n{text}")


def reply_card(delivery: NoteDelivery) -> Card:
    """The thread's latest reply as the other side gets it: *Reply*, and for the rep (not
    the note's author) *Mark as done* while the note is open."""
    other = delivery.recipient
    assert other is not None
    to_rep = other.user_id != delivery.note.author_user_id
    return note_card(delivery, reply_prompt=True, done_button=to_rep and delivery.note.open)


def done_card(delivery: NoteDelivery) -> Card:
    """The note was marked done: the notice to its author."""
    author = delivery.recipient
    assert author is not None
    text = ct(
        author.locale,
        "done_dm",
        who=escape_teams(delivery.sender.name),
        deal=_deal(author.locale, delivery.deal_name),
    )
    return cards.message_card(text)


def _refused(locale: str, err: CoachingRefused | NoteInvalid) -> str:
    prefix = "refused" if isinstance(err, CoachingRefused) else "invalid"
    return ct(locale, f"{prefix}.{err.key}")


async def card_action(
    deps: TeamsDeps, actor: Actor, locale: str, verb: str, data: CardData
) -> Reply:
    """One of the coaching buttons (`VERBS`); a refusal is a short card in `locale`."""
    try:
        if verb == VERB_OPEN:
            review = await deps.coaching.open_review(actor, _id(data, "review_id"))
            return Reply(card=review_card(review))
        if verb == VERB_NOTE:
            return await _note(deps, actor, data)
        if verb == VERB_REPLY:
            return await _reply(deps, actor, locale, data)
        return await _done(deps, actor, locale, data)
    except (CoachingRefused, NoteInvalid) as err:
        return Reply(card=cards.message_card(_refused(locale, err), color="Attention"))
    except NotFound:
        key = (
            "refused.not_your_rep"
            if verb in (VERB_OPEN, VERB_NOTE)
            else ("refused.not_your_note")
        )
        return Reply(card=cards.message_card(ct(locale, key), color="Attention"))


async def _note(deps: TeamsDeps, actor: Actor, data: CardData) -> Reply:
    service = deps.coaching
    review_id = _id(data, "review_id")
    review = await service.open_review(actor, review_id)
    about = None
    raw_about = str(data.get(ABOUT_INPUT) or "")
    if raw_about.isdigit() and int(raw_about) < len(review.actions):
        about = review.actions[int(raw_about)]
    delivery = await service.add_note(actor, review_id, data.get(NOTE_INPUT), about)
    updated = await service.open_review(actor, review_id)
    sent = await _send(deps, delivery,
                       note_card(delivery, reply_prompt=True, done_button=True))
    card = review_card(updated)
    rep = delivery.recipient
    assert rep is not None
    key = "note_sent" if sent else "note_saved"
    card["body"].insert(
        0, cards.text(ct(updated.locale, key, rep=escape_teams(rep.name)), color="Good")
    )
    return Reply(card=card)


async def _reply(deps: TeamsDeps, actor: Actor, locale: str, data: CardData) -> Reply:
    delivery = await deps.coaching.reply(actor, _id(data, "note_id"), data.get(REPLY_INPUT))
    other = delivery.recipient
    if other is not None:
        await _send(deps, delivery, reply_card(delivery))
    who = escape_teams(other.name) if other is not None else "-"
    return Reply(card=cards.message_card(ct(locale, "reply_sent", who=who), color="Good"))


async def _done(deps: TeamsDeps, actor: Actor, locale: str, data: CardData) -> Reply:
    delivery = await deps.coaching.mark_done(actor, _id(data, "note_id"))
    if delivery.recipient is not None:  # None: nothing changed, or done by its author
        await _send(deps, delivery, done_card(delivery))
    key = "done_ack" if delivery.changed else "done_already"
    return Reply(card=cards.message_card(ct(locale, key), color="Good"))


async def _send(deps: TeamsDeps, delivery: NoteDelivery, card: Card) -> bool:
    """To the recipient: their Teams chat (the stored reference) when they are on Teams, else
    the notifier of their platform (`deps.relay`: a Slack DM). False when they cannot be
    reached (logged); the note stays with the review either way."""
    to: Contact | None = delivery.recipient
    if to is None:
        return False
    if not delivery.changed:  # the same note or reply again (a resubmitted card): sent before
        return True
    if to.platform != "teams":
        return deps.relay is not None and await deps.relay.deliver(delivery)
    sender = deps.sender
    if to.conversation_ref is None or sender is None:
        return False
    try:
        await sender.send_card(to.conversation_ref, card)
    except DeliveryError as err:
        log.warning("coaching note not delivered: %s", err)
        return False
    return True


async def prep(deps: TeamsDeps, actor: Actor, locale: str, arg: str) -> Card | str:
    """`prep @rep`: the 1:1 preparation card, or why not."""
    try:
        prepared = await deps.coaching.prep(actor, arg.strip())
    except (CoachingRefused, NoteInvalid) as err:
        return _refused(locale, err)
    rendered = render_prep(prepared, "teams")
    return cards.sections_card(
        [(None, part) for part in rendered.parts],
        title_md=rendered.title,
        fallback=render_prep(prepared, "text").text,
    )
