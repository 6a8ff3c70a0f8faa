"""*Record outcome* on the advice (won / lost / walked away), and why a deal was lost.

Picking an outcome records it at once (confirmed ephemerally). For *lost* and *walked away*
a modal asks why (issue 15): it is opened first with the interaction's trigger_id (it lives
3 s), then filled in the review's language — the reasons as radio buttons
(`services.reviews.LOSS_REASONS`, labels from `prompts/<locale>/plan.yaml`) and an optional
text. Submitting records the outcome again with the reason, in one transaction; closing the
modal keeps the outcome without a reason. The service decides what is allowed (the review's
rep, a lost or walked-away deal); its `PlanInvalid` keys are said under the field.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from dealcoach.errors import DealcoachError, InputError
from dealcoach.services.plans import PlanInvalid, pt
from dealcoach.services.reviews import LOSS_REASONS, LOST_OUTCOMES, loss_reason_label
from dealcoach.slack import limits
from dealcoach.slack import plan_blocks as pb
from dealcoach.slack.advice import ACTION_OUTCOME, OUTCOMES
from dealcoach.slack.context import require_deps, slack_locale, valid_review_id
from dealcoach.slack.flow import full_actor, make_actor
from dealcoach.slack.strings import t

log = logging.getLogger("dealcoach.slack")

JSON = dict[str, Any]
CALLBACK_REASON = "dealcoach_outcome_reason"
BLOCK_REASON = "outcome.reason"
BLOCK_REASON_TEXT = "outcome.reason_text"
INPUT = "value"
MAX_REASON_TEXT = 300


def register(app: AsyncApp) -> None:
    app.action(ACTION_OUTCOME)(on_record_outcome)
    app.view_submission(CALLBACK_REASON)(on_reason_submitted)


def reason_view(locale: str, review_id: str, outcome: str) -> JSON:
    """Why was the deal lost (or walked away from)? One reason and an optional text."""
    options = [
        {"text": pb.plain(loss_reason_label(locale, r), limits.OPTION_TEXT), "value": r}
        for r in LOSS_REASONS
    ]
    intro = t(locale, "reason.intro", outcome=t(locale, f"outcome.{outcome}"), review=review_id)
    blocks: list[JSON] = [
        pb.section(intro),
        {
            "type": "input",
            "block_id": BLOCK_REASON,
            "label": pb.plain(t(locale, "reason.label"), limits.LABEL_TEXT),
            "element": {"type": "radio_buttons", "action_id": INPUT, "options": options},
        },
        {
            "type": "input",
            "block_id": BLOCK_REASON_TEXT,
            "optional": True,
            "label": pb.plain(t(locale, "reason.text_label"), limits.LABEL_TEXT),
            "element": {
                "type": "plain_text_input",
                "action_id": INPUT,
                "multiline": True,
                "max_length": MAX_REASON_TEXT,
            },
        },
        pb.context(t(locale, "reason.optional")),
    ]
    return {
        "type": "modal",
        "callback_id": CALLBACK_REASON,
        "title": pb.plain(t(locale, "reason.title"), limits.TITLE_TEXT),
        "submit": pb.plain(t(locale, "reason.submit"), limits.TITLE_TEXT),
        "close": pb.plain(t(locale, "reason.skip"), limits.TITLE_TEXT),
        "private_metadata": f"{outcome}|{review_id}",
        "blocks": blocks,
    }


def _parse(value: object) -> tuple[str, int]:
    outcome, _, raw_id = str(value or "").partition("|")
    if outcome not in OUTCOMES:
        raise InputError("Pick won, lost or walked away.")
    return outcome, valid_review_id(raw_id)


async def on_record_outcome(
    ack: Any, body: JSON, client: AsyncWebClient, context: Any, respond: Any
) -> None:
    await ack()
    deps = require_deps(context)
    actions = body.get("actions") or [{}]
    outcome, review_id = _parse((actions[0].get("selected_option") or {}).get("value"))
    context["dealcoach_review_id"] = str(review_id)
    opened: JSON | None = None
    guess: str = deps.settings.dealcoach_lang
    if outcome in LOST_OUTCOMES:  # the trigger lives 3 s: the modal first
        cached = deps.cached_profile(
            str((body.get("team") or {}).get("id") or ""), str((body.get("user") or {}).get("id"))
        )
        guess = slack_locale(cached.locale if cached else None) or deps.settings.dealcoach_lang
        loading = pb.info_view(guess, t(guess, "reason.loading"), title_key="reason.title")
        response = await client.views_open(trigger_id=body["trigger_id"], view=loading)
        opened = response["view"]
    try:
        summary = await deps.reviews.record_outcome(make_actor(body), review_id, outcome)
    except DealcoachError as err:  # refused (not theirs, a draft, …): say it in the modal too
        if opened is not None:
            view = pb.info_view(guess, str(err), title_key="reason.title")
            await client.views_update(view_id=opened["id"], hash=opened.get("hash"), view=view)
        raise  # and to the app's error handler, which answers ephemerally
    locale = summary.locale
    context["dealcoach_locale"] = locale
    await respond(
        text=t(
            locale, "outcome.recorded", review=review_id, outcome=t(locale, f"outcome.{outcome}")
        ),
        response_type="ephemeral",
        replace_original=False,
    )
    if opened is not None:
        await client.views_update(
            view_id=opened["id"],
            hash=opened.get("hash"),
            view=reason_view(locale, str(review_id), outcome),
        )


def _typed(view: JSON, block: str) -> Any:
    state = (((view.get("state") or {}).get("values") or {}).get(block) or {}).get(INPUT) or {}
    if "selected_option" in state:
        return (state.get("selected_option") or {}).get("value")
    value = state.get("value")
    return value if isinstance(value, str) and value.strip() else None


async def on_reason_submitted(
    ack: Any, body: JSON, client: AsyncWebClient, context: Any, view: JSON
) -> None:
    deps = require_deps(context)
    outcome, review_id = _parse(view.get("private_metadata"))
    context["dealcoach_review_id"] = str(review_id)
    actor = await full_actor(deps, client, body)
    reason, text = _typed(view, BLOCK_REASON), _typed(view, BLOCK_REASON_TEXT)
    if reason is None:  # the radio buttons are required; a payload without one is not ours
        locale = await deps.locale_for(actor)
        await ack(response_action="errors", errors={BLOCK_REASON: pt(locale, "invalid.reason")})
        return
    try:
        summary = await deps.reviews.record_outcome(
            actor, review_id, outcome, reason=reason, reason_text=text
        )
    except PlanInvalid as err:
        locale = await deps.locale_for(actor)
        block = BLOCK_REASON_TEXT if err.key == "reason_text" else BLOCK_REASON
        message = pt(locale, f"invalid.{err.key}", max=MAX_REASON_TEXT)
        await ack(response_action="errors", errors={block: message[:150]})
        return
    locale = summary.locale
    done = t(
        locale,
        "reason.recorded",
        outcome=t(locale, f"outcome.{outcome}"),
        reason=loss_reason_label(locale, str(reason)),
        review=review_id,
    )
    await ack(
        response_action="update",
        view=pb.info_view(locale, "\u2705 " + done, title_key="reason.title"),
    )
