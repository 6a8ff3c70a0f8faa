"""Managers coach in Slack (issue 16): *Open review* from the digest, coaching notes with
*Reply* and *Mark as done*, and `/dealcoach prep @rep`.

- *Open review* (a digest button, value = review id): `views.open` at once (the trigger lives
  3 s), then the review — advice (with what changed), answers, the notes thread — and, for
  the rep's manager, a note input with an optional action the note is about.
- Submitting the note stores it (the service checks it is the rep's own manager), answers the
  modal with the updated thread, then DMs the rep the note with *Reply* / *Mark as done*.
- *Reply* opens a small modal; the reply goes to the other side of the thread as a DM.
- *Mark as done* closes the note and tells its author.
- Someone in this workspace gets the DM through this request's client; anyone else (another
  Slack workspace, or Teams: reporting lines may span platforms) through the notifier of
  their platform (`deps.relay`, a `services.notify.NoteRelay` set by `web.create_app`). A
  failed delivery is logged; the note stays with the review.
- `/dealcoach prep @rep`: the one-page 1:1 prep, ephemeral.

Every refusal is said in the asker's language (`prompts/<locale>/coaching.yaml`); every user
text is escaped for mrkdwn (`coach.markup.escape_slack`).
"""

from __future__ import annotations

import logging
import re
from typing import Any, TypeGuard

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from dealcoach.coach.markup import escape_slack
from dealcoach.digest.coaching import answer_lines, render_prep, thread_text, when
from dealcoach.errors import NotFound
from dealcoach.services.coaching import (
    CoachingRefused,
    Contact,
    ManagedReview,
    NoteDelivery,
    NoteInvalid,
    NoteView,
    ct,
)
from dealcoach.slack import limits, modal
from dealcoach.slack.advice import advice_blocks
from dealcoach.slack.coaching_blocks import (
    ACTION_DONE,
    ACTION_REPLY,
    done_message,
    note_message,
    reply_message,
)
from dealcoach.slack.coaching_blocks import deal as _deal
from dealcoach.slack.coaching_blocks import section as _section
from dealcoach.slack.coaching_blocks import who as _who
from dealcoach.slack.context import require_deps, valid_review_id
from dealcoach.slack.digest_blocks import ACTION_OPEN_REVIEW
from dealcoach.slack.flow import full_actor

log = logging.getLogger("dealcoach.slack")

VIEW_NOTE = "coaching_note"
VIEW_REPLY = "coaching_reply"
VIEW_INFO = "coaching_info"
BLOCK_NOTE = "coaching.note"
BLOCK_ABOUT = "coaching.about"
BLOCK_REPLY = "coaching.reply"
INPUT = "text"
ABOUT_INPUT = "about"

# `/dealcoach prep @rep` (en + nl); merged into commands.RESERVED.
RESERVED = {"prep": "prep", "voorbereiding": "prep", "1op1": "prep"}
_USER = re.compile(r"^(?:<@([UW][A-Z0-9]{2,20})(?:\|[^>]*)?>|([UW][A-Z0-9]{2,20}))$")
_QUALIFIED = re.compile(r"^(?:slack|teams|cli):\S{1,200}$")

JSON = dict[str, Any]


def accepts(rest: str) -> bool:
    """`prep <one person>`; anything else is a deal name (`prep the Acme pitch`)."""
    words = rest.split()
    return len(words) == 1 and bool(_USER.match(words[0]) or _QUALIFIED.match(words[0]))


def register(app: AsyncApp) -> None:
    app.action(re.compile(rf"^{ACTION_OPEN_REVIEW}(:\d+)?$"))(on_open_review)
    app.view(VIEW_NOTE)(on_note_submitted)
    app.action(ACTION_REPLY)(on_reply_clicked)
    app.view(VIEW_REPLY)(on_reply_submitted)
    app.action(ACTION_DONE)(on_done)


def _service(deps: Any) -> Any:
    return deps.services.async_coaching


def _value(body: JSON) -> str:
    actions = body.get("actions") or [{}]
    return str(actions[0].get("value") or "")


def _refusal(locale: str, err: CoachingRefused | NoteInvalid) -> str:
    prefix = "refused" if isinstance(err, CoachingRefused) else "invalid"
    return ct(locale, f"{prefix}.{err.key}")


def _title(locale: str, key: str) -> JSON:
    return modal.plain(ct(locale, key), limits.TITLE_TEXT)


# --- the review as its manager opens it -------------------------------------------------------


def answers_text(review: ManagedReview) -> str:
    return "\n".join(
        f"• {escape_slack(label)}: {escape_slack(shown)}" for label, shown in answer_lines(review)
    )


