"""The advice DM: Block Kit from the coach's `RenderedAdvice`, and its buttons.

The message goes to the user (`channel` = their user id) by `chat.postMessage` with a plain
fallback `text` and the DESIGN.md metadata (contract)::

    {"event_type": "deal_review_completed",
     "event_payload": {"quadrant", "recommendation", "flags", "review_id"}}

User text reaches the blocks only through the coach's Slack flavor, whose Jinja2 finalize
escapes `& < >`, so `<!channel>` typed in an answer is shown, never pings. The header is
plain text (rendered with the text flavor, since Slack shows plain_text literally).

Under the advice, each move the service offers (`CompletedReview.plan_candidates`, at most
3 now + 3 later) gets a short section with an *Add to plan* button (`advice_plan:<n>`, value
`<n>|<review id>`; `plan_blocks.add_to_plan_blocks`), or "in the plan" when the deal's plan
has it already: at most 7 blocks, so header, advice, those and the buttons stay ≤ 50.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from dealcoach.coach.advice import render_advice
from dealcoach.slack import crm_blocks, limits
from dealcoach.slack.context import SlackDeps
from dealcoach.slack.plan_blocks import Candidate, add_to_plan_blocks, candidates_of
from dealcoach.slack.strings import t

log = logging.getLogger("dealcoach.slack")

EVENT_TYPE = "deal_review_completed"
ACTION_UPDATE = "advice_update"
ACTION_OUTCOME = "advice_outcome"
ACTION_SHARE = "advice_share"
BLOCK_ADVICE_ACTIONS = "dealcoach_advice_actions"
OUTCOMES = ("won", "lost", "walked_away")

JSON = dict[str, Any]


def advice_metadata(review_id: str, assessment: Any) -> JSON:
    return {
        "event_type": EVENT_TYPE,
        "event_payload": {
            "quadrant": assessment.quadrant,
            "recommendation": assessment.recommendation,
            "flags": list(assessment.flags),
            "review_id": review_id,
        },
    }


def advice_blocks(
    model: Any,
    review_id: str,
    *,
    buttons: bool = True,
    candidates: Sequence[Candidate] = (),
) -> tuple[list[JSON], str]:
    """(blocks, fallback text) for an AdviceModel; always within Block Kit limits.
    `candidates`: the moves offered with *Add to plan* (issue 15), one short section with a
    button each under the advice (only with `buttons`); the advice itself is cut first when
    the message would pass 50 blocks."""
    locale = model.locale
    note = t(locale, "modal.truncated")
    slack = render_advice(model, "slack")
    plain = render_advice(model, "text")
    blocks: list[JSON] = [
        {
            "type": "header",
            "text": {
                "type": "plain_text",
                "emoji": True,
                "text": limits.clip(plain.title, limits.HEADER_TEXT) or "-",
            },
        },
    ]
    if slack.verdict:
        blocks.append(_section(slack.verdict, note))
    for section in slack.sections:
        if section.id == "verdict":
            continue
        text = f"*{section.title}*\n{section.body}" if section.title else section.body
        blocks.append({"type": "divider"})
        blocks.append(_section(text, note))
    context = {
        "type": "context",
        "elements": [
            {
                "type": "mrkdwn",
                "text": limits.clip(
                    t(locale, "advice.review_id", review=review_id), limits.CONTEXT_TEXT
                ),
            },
        ],
    }
    tail = [context]
    if buttons:
        tail = [*add_to_plan_blocks(locale, review_id, candidates), _buttons(locale, review_id)]
        tail.append(context)
    room = limits.MESSAGE_BLOCKS - len(tail)
    body = limits.fit_blocks(blocks, room, note)
    fallback = limits.clip(slack.fallback, limits.MESSAGE_TEXT - 200, note)
    return body + tail, fallback


def _section(text: str, note: str) -> JSON:
    return {
        "type": "section",
        "text": {"type": "mrkdwn", "text": limits.clip(text, limits.SECTION_TEXT, note) or " "},
    }


def _buttons(locale: str, review_id: str) -> JSON:
    return {
        "type": "actions",
        "block_id": BLOCK_ADVICE_ACTIONS,
        "elements": [
            {
                "type": "button",
                "action_id": ACTION_UPDATE,
                "value": review_id,
                "text": {"type": "plain_text", "text": t(locale, "advice.update"), "emoji": True},
            },
            {
                "type": "static_select",
                "action_id": ACTION_OUTCOME,
                "placeholder": {
                    "type": "plain_text",
                    "text": t(locale, "advice.outcome"),
                    "emoji": True,
                },
                "options": [
                    {
                        "text": {
                            "type": "plain_text",
                            "text": t(locale, f"outcome.{o}"),
                            "emoji": True,
                        },
                        "value": f"{o}|{review_id}",
                    }
                    for o in OUTCOMES
                ],
            },
            {
                "type": "button",
                "action_id": ACTION_SHARE,
                "value": review_id,
                "text": {"type": "plain_text", "text": t(locale, "advice.share"), "emoji": True},
            },
            *crm_blocks.save_buttons(locale, review_id),  # with a CRM (issue 17)
        ],
    }


async def post_advice(client: AsyncWebClient, deps: SlackDeps, actor: Any, completed: Any) -> None:
    """DM the advice to the reviewer, with the DESIGN.md metadata."""
    review_id = str(completed.review_id)
    blocks, fallback = advice_blocks(
        completed.advice, review_id, candidates=candidates_of(completed)
    )
    await client.chat_postMessage(
        channel=actor.user_id,
        text=fallback,
        blocks=blocks,
        metadata=advice_metadata(review_id, completed.assessment),
        unfurl_links=False,
        unfurl_media=False,
    )
    metrics = deps.metrics
    if metrics is not None:
        metrics.review_completed(completed.assessment.recommendation, platform="slack")


async def share_with_manager(
    client: AsyncWebClient, deps: SlackDeps, actor: Any, review_id: int
) -> str:
    """Post the review's advice to the user's manager; the reply for the user."""
    shared = await deps.share(actor, review_id)
    locale = shared.locale
    manager = shared.manager_user_id
    if not manager:
        return t(locale, "share.none")
    blocks, fallback = advice_blocks(shared.advice, str(review_id), buttons=False)
    header = {
        "type": "section",
        "text": {"type": "mrkdwn", "text": t(locale, "share.header", user=actor.user_id)},
    }
    await client.chat_postMessage(
        channel=manager,
        text=t(locale, "share.header", user=actor.user_id) + "\n" + fallback,
        blocks=[header, *blocks[: limits.MESSAGE_BLOCKS - 1]],
        unfurl_links=False,
        unfurl_media=False,
    )
    return t(locale, "share.sent", manager=manager)
