"""The review flow in Slack terms, shared by the listeners.

Adapters hold no coaching logic: which step comes next is the review service's decision
(`ReviewView.show`), what the advice says is `coach.advice`'s. This module turns those into
modal views, field errors and messages.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from slack_sdk.web.async_client import AsyncWebClient

from dealcoach.coach.bank import load_bank
from dealcoach.errors import InvalidAnswer, InvalidAnswers
from dealcoach.services.actors import Actor
from dealcoach.slack import crm_blocks, modal
from dealcoach.slack.context import SlackDeps, slack_locale
from dealcoach.slack.strings import t

if TYPE_CHECKING:
    from dealcoach.services.reviews import ReviewView

log = logging.getLogger("dealcoach.slack")

JSON = dict[str, Any]


def make_actor(
    body: Mapping[str, Any],
    *,
    display_name: str | None = None,
    locale: str | None = None,
    timezone: str | None = None,
    is_admin: bool = False,
) -> Actor:
    """The services' `Actor` for whoever sent this payload (command or interaction)."""
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


async def full_actor(deps: SlackDeps, client: AsyncWebClient, body: Mapping[str, Any]) -> Actor:
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


def view_for(review: ReviewView, *, prefill: Mapping[str, Any] | None = None) -> JSON | None:
    """The modal view of the step the service says to show (`review.show`), prefilled with
    the review's answers; None when nothing is left to show (the review is ready for advice,
    or completed). `prefill` are values typed but not saved yet (kept when a person is added,
    or a CRM deal is picked)."""
    show = review.show
    if show is None:
        return None
    answers = dict(review.answers)
    if prefill:
        answers.update({k: v for k, v in prefill.items() if v is not None})
    view = modal.step_view(
        locale=review.locale,
        bank=load_bank(review.locale),
        step=show.step,
        review_id=str(review.review_id),
        answers=answers,
        step_number=show.number,
        last=show.is_last,
    )
    # With a CRM connected, the first step offers the CRM's deals (issue 17).
    return crm_blocks.decorate_step(view, locale=review.locale, first_step=show.is_first)


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