def review_view(review: ManagedReview, team_id: str | None) -> JSON:
    locale = review.locale
    note = ct(locale, "close")
    date = when(review.completed_at)
    head = (
        ct(
            locale,
            "review_of",
            rep=_who(review.rep, team_id),
            deal=_deal(locale, review.deal_name),
            date=date,
        )
        if review.viewer_is_manager
        else ct(locale, "review_own", deal=_deal(locale, review.deal_name), date=date)
    )
    advice, _ = advice_blocks(review.advice, str(review.review_id), buttons=False)
    blocks: list[JSON] = [_section(head), *advice]
    answers = answers_text(review)
    if answers:
        blocks += [
            {"type": "divider"},
            _section(
                limits.clip(f"*{ct(locale, 'answers_title')}*\n{answers}", limits.SECTION_TEXT, "")
            ),
        ]
    thread = thread_text(review.notes, locale, escape_slack) or ct(locale, "no_notes")
    blocks += [
        {"type": "divider"},
        _section(limits.clip(f"*{ct(locale, 'notes_title')}*\n{thread}", limits.SECTION_TEXT)),
    ]
    if review.earlier_notes:
        earlier = thread_text(review.earlier_notes, locale, escape_slack)
        blocks.append(
            _section(
                limits.clip(
                    f"*{ct(locale, 'earlier_notes_title')}*\n{earlier}", limits.SECTION_TEXT
                )
            )
        )
    inputs: list[JSON] = []
    if review.viewer_is_manager:
        rep = escape_slack(review.rep.name)
        inputs.append(
            {
                "type": "input",
                "block_id": BLOCK_NOTE,
                "label": modal.plain(
                    ct(locale, "note_label", rep=review.rep.name), limits.LABEL_TEXT
                ),
                "hint": modal.plain(ct(locale, "note_hint", rep=rep), limits.HINT_TEXT),
                "element": {
                    "type": "plain_text_input",
                    "action_id": INPUT,
                    "multiline": True,
                    "max_length": 1000,
                    "placeholder": modal.plain(ct(locale, "note_placeholder"), 150),
                },
            }
        )
        if review.actions:
            inputs.append(
                {
                    "type": "input",
                    "block_id": BLOCK_ABOUT,
                    "optional": True,
                    "label": modal.plain(ct(locale, "note_about"), limits.LABEL_TEXT),
                    "element": {
                        "type": "static_select",
                        "action_id": ABOUT_INPUT,
                        "options": [
                            {
                                "text": modal.plain(action, limits.OPTION_TEXT),
                                "value": str(n),
                            }
                            for n, action in enumerate(review.actions)
                        ],
                    },
                }
            )
    blocks = limits.fit_blocks(blocks, limits.VIEW_BLOCKS - len(inputs), note) + inputs
    view: JSON = {
        "type": "modal",
        "callback_id": VIEW_NOTE if review.viewer_is_manager else VIEW_INFO,
        "title": _title(locale, "review_title"),
        "close": _title(locale, "close"),
        "private_metadata": str(review.review_id),
        "blocks": blocks,
    }
    if review.viewer_is_manager:
        view["submit"] = _title(locale, "note_submit")
    return view


def info_view(locale: str, text: str) -> JSON:
    return {
        "type": "modal",
        "callback_id": VIEW_INFO,
        "title": _title(locale, "review_title"),
        "close": _title(locale, "close"),
        "blocks": [_section(limits.clip(text, limits.SECTION_TEXT))],
    }


async def on_open_review(ack: Any, body: JSON, client: AsyncWebClient, context: Any) -> None:
    await ack()
    deps = require_deps(context)
    review_id = valid_review_id(_value(body))
    context["dealcoach_review_id"] = str(review_id)
    opened = await client.views_open(
        trigger_id=body["trigger_id"], view=modal.loading_view(deps.settings.dealcoach_lang)
    )
    actor = await full_actor(deps, client, body)
    try:
        review = await _service(deps).open_review(actor, review_id)
        view = review_view(review, actor.workspace_id)
    except (CoachingRefused, NotFound) as err:
        locale = await deps.locale_for(actor)
        text = (
            _refusal(locale, err)
            if isinstance(err, CoachingRefused)
            else ct(locale, "refused.not_your_rep")
        )
        view = info_view(locale, text)
    await client.views_update(
        view_id=opened["view"]["id"], hash=opened["view"].get("hash"), view=view
    )


def _typed(view: JSON, block: str, action: str = INPUT) -> Any:
    state = ((view.get("state") or {}).get("values") or {}).get(block) or {}
    entry = state.get(action) or {}
    if "selected_option" in entry:
        return (entry.get("selected_option") or {}).get("value")
    return entry.get("value")


