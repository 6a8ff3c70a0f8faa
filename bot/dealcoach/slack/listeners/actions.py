"""Block actions: buttons in the review modal and on the advice message.

Modal: *Add a decision-maker* (views.update with the agenda the service shows with one more
person, keeping what was typed),
*Resume* / *Start new* on the open-draft prompt, and a pick in an input that decides a
follow-up of the same page (`dispatch_action`: `on_choice` puts the page with its follow-ups
settled in place, without the database). Advice message: *Update review* (a new draft
prefilled from the completed review), *Share with my manager* (once per review: the service
records it, and releases it again if the DM to the manager fails). *Record outcome* is
`listeners/outcome.py`, *Add to plan* `listeners/plans.py`. Every one acks first; ownership
is checked by the service.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from dealcoach.errors import DealcoachError, InputError
from dealcoach.slack import modal
from dealcoach.slack.advice import ACTION_SHARE, ACTION_UPDATE, share_with_manager
from dealcoach.slack.context import require_deps, valid_review_id
from dealcoach.slack.flow import full_actor, make_actor, view_for
from dealcoach.slack.strings import t

if TYPE_CHECKING:
    from dealcoach.services.reviews import ReviewView

log = logging.getLogger("dealcoach.slack")


def register(app: AsyncApp) -> None:
    app.action(modal.ACTION_ADD_PERSON)(on_add_person)
    app.action(modal.ACTION_RESUME)(on_resume)
    app.action(modal.ACTION_START_NEW)(on_start_new)
    app.action(ACTION_UPDATE)(on_update_review)
    app.action(ACTION_SHARE)(on_share)
    app.action({"type": "block_actions", "action_id": modal.ACTION_VALUE})(on_choice)


def _action(body: dict[str, Any]) -> dict[str, Any]:
    actions = body.get("actions") or [{}]
    return dict(actions[0])


async def on_add_person(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    await ack()
    deps = require_deps(context)
    view = body.get("view") or {}
    review_id = valid_review_id(view.get("private_metadata"))
    context["dealcoach_review_id"] = str(review_id)
    # The agenda with one more decision-maker (the service's step); what was typed is shown
    # back as typed, and saved when the step is submitted.
    people = modal.people_shown(view) + 1
    review: ReviewView = await deps.reviews.add_person(make_actor(body), review_id, people)
    context["dealcoach_locale"] = review.locale
    typed = modal.typed_answers(view)
    new_view = view_for(review, prefill=typed)
    if new_view is None:
        return
    # The follow-ups a choice typed but not saved yet calls for (a champion's two tests),
    # under their trigger as the pick showed them; shown from the saved answers otherwise.
    on_screen = {**review.answers, **{k: v for k, v in typed.items() if v is not None}}
    new_view = modal.settle_step(new_view, on_screen) or new_view
    await client.views_update(view_id=view["id"], hash=view.get("hash"), view=new_view)


async def on_choice(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
    """A pick in a review step's input that decides a follow-up of the same page (its
    `dispatch_action`): the page again with the follow-ups that now apply right after their
    trigger and those that no longer apply taken off, everything typed kept
    (`modal.settle_step`), by `views.update` with the view's `hash` (a view changed since
    is not overwritten: `hash_conflict` is fine).

    No database: the view's state and its header's `block_id` (the language) are all it
    takes. Anything it cannot read — not a review step, a `private_metadata` or page
    `block_id` that is not ours — changes nothing and says nothing: the step's submission
    is checked as ever, and a follow-up that applies is asked after it."""
    await ack()
    view = body.get("view")
    if not isinstance(view, dict):
        return
    try:
        valid_review_id(view.get("private_metadata"))
        new_view = modal.settle_step(view, modal.typed_answers(view))
    except (InputError, AttributeError, KeyError, TypeError, ValueError) as exc:
        log.info("a follow-up pick left as it is: %s", type(exc).__name__)
        return
    if new_view is None:
        return
    try:
        await client.views_update(view_id=view.get("id"), hash=view.get("hash"), view=new_view)
    except SlackApiError as exc:
        # hash_conflict: the user changed the view again meanwhile; its own pick follows.
        log.info("follow-ups not shown: %s", exc.response.get("error"))
    except Exception as exc:  # the step's submit still asks any follow-up that applies
        log.warning("follow-ups not shown: %s", type(exc).__name__)


async def on_resume(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    await ack()
    deps = require_deps(context)
    view = body.get("view") or {}
    review_id = valid_review_id(_action(body).get("value"))
    context["dealcoach_review_id"] = str(review_id)
    review: ReviewView = await deps.reviews.get(make_actor(body), review_id)
    context["dealcoach_locale"] = review.locale
    new_view = view_for(review)
    if new_view is None:  # complete already: nothing left to ask
        new_view = modal.message_view(review.locale, t(review.locale, "help"))
    await client.views_update(view_id=view["id"], hash=view.get("hash"), view=new_view)


async def on_start_new(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    await ack()
    deps = require_deps(context)
    view = body.get("view") or {}
    deal_name = (_action(body).get("value") or "").strip() or None
    actor = await full_actor(deps, client, body)
    review: ReviewView = await deps.reviews.start(actor, deal_name=deal_name)
    context["dealcoach_review_id"] = str(review.review_id)
    context["dealcoach_locale"] = review.locale
    new_view = view_for(review)
    if new_view is None:  # pragma: no cover - a new review always has a first step
        return
    await client.views_update(view_id=view["id"], hash=view.get("hash"), view=new_view)


async def on_update_review(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    """A new draft prefilled from the completed review, in a modal (trigger first)."""
    await ack()
    deps = require_deps(context)
    review_id = valid_review_id(_action(body).get("value"))
    context["dealcoach_review_id"] = str(review_id)
    opened = await client.views_open(
        trigger_id=body["trigger_id"], view=modal.loading_view(deps.settings.dealcoach_lang)
    )
    actor = await full_actor(deps, client, body)
    draft: ReviewView = await deps.reviews.reopen(actor, review_id)
    context["dealcoach_review_id"] = str(draft.review_id)
    context["dealcoach_locale"] = draft.locale
    new_view = view_for(draft) or modal.message_view(draft.locale, t(draft.locale, "help"))
    await client.views_update(
        view_id=opened["view"]["id"], hash=opened["view"].get("hash"), view=new_view
    )


async def on_share(
    ack: AsyncAck,
    body: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
    respond: AsyncRespond,
) -> None:
    await ack()
    deps = require_deps(context)
    review_id = valid_review_id(_action(body).get("value"))
    context["dealcoach_review_id"] = str(review_id)
    actor = await full_actor(deps, client, body)
    try:
        message = await share_with_manager(client, deps, actor, review_id)
    except DealcoachError:  # refused (already shared, not theirs, …): nothing was sent
        raise
    except Exception:  # the DM to the manager failed: the user may try again
        await deps.reviews.release_share(actor, review_id)
        raise
    await respond(text=message, response_type="ephemeral", replace_original=False)
