"""The Block Kit of coaching messages (issue 16): the note a rep gets as a DM, a reply to the
other side of the thread, and the *done* notice to the note's author.

Shared by the coaching listener (`slack/listeners/coaching.py`, which posts in the workspace
a click came from) and `slack/notifier.SlackNotifier` (which posts to a Slack user when the
note was written, answered or closed elsewhere: another workspace, or Teams). User text is
escaped for mrkdwn (`coach.markup.escape_slack`); a person in another workspace or on another
platform is named, not mentioned.
"""

from __future__ import annotations

from typing import Any

from dealcoach.coach.markup import escape_slack
from dealcoach.services.coaching import Contact, NoteDelivery, ct
from dealcoach.slack import limits, modal

ACTION_REPLY = "coaching_reply"
ACTION_DONE = "coaching_done"

JSON = dict[str, Any]


def who(contact: Contact, team_id: str | None = None) -> str:
    """A Slack mention for someone in this Slack workspace, else their escaped name."""
    if contact.platform == "slack" and (team_id is None or contact.workspace_id == team_id):
        return f"<@{contact.user_id}>"
    return escape_slack(contact.name)


def deal(locale: str, name: str | None) -> str:
    return f"*{escape_slack(name)}*" if name else ct(locale, "unnamed_deal")


def section(text: str) -> JSON:
    return {"type": "section", "text": modal.mrkdwn(text or " ")}


def buttons(locale: str, note_id: int, *, done: bool) -> JSON:
    elements: list[JSON] = [
        {
            "type": "button",
            "action_id": ACTION_REPLY,
            "value": str(note_id),
            "text": modal.plain(ct(locale, "reply"), limits.BUTTON_TEXT),
        }
    ]
    if done:
        elements.append(
            {
                "type": "button",
                "action_id": ACTION_DONE,
                "style": "primary",
                "value": str(note_id),
                "text": modal.plain(ct(locale, "mark_done"), limits.BUTTON_TEXT),
            }
        )
    return {"type": "actions", "block_id": f"coaching_note_{note_id}", "elements": elements}


def _quoted(body: str) -> str:
    return "> " + escape_slack(body).replace("\n", "\n> ")


def note_message(delivery: NoteDelivery) -> tuple[list[JSON], str]:
    """The note as the rep gets it: who, which deal, the text, Reply / Mark as done."""
    rep = delivery.recipient
    assert rep is not None
    locale = rep.locale
    note = delivery.note
    intro = ct(
        locale,
        "note_dm_intro",
        manager=who(delivery.sender, rep.workspace_id),
        deal=deal(locale, delivery.deal_name),
    )
    quoted = _quoted(note.body)
    blocks: list[JSON] = [section(limits.clip(f"{intro}\n{quoted}", limits.SECTION_TEXT))]
    if note.action:
        blocks.append(
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": limits.clip(
                            ct(locale, "about", action=escape_slack(note.action)),
                            limits.CONTEXT_TEXT,
                        ),
                    }
                ],
            }
        )
    blocks.append(buttons(locale, note.note_id, done=True))
    blocks.append(
        {"type": "context", "elements": [{"type": "mrkdwn", "text": ct(locale, "note_dm_footer")}]}
    )
    return blocks, limits.clip(f"{intro}\n{quoted}", 3000)


def author_id(delivery: NoteDelivery) -> int | None:
    """The note author's person id, when the sender or the recipient is the author."""
    if delivery.sender.user_id == delivery.note.author_user_id:
        return delivery.sender.person_id
    if (
        delivery.recipient is not None
        and delivery.recipient.user_id == delivery.note.author_user_id
    ):
        return delivery.recipient.person_id
    return None


def reply_message(delivery: NoteDelivery) -> tuple[list[JSON], str]:
    """The thread's latest reply as the other side gets it, with *Reply* (and, for the rep
    while the note is open, *Mark as done*)."""
    other = delivery.recipient
    assert other is not None
    locale = other.locale
    latest = delivery.note.replies[-1] if delivery.note.replies else None
    body = latest.body if latest is not None else ""
    intro = ct(
        locale,
        "reply_dm",
        who=who(delivery.sender, other.workspace_id),
        deal=deal(locale, delivery.deal_name),
    )
    quoted = _quoted(body)
    # The rep (not the note's author) may also close the note from here.
    rep_side = other.person_id != author_id(delivery)
    blocks = [
        section(limits.clip(f"{intro}\n{quoted}", limits.SECTION_TEXT)),
        buttons(locale, delivery.note.note_id, done=rep_side and delivery.note.open),
    ]
    return blocks, limits.clip(f"{intro}\n{quoted}", 3000)


def done_message(delivery: NoteDelivery) -> tuple[list[JSON], str]:
    """The note was marked done: the notice to its author."""
    author = delivery.recipient
    assert author is not None
    text = ct(
        author.locale,
        "done_dm",
        who=who(delivery.sender, author.workspace_id),
        deal=deal(author.locale, delivery.deal_name),
    )
    return [section(text)], text