async def on_note_submitted(
    ack: Any, body: JSON, client: AsyncWebClient, context: Any, view: JSON
) -> None:
    deps = require_deps(context)
    review_id = valid_review_id(view.get("private_metadata"))
    context["dealcoach_review_id"] = str(review_id)
    actor = await full_actor(deps, client, body)
    service = _service(deps)
    about_index = _typed(view, BLOCK_ABOUT, ABOUT_INPUT)
    try:
        review = await service.open_review(actor, review_id)
        about = None
        if isinstance(about_index, str) and about_index.isdigit():
            index = int(about_index)
            about = review.actions[index] if index < len(review.actions) else None
        delivery = await service.add_note(actor, review_id, _typed(view, BLOCK_NOTE), about)
    except (CoachingRefused, NoteInvalid) as err:
        locale = await deps.locale_for(actor)
        await ack(response_action="errors", errors={BLOCK_NOTE: _refusal(locale, err)[:150]})
        return
    updated = await service.open_review(actor, review_id)
    rep = delivery.recipient
    assert rep is not None
    here = _here(rep, actor.workspace_id)
    done = ct(
        updated.locale,
        "note_sent" if here or _elsewhere(deps, rep) else "note_saved",
        rep=_who(rep, actor.workspace_id),
    )
    confirmation = review_view(updated, actor.workspace_id)
    confirmation["blocks"] = [_section(done), *confirmation["blocks"]][: limits.VIEW_BLOCKS]
    await ack(response_action="update", view=confirmation)
    if not delivery.changed:  # the same note again (a double submit): sent the first time
        return
    if here:
        await post_note(client, delivery)
    else:
        await _hand_over(deps, delivery)


def _here(contact: Contact | None, team_id: str) -> TypeGuard[Contact]:
    """Someone this request's client can DM: a Slack user of the same workspace."""
    return contact is not None and contact.platform == "slack" and contact.workspace_id == team_id


def _elsewhere(deps: Any, contact: Contact | None) -> bool:
    """Someone on another platform (or Slack workspace) the composition root's notifiers
    reach (`services.notify.NoteRelay`, set by `web.create_app`)."""
    relay = deps.relay
    return relay is not None and bool(relay.reaches(contact))


async def _hand_over(deps: Any, delivery: NoteDelivery) -> bool:
    """To the notifier of the recipient's platform; False (logged) when not delivered."""
    relay = deps.relay
    if relay is None or delivery.recipient is None:
        return False
    return bool(await relay.deliver(delivery))


# --- the rep's side ---------------------------------------------------------------------------


async def post_note(client: AsyncWebClient, delivery: NoteDelivery) -> None:
    assert delivery.recipient is not None
    blocks, text = note_message(delivery)
    await client.chat_postMessage(
        channel=delivery.recipient.user_id,
        text=text,
        blocks=blocks,
        unfurl_links=False,
        unfurl_media=False,
    )


def earlier_notes_message(locale: str, review_id: int, notes: Any) -> tuple[list[JSON], str]:
    """The manager's notes on the deal's earlier reviews, sent right after the advice of the
    rep's next review of it (issue 16), with *Open review* for the whole thread."""
    intro = ct(locale, "earlier_notes_intro")
    thread = thread_text(notes, locale, escape_slack)
    blocks: list[JSON] = [
        _section(limits.clip(f"*{intro}*\n{thread}", limits.SECTION_TEXT)),
        {
            "type": "actions",
            "block_id": "coaching_earlier",
            "elements": [
                {
                    "type": "button",
                    "action_id": ACTION_OPEN_REVIEW,
                    "value": str(review_id),
                    "text": modal.plain(ct(locale, "open_review"), limits.BUTTON_TEXT),
                }
            ],
        },
    ]
    return blocks, intro


async def post_earlier_notes(
    client: AsyncWebClient, actor: Any, review_id: int, locale: str, notes: tuple[NoteView, ...]
) -> None:
    """After a completed review's advice: the coaching its deal got before, if any (read
    with the completion: `CompletedReview.earlier_notes`)."""
    if not notes:
        return
    blocks, text = earlier_notes_message(locale, review_id, notes)
    await client.chat_postMessage(
        channel=actor.user_id, text=text, blocks=blocks, unfurl_links=False, unfurl_media=False
    )


def reply_view(locale: str, note_id: int) -> JSON:
    return {
        "type": "modal",
        "callback_id": VIEW_REPLY,
        "title": _title(locale, "reply_title"),
        "submit": _title(locale, "reply_submit"),
        "close": _title(locale, "close"),
        "private_metadata": str(note_id),
        "blocks": [
            {
                "type": "input",
                "block_id": BLOCK_REPLY,
                "label": modal.plain(ct(locale, "reply_label"), limits.LABEL_TEXT),
                "element": {
                    "type": "plain_text_input",
                    "action_id": INPUT,
                    "multiline": True,
                    "max_length": 1000,
                },
            }
        ],
    }


