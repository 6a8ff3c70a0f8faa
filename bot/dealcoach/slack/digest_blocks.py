"""Block Kit for the manager features: the weekly digest and the review reminder.

Built from the digest's platform-neutral rendering (`RenderedDigest.slack`: the sections in
Slack mrkdwn, user text already escaped by the templates; `RenderedNudge.slack_text`), and
cut to Block Kit's limits (`slack.limits`) so a long digest never makes `chat.postMessage`
fail: ≤ 50 blocks, ≤ 3000 characters a section. Teams' counterpart is
`teams/digest_cards.py`. Pure: no client, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dealcoach.digest.nudges import NudgeModel, RenderedNudge
from dealcoach.digest.render import OpenReview, RenderedDigest, RenderedSections, text
from dealcoach.slack import limits

JSON = dict[str, Any]

# Action ids the listeners route on (`slack/listeners/coaching.py`, `…/manager.py`).
ACTION_OPEN_REVIEW = "coaching_open_review"  # *Open review* on a team digest (issue 16)
ACTION_NUDGE_REVIEW = "nudge_start_review"


def section_blocks(rendered: RenderedSections, locale: str) -> list[JSON]:
    """Header, one mrkdwn section per digest section (dividers between), footer context.

    Sections are cut at a line break, so a list loses whole lines, never half a deal."""
    note = text(locale, "truncated")
    blocks: list[JSON] = [
        {
            "type": "header",
            "text": {
                "type": "plain_text",
                "text": limits.clip(rendered.title, limits.HEADER_TEXT, at="\n") or "-",
            },
        }
    ]
    for section in rendered.sections:
        body = f"*{section.title}*\n{section.body}" if section.title else section.body
        if len(blocks) > 1:
            blocks.append({"type": "divider"})
        blocks.append(
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": limits.clip(body, limits.SECTION_TEXT, note, at="\n"),
                },
            }
        )
    blocks.append(
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": limits.clip(rendered.footer, limits.CONTEXT_TEXT, at="\n"),
                }
            ],
        }
    )
    # 10 sections (the monthly "What predicts a win" included) → at most 22 blocks; kept anyway.
    if len(blocks) > limits.MESSAGE_BLOCKS:
        blocks = [*blocks[: limits.MESSAGE_BLOCKS - 1], blocks[-1]]
    return blocks


def _button_text(label: str) -> str:
    """Plain text on a button: no `<`/`>` at all, so not even a client that parses plain
    text could read a deal called `<!channel>` as a mention."""
    cleaned = label.replace("<", "‹").replace(">", "›")
    return limits.clip(cleaned, limits.BUTTON_TEXT, at="\n") or "-"


def open_review_block(reviews: Sequence[OpenReview]) -> JSON:
    """One actions block, a button per review (value = review id)."""
    return {
        "type": "actions",
        "block_id": "dealcoach_open_reviews",
        "elements": [
            {
                "type": "button",
                "action_id": f"{ACTION_OPEN_REVIEW}:{n}",
                "value": str(r.review_id),
                "text": {"type": "plain_text", "text": _button_text(r.label), "emoji": True},
            }
            for n, r in enumerate(reviews)
        ],
    }


def digest_blocks(rendered: RenderedDigest) -> list[JSON]:
    """The digest message: its sections, then the *Open review* buttons of a team digest
    before the footer — never past Slack's 50 blocks."""
    blocks = section_blocks(rendered.slack, rendered.locale)
    reviews = rendered.extra.get("open_reviews")
    if reviews:
        blocks = [
            *blocks[:-1][: limits.MESSAGE_BLOCKS - 2],
            open_review_block(reviews),
            blocks[-1],
        ]
    return blocks


def nudge_blocks(nudge: NudgeModel, rendered: RenderedNudge) -> list[JSON]:
    """The reminder: its text, a button that starts a review of the stalest deal, a footer."""
    blocks: list[JSON] = [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": limits.clip(
                    f"*{rendered.title}*\n{rendered.slack_text}", limits.SECTION_TEXT
                ),
            },
        }
    ]
    if nudge.deals:
        blocks.append(
            {
                "type": "actions",
                "block_id": "dealcoach_nudge",
                "elements": [
                    {
                        "type": "button",
                        "action_id": ACTION_NUDGE_REVIEW,
                        "style": "primary",
                        "value": nudge.deals[0].deal_name[: limits.BUTTON_VALUE],
                        "text": {
                            "type": "plain_text",
                            "text": limits.clip(rendered.button, limits.BUTTON_TEXT),
                            "emoji": True,
                        },
                    }
                ],
            }
        )
    blocks.append(
        {
            "type": "context",
            "elements": [
                {"type": "mrkdwn", "text": limits.clip(rendered.footer, limits.CONTEXT_TEXT)}
            ],
        }
    )
    return blocks
