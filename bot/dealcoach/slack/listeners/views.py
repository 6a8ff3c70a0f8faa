"""View submissions: each step of the review modal.

Per submission: read the step's answers from `view.state`, save them as the draft through
the review service (so nothing typed is lost, whatever happens next), and answer Slack in
the same request: `errors` for fields that need fixing, `update` with the next step, or —
when the machine has nothing left to ask — complete the review (idempotent on a key made
of the review id, so a double submit or a Slack retry completes it once), `clear` the modal
and send the advice as a DM.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from dealcoach.errors import Conflict, InvalidAnswer, InvalidAnswers
from dealcoach.slack import modal
from dealcoach.slack.advice import post_advice
from dealcoach.slack.context import require_deps, valid_review_id
from dealcoach.slack.flow import field_errors, make_actor, round_of, view_for
from dealcoach.slack.home import refresh_home

log = logging.getLogger("dealcoach.slack")


def completion_key(review_id: int) -> str:
    """One completion per review, however often the last step is submitted."""
    return f"slack:{review_id}:complete"


def register(app: AsyncApp) -> None:
    app.view_submission(modal.CALLBACK_REVIEW)(on_review_step)
    app.view_submission(modal.CALLBACK_RESUME)(on_plain_submit)
    app.view_submission(modal.CALLBACK_LOADING)(on_plain_submit)


async def on_plain_submit(ack: Any) -> None:
    await ack()


async def on_review_step(
    ack: Any, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient, context: Any
) -> None:
    deps = require_deps(context)
    review_id = valid_review_id(view.get("private_metadata"))
    context["dealcoach_review_id"] = str(review_id)
    actor = make_actor(body)
    raw = modal.answers_from_state(view)
    try:
        review = await deps.reviews.save_answers(actor, review_id, raw)
    except (InvalidAnswer, InvalidAnswers) as exc:
        current = await deps.reviews.get(actor, review_id)
        await ack(response_action="errors", errors=field_errors(exc, view, current.locale))
        return
    except Conflict:
        # Already completed (a double submit of the last step): the first request sent the
        # advice; this one only closes the modal.
        current = await deps.reviews.get(actor, review_id)
        if current.status == "completed":
            await ack(response_action="clear")
            return
        raise
    context["dealcoach_locale"] = review.locale
    next_view = view_for(review, after_round=round_of(view, review.locale))
    if next_view is not None:
        await ack(response_action="update", view=next_view)
        return
    completed = await deps.reviews.complete(actor, review_id, completion_key(review_id))
    await ack(response_action="clear")
    if completed.created:
        await post_advice(client, deps, actor, completed)
        await refresh_home(client, deps, actor)  # the Home tab lists the new review