async def on_reply_clicked(ack: Any, body: JSON, client: AsyncWebClient, context: Any) -> None:
    await ack()
    deps = require_deps(context)
    note_id = valid_review_id(_value(body))  # a positive id, like a review's
    actor = await full_actor(deps, client, body)
    locale = await deps.locale_for(actor)
    await client.views_open(trigger_id=body["trigger_id"], view=reply_view(locale, note_id))


async def on_reply_submitted(
    ack: Any, body: JSON, client: AsyncWebClient, context: Any, view: JSON
) -> None:
    deps = require_deps(context)
    note_id = valid_review_id(view.get("private_metadata"))
    actor = await full_actor(deps, client, body)
    try:
        delivery = await _service(deps).reply(actor, note_id, _typed(view, BLOCK_REPLY))
    except (CoachingRefused, NoteInvalid, NotFound) as err:
        locale = await deps.locale_for(actor)
        text = (
            _refusal(locale, err)
            if not isinstance(err, NotFound)
            else ct(locale, "refused.not_your_note")
        )
        await ack(response_action="errors", errors={BLOCK_REPLY: text[:150]})
        return
    other = delivery.recipient
    locale = await deps.locale_for(actor)
    who = _who(other, actor.workspace_id) if other is not None else "-"
    await ack(response_action="update", view=info_view(locale, ct(locale, "reply_sent", who=who)))
    if not delivery.changed:  # the same reply again: sent the first time
        return
    if _here(other, actor.workspace_id):
        await post_reply(client, delivery)
    elif other is not None:
        await _hand_over(deps, delivery)


async def post_reply(client: AsyncWebClient, delivery: NoteDelivery) -> None:
    other = delivery.recipient
    assert other is not None
    blocks, text = reply_message(delivery)
    await client.chat_postMessage(
        channel=other.user_id, text=text, blocks=blocks, unfurl_links=False, unfurl_media=False
    )


async def on_done(ack: Any, body: JSON, client: AsyncWebClient, context: Any, respond: Any) -> None:
    await ack()
    deps = require_deps(context)
    note_id = valid_review_id(_value(body))
    actor = await full_actor(deps, client, body)
    locale = await deps.locale_for(actor)
    try:
        delivery = await _service(deps).mark_done(actor, note_id)
    except CoachingRefused as err:
        await respond(text=_refusal(locale, err), response_type="ephemeral", replace_original=False)
        return
    except NotFound:
        await respond(
            text=ct(locale, "refused.not_your_note"),
            response_type="ephemeral",
            replace_original=False,
        )
        return
    await respond(
        text=ct(locale, "done_ack" if delivery.changed else "done_already"),
        response_type="ephemeral",
        replace_original=False,
    )
    author = delivery.recipient  # None when nothing changed (done twice) or done by them
    if _here(author, actor.workspace_id):
        blocks, text = done_message(delivery)
        await client.chat_postMessage(channel=author.user_id, text=text, blocks=blocks)
    elif author is not None:
        await _hand_over(deps, delivery)


def history_buttons(locale: str, items: list[Any]) -> JSON:
    """`/dealcoach history`: *Open review* for each listed review that has coaching notes."""
    elements: list[JSON] = []
    for n, item in enumerate(items[:5]):
        name = item.deal_name or ct(locale, "unnamed_deal")
        label = ct(locale, "open_review_deal", deal=name).replace("<", "‹").replace(">", "›")
        elements.append(
            {
                "type": "button",
                "action_id": f"{ACTION_OPEN_REVIEW}:{n}",
                "value": str(item.review_id),
                "text": modal.plain(label, limits.BUTTON_TEXT),
            }
        )
    return {"type": "actions", "block_id": "coaching_history", "elements": elements}


# --- /dealcoach prep @rep -------------------------------------------------------------------


def member_id(arg: str) -> str:
    word = arg.strip()
    match = _USER.match(word)
    if match:
        return match.group(1) or match.group(2)
    return word


def prep_blocks(rendered: Any) -> list[JSON]:
    blocks: list[JSON] = [
        {"type": "header", "text": modal.plain(rendered.title or "-", limits.HEADER_TEXT)}
    ]
    for part in rendered.parts:
        blocks.append(_section(limits.clip(part, limits.SECTION_TEXT)))
    return blocks[: limits.MESSAGE_BLOCKS]


async def prep_command(
    client: AsyncWebClient, context: Any, command: JSON, respond: Any, arg: str
) -> None:
    deps = require_deps(context)
    actor = await full_actor(deps, client, command)
    locale = await deps.locale_for(actor)
    context["dealcoach_locale"] = locale
    try:
        prep = await _service(deps).prep(actor, member_id(arg))
    except (CoachingRefused, NoteInvalid) as err:
        await respond(text=_refusal(locale, err), response_type="ephemeral")
        return
    rendered = render_prep(prep, "slack")
    await respond(
        text=limits.clip(render_prep(prep, "text").text, 3000),
        blocks=prep_blocks(rendered),
        response_type="ephemeral",
    )
