"""Managers coach in Slack, end to end over signed HTTP against the Web API stand-in:
*Open review* from the digest, a coaching note to the rep, the rep's reply and *Mark as
done*, `/dealcoach prep @rep` — and another team's manager refused at every step. English and
Dutch, SQLite and PostgreSQL; every view and message validated with slack_sdk.models."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tests.slack.driver import sent_view, validate_blocks, validate_view
from tests.slack.harness import SlackSender
from tests.slack.mock_web_api import Call, MockSlackWebApi

from dealcoach.config import Settings
from dealcoach.services.coaching import ct
from dealcoach.slack.listeners.commands import parse_command

from .seed import MANAGER, OTHER_MANAGER, REP, seed_team

SLACK_LOCALE = {"en": "en-US", "nl": "nl-NL"}


def _blocks(params: dict[str, Any]) -> list[dict[str, Any]]:
    raw = params.get("blocks") or []
    blocks: list[dict[str, Any]] = json.loads(raw) if isinstance(raw, str) else raw
    return blocks


def _text_of(blocks: list[dict[str, Any]]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def _button(blocks: list[dict[str, Any]], prefix: str) -> dict[str, Any]:
    for block in blocks:
        for element in block.get("elements") or []:
            if str(element.get("action_id", "")).startswith(prefix):
                return dict(element)
    raise AssertionError(f"no button {prefix!r} in {_text_of(blocks)[:500]}")


def _dm(api: MockSlackWebApi, user: str, n: int) -> Call:
    calls = api.wait_for("chat.postMessage", n, where=lambda c: c.params.get("channel") == user)
    return calls[n - 1]


def _reply(api: MockSlackWebApi, n: int) -> dict[str, Any]:
    return dict(api.wait_for("response_url", n)[n - 1].params)


def _updated_view(api: MockSlackWebApi, n: int) -> dict[str, Any]:
    return sent_view(api.wait_for("views.update", n)[n - 1])


def test_help_names_prep(slack: SlackSender) -> None:
    assert "/dealcoach prep @rep" in slack.command("help").json()["text"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("prep <@UREP0001|rob>", ("prep", "<@UREP0001|rob>")),
        ("prep UREP0001", ("prep", "UREP0001")),
        ("voorbereiding <@UREP0001>", ("prep", "<@UREP0001>")),
        ("prep the Acme pitch", ("review", "prep the Acme pitch")),
        ("prep", ("review", "prep")),
    ],
)
def test_prep_is_reserved_only_with_one_person(text: str, expected: tuple[str, str]) -> None:
    assert parse_command(text) == expected


@pytest.mark.parametrize("locale", ["en", "nl"])
def test_a_manager_coaches_a_rep_from_the_digest(
    slack: SlackSender, slack_api: MockSlackWebApi, settings: Settings, locale: str
) -> None:
    seeded = seed_team(settings.database_url, locale=locale)
    for user in (MANAGER, REP, OTHER_MANAGER):
        slack_api.set_user(user, locale=SLACK_LOCALE[locale])
    replies = 0

    # 1. The digest (this week) offers *Open review* on the rep's risky deal.
    slack.command("digest this", user=MANAGER)
    replies += 1
    digest = _reply(slack_api, replies)
    blocks = _blocks(digest)
    validate_blocks(blocks)
    button = _button(blocks, "coaching_open_review")
    assert button["value"] == str(seeded.review_id)
    assert "Acme renewal" in button["text"]["text"]
    assert "Secret Omega" not in _text_of(blocks)  # never another team's deal

    # 2. Open review: the advice, the answers, the thread and a note input.
    slack.message_action(button["action_id"], value=button["value"], user=MANAGER)
    view = _updated_view(slack_api, 1)
    assert view["callback_id"] == "coaching_note"
    assert view["private_metadata"] == str(seeded.review_id)
    shown = _text_of(view["blocks"])
    assert ct(locale, "answers_title") in shown and ct(locale, "no_notes") in shown
    assert "Dana" in shown  # an answer
    assert any(b.get("block_id") == "coaching.note" for b in view["blocks"])

    # An outsider (another team's manager) clicking the same button sees a refusal only.
    slack.message_action(button["action_id"], value=button["value"], user=OTHER_MANAGER)
    refused = _updated_view(slack_api, 2)
    assert ct(locale, "refused.not_your_rep") in _text_of(refused["blocks"])
    assert "Dana" not in _text_of(refused["blocks"])
    assert "submit" not in refused

    # 3. The outsider submitting a note on it (a crafted submission) is refused.
    resp = slack.submit(view, {"coaching.note": "sneaky"}, user=OTHER_MANAGER)
    assert resp.json()["response_action"] == "errors"
    assert resp.json()["errors"]["coaching.note"] == ct(locale, "refused.not_your_rep")
    # An empty note is refused with a field error too.
    resp = slack.submit(view, {"coaching.note": "   "}, user=MANAGER)
    assert resp.json()["errors"]["coaching.note"] == ct(locale, "invalid.empty")

    # 4. The manager adds a note about one of the actions; user text is escaped.
    about = next(b for b in view["blocks"] if b.get("block_id") == "coaching.about")
    first_action = about["element"]["options"][0]["value"]
    resp = slack.submit(
        view,
        {"coaching.note": "Ask Dana <!channel> & the CFO", "coaching.about": first_action},
        user=MANAGER,
    )
    answer = resp.json()
    assert answer["response_action"] == "update"
    validate_view(answer["view"])
    assert "Ask Dana &lt;!channel&gt; &amp; the CFO" in _text_of(answer["view"]["blocks"])
    dm = _dm(slack_api, REP, 1)
    dm_blocks = _blocks(dm.params)
    validate_blocks(dm_blocks)
    assert "&lt;!channel&gt;" in _text_of(dm_blocks) and "<!channel>" not in _text_of(dm_blocks)
    assert f"<@{MANAGER}>" in _text_of(dm_blocks)
    reply_button = _button(dm_blocks, "coaching_reply")
    done_button = _button(dm_blocks, "coaching_done")
    note_id = reply_button["value"]
    assert done_button["value"] == note_id and done_button["text"]["text"] == ct(
        locale, "mark_done"
    )

    # 5. The rep replies; the manager gets the reply.
    slack.message_action("coaching_reply", value=note_id, user=REP)
    reply_view = sent_view(slack_api.wait_for("views.open", 3)[-1])
    assert reply_view["callback_id"] == "coaching_reply"
    resp = slack.submit(reply_view, {"coaching.reply": "Calling her Friday"}, user=REP)
    assert resp.json()["response_action"] == "update"
    to_manager = _dm(slack_api, MANAGER, 1)
    validate_blocks(_blocks(to_manager.params))
    assert "Calling her Friday" in _text_of(_blocks(to_manager.params))
    # The outsider cannot reply in the thread.
    resp = slack.submit(reply_view, {"coaching.reply": "me too"}, user=OTHER_MANAGER)
    assert resp.json()["errors"]["coaching.reply"] == ct(locale, "refused.not_your_note")

    # 6. Prep shows the open note; the outsider gets no prep of this rep.
    slack.command(f"prep <@{REP}|rob>", user=MANAGER)
    replies += 1
    prep = _reply(slack_api, replies)
    prep_blocks = _blocks(prep)
    validate_blocks(prep_blocks)
    page = _text_of(prep_blocks)
    assert "Acme renewal" in page and "Ask Dana &lt;!channel&gt;" in page
    slack.command(f"prep <@{REP}|rob>", user=OTHER_MANAGER)
    replies += 1
    assert _reply(slack_api, replies)["text"] == ct(locale, "refused.not_your_rep")

    # 7. The outsider cannot mark it done; the rep can (once), and the manager is told.
    slack.message_action("coaching_done", value=note_id, user=OTHER_MANAGER)
    replies += 1
    assert _reply(slack_api, replies)["text"] == ct(locale, "refused.not_your_note")
    slack.message_action("coaching_done", value=note_id, user=REP)
    replies += 1
    assert _reply(slack_api, replies)["text"] == ct(locale, "done_ack")
    told = _dm(slack_api, MANAGER, 2)
    validate_blocks(_blocks(told.params))
    slack.message_action("coaching_done", value=note_id, user=REP)
    replies += 1
    assert _reply(slack_api, replies)["text"] == ct(locale, "done_already")

    # The rep's history counts the review's notes and opens it with its thread.
    slack.command("history", user=REP)
    replies += 1
    history = _reply(slack_api, replies)
    assert ct(locale, "history_notes", notes=1, open=0) in str(history["text"])
    validate_blocks(_blocks(history))
    opener = _button(_blocks(history), "coaching_open_review")
    assert opener["value"] == str(seeded.review_id)
    slack.message_action(opener["action_id"], value=opener["value"], user=REP)
    own = _updated_view(slack_api, 3)
    assert "Calling her Friday" in _text_of(own["blocks"]) and "submit" not in own
    assert not any(b.get("block_id") == "coaching.note" for b in own["blocks"])

    # 8. Opened again, the review shows the thread: the note (done) and the reply.
    slack.message_action(button["action_id"], value=button["value"], user=MANAGER)
    again = _updated_view(slack_api, 4)
    thread = _text_of(again["blocks"])
    assert "Calling her Friday" in thread and ct(locale, "status_done") in thread
