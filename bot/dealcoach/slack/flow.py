"""The review flow in Slack terms, shared by the listeners.

Adapters hold no coaching logic: which questions come next is `coach.machine`'s decision
(through the review service), what the advice says is `coach.advice`'s. This module turns
those into modal views, field errors and messages.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from dealcoach.coach.bank import load_bank
from dealcoach.coach.machine import revisit_step
from dealcoach.errors import InvalidAnswer, InvalidAnswers
from dealcoach.slack import crm_blocks, modal
from dealcoach.slack.context import SlackDeps, slack_locale
from dealcoach.slack.strings import t

log = logging.getLogger("dealcoach.slack")

JSON = dict[str, Any]


def make_actor(
    body: Mapping[str, Any],
    *,
    display_name: str | None = None,
    locale: str | None = None,
    timezone: str | None = None,
    is_admin: bool = False,
) -> Any:
    """The services' `Actor` for whoever sent this payload (command or interaction)."""
    from dealcoach.services.actors import Actor

    user = body.get("user") or {}
    team = body.get("team") or {}
    user_id = body.get("user_id") or user.get("id")
    team_id = body.get("team_id") or team.get("id") or user.get("team_id")
    team_domain = body.get("team_domain") or team.get("domain")
    name = display_name or body.get("user_name") or user.get("name") or user.get("username")
    return Actor(
        platform="slack",
        workspace_id=str(team_id),
        user_id=str(user_id),
        display_name=name,
        locale=locale,
        timezone=timezone,
        workspace_name=team_domain,
        is_admin=is_admin,
    )


async def full_actor(deps: SlackDeps, client: AsyncWebClient, body: Mapping[str, Any]) -> Any:
    """An actor with the user's Slack locale and time zone (one cached `users.info`)."""
    base = make_actor(body)
    profile = await deps.profile(client, base.workspace_id, base.user_id)
    return make_actor(
        body,
        display_name=profile.display_name,
        locale=slack_locale(profile.locale),
        timezone=profile.timezone,
        is_admin=profile.is_admin,
    )


def step_number(bank: Any, round_id: str) -> int:
    ids = [r.id for r in bank.rounds]
    return ids.index(round_id) + 1 if round_id in ids else 1


def view_for(
    review: Any,
    *,
    after_round: str | None = None,
    step: Any = None,
    prefill: Mapping[str, Any] | None = None,
) -> JSON | None:
    """The modal view for a review's next step (None when it is ready for advice).

    The step is the machine's decision (`review.next_step`, from the service). When the
    machine has nothing left to ask but the review was reopened (*Update review*) or resumed
    with everything answered, the rounds after `after_round` (the round just submitted;
    None = from the start) are shown again, prefilled (`coach.machine.revisit_step`: whole
    rounds with the follow-ups that apply), so answers can be changed.
    `prefill` are values typed but not saved yet (kept when a person is added).
    """
    bank = load_bank(review.locale)
    step = step or review.next_step
    if step is None and review.status == "draft":
        step = revisit_step(bank, review.answers, after_round)
    if step is None:
        return None
    answers = dict(review.answers)
    if prefill:
        answers.update({k: v for k, v in prefill.items() if v is not None})
    last_round = bank.rounds[-1].id
    view = modal.step_view(
        locale=review.locale,
        bank=bank,
        step=step,
        review_id=str(review.review_id),
        answers=answers,
        step_number=step_number(bank, step.round),
        last=step.round == last_round,
    )
    # With a CRM connected, the first step offers the CRM's deals (issue 17).
    first = step.round == bank.rounds[0].id
    return crm_blocks.decorate_step(view, locale=review.locale, first_step=first)


def round_of(view: Mapping[str, Any], locale: str) -> str | None:
    """The round a submitted view showed (from its input block ids = question ids)."""
    bank = load_bank(locale)
    for block in view.get("blocks") or []:
        question = bank.questions.get(str(block.get("block_id") or ""))
        if block.get("type") == "input" and question is not None:
            return str(question.round)
    return None


def field_errors(
    error: InvalidAnswer | InvalidAnswers, view: Mapping[str, Any], locale: str
) -> dict[str, str]:
    """InvalidAnswer(s) → `response_action: errors` keyed by block id (= question id)."""
    raw = error.errors if isinstance(error, InvalidAnswers) else {error.question_id: error.reason}
    block_ids = [b.get("block_id") for b in view.get("blocks") or [] if b.get("type") == "input"]
    out: dict[str, str] = {}
    for qid, reason in raw.items():
        target = qid if qid in block_ids else (block_ids[0] if block_ids else qid)
        text = _friendly(reason, locale)
        out[target] = f"{out[target]} {text}" if target in out and target != qid else text
    return {k: v[:150] for k, v in out.items()}


def _friendly(reason: str, locale: str) -> str:
    if "required" in reason:
        return t(locale, "error.required")
    reason = reason.strip()
    return (reason[:1].upper() + reason[1:]) if reason else reason
