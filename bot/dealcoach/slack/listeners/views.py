"""View submissions: each step of the review modal.

Per submission, one transaction (`save_step`): the step's answers from `view.state` saved as
the draft (so nothing typed is lost, whatever happens next) and, when the service has
nothing left to show, the review completed (idempotent on a key made of the review id, so a
double submit or a Slack retry completes it once). Slack is answered in the same request:
`errors` for fields that need fixing, `update` with the step the service says to show, or
`clear` the modal and send the advice as a DM (not again for a review completed before).

When a step is not answered within `ACK_BUDGET_SECONDS` (an overloaded server or database),
it is acknowledged in time with a "saving…" view (`response_action: update`) and the
answer follows with `views.update`: no Bolt 404 for a step that is being saved.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from dealcoach.errors import DealcoachError
from dealcoach.services.reviews import InvalidStep
from dealcoach.slack import modal
from dealcoach.slack.advice import post_advice
from dealcoach.slack.context import (
    SlackDeps,
    request_age,
    require_deps,
    slack_locale,
    valid_review_id,
)
from dealcoach.slack.flow import field_errors, full_actor, make_actor, view_for
from dealcoach.slack.home import refresh_home
from dealcoach.slack.listeners.coaching import post_earlier_notes
from dealcoach.slack.strings import t

if TYPE_CHECKING:
    from dealcoach.services.actors import Actor
    from dealcoach.services.reviews import CompletedReview, SavedStep

log = logging.getLogger("dealcoach.slack")

# Slack waits 3 s for the answer to a view submission. A step not answered this long after
# its request arrived is acknowledged with a "saving…" view and followed by views.update.
ACK_BUDGET_SECONDS = 2.0


def completion_key(review_id: int) -> str:
    """One completion per review, however often the last step is submitted."""
    return f"slack:{review_id}:complete"


def register(app: AsyncApp) -> None:
    app.view_submission(modal.CALLBACK_REVIEW)(on_review_step)
    app.view_submission(modal.CALLBACK_RESUME)(on_plain_submit)
    app.view_submission(modal.CALLBACK_LOADING)(on_plain_submit)


async def on_plain_submit(ack: Any) -> None:
    await ack()


@dataclass
class _Reply:
    """How a step is answered: `errors`, `update` with the next view, or `clear`."""

    action: str
    locale: str
    view: dict[str, Any] | None = None
    errors: dict[str, str] | None = None
    # The review's advice when this step completed it (`created`), or when it was completed
    # before (a double submit of the last step: `created=False`, no second DM).
    completed: CompletedReview | None = None


async def _answer_step(
    deps: SlackDeps, actor: Actor, review_id: int, view: dict[str, Any]
) -> _Reply:
    raw = modal.answers_from_state(view)
    shown = [str(b.get("block_id")) for b in view.get("blocks") or [] if b.get("type") == "input"]
    try:
        # Saved, and completed when nothing is left to show, in one transaction.
        async with deps.work_slot():
            saved: SavedStep = await deps.reviews.save_step(
                actor, review_id, raw, completion_key(review_id), shown
            )
    except InvalidStep as exc:  # nothing saved; the modal stays as it is, with the errors
        return _Reply("errors", exc.locale, errors=field_errors(exc, view, exc.locale))
    review = saved.review
    if saved.completed is not None:
        return _Reply("clear", review.locale, completed=saved.completed)
    next_view = view_for(review)
    if next_view is not None:
        return _Reply("update", review.locale, view=next_view)
    # Nothing left to show but not completed with the step: its key is another review's.
    # The step is saved; `complete` reports the Conflict.
    completed = await deps.reviews.complete(actor, review_id, completion_key(review_id))
    return _Reply("clear", review.locale, completed=completed)


async def on_review_step(
    ack: Any, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient, context: Any
) -> None:
    deps = require_deps(context)
    review_id = valid_review_id(view.get("private_metadata"))
    context["dealcoach_review_id"] = str(review_id)
    actor = make_actor(body)
    work = asyncio.ensure_future(_answer_step(deps, actor, review_id, view))
    budget = max(0.0, ACK_BUDGET_SECONDS - request_age())
    done, _ = await asyncio.wait({work}, timeout=budget)
    if work in done:
        reply = work.result()  # a failure goes to the error handler while it can still ack
        context["dealcoach_locale"] = reply.locale
        if reply.action == "errors":
            await ack(response_action="errors", errors=reply.errors)
        elif reply.action == "update":
            await ack(response_action="update", view=reply.view)
        else:
            await ack(response_action="clear")
    else:
        reply_or_none = await _answer_late(ack, body, view, client, deps, review_id, work)
        if reply_or_none is None:
            return
        reply = reply_or_none
    if reply.completed is not None and reply.completed.created:
        await post_advice(client, deps, actor, reply.completed)
        # The manager's notes on this deal's earlier reviews follow the advice (issue 16).
        completed = reply.completed
        await post_earlier_notes(
            client, actor, completed.review_id, reply.locale, completed.earlier_notes
        )
        # The Home tab lists the new review: refreshed now only for someone who looked at it
        # lately (it is rebuilt whenever it is opened).
        if deps.home_recently_opened(actor.workspace_id, actor.user_id):
            await refresh_home(client, deps, await full_actor(deps, client, body))


async def _answer_late(
    ack: Any,
    body: dict[str, Any],
    view: dict[str, Any],
    client: AsyncWebClient,
    deps: SlackDeps,
    review_id: int,
    work: asyncio.Future[_Reply],
) -> _Reply | None:
    """The step takes longer than Slack waits (an overloaded server or database): answer in
    time with a "saving…" view, then put what the step's answer would have been in its
    place with `views.update` — nobody sees an error for a step that is being saved."""
    cached = deps.cached_profile(
        str((body.get("team") or {}).get("id") or ""), str((body.get("user") or {}).get("id"))
    )
    locale = slack_locale(cached.locale if cached else None) or deps.settings.dealcoach_lang
    view_id = str(view.get("id") or "")
    await ack(response_action="update", view=modal.saving_view(locale, str(review_id)))
    try:
        reply = await work
    except Exception as exc:
        log.warning("a late step failed: %s", type(exc).__name__, extra={"review_id": review_id})
        message = str(exc) if isinstance(exc, DealcoachError) else None
        text = message or t(locale, "error.apology", review=review_id)
        await _update(client, view_id, modal.message_view(locale, text))
        if message is None:
            log.exception("slack listener failed", exc_info=exc, extra={"review_id": review_id})
        return None
    if reply.action == "update" and reply.view is not None:
        await _update(client, view_id, reply.view)
    elif reply.action == "errors":
        # Field errors can only be shown in the HTTP answer, which went out already: the
        # messages in a view of their own (the step is shown again on the next submit).
        text = "\n".join(f"• {m}" for m in (reply.errors or {}).values())
        await _update(client, view_id, modal.message_view(reply.locale, text))
    else:
        await _update(client, view_id, modal.done_view(reply.locale, str(review_id)))
    return reply


async def _update(client: AsyncWebClient, view_id: str, view: dict[str, Any]) -> None:
    try:
        await client.views_update(view_id=view_id, view=view)
    except Exception:  # the modal was closed meanwhile: the work is saved all the same
        log.warning("could not replace the saving view", exc_info=True)
