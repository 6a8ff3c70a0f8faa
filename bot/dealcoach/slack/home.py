"""The App Home tab: a rep's recent reviews and a start/resume button, their open close
plans (progress, overdue steps, *Open plan*; issue 15); a manager also sees their team's
week at a glance. Published on `app_home_opened` and after each completed
review (`publish_home`).

The data comes from `services.digests.home_data` (own reviews only; the team glance only for
someone who manages a team). User text is escaped for mrkdwn; the view stays within Block
Kit limits (validated with slack_sdk.models in the tests).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from dealcoach.coach.bank import load_bank
from dealcoach.coach.markup import escape_slack
from dealcoach.digest.render import percent
from dealcoach.digest.render import text as dtext
from dealcoach.services.actors import Actor
from dealcoach.services.digests import AsyncDigestService, HomeData
from dealcoach.services.plans import StepView
from dealcoach.slack import limits
from dealcoach.slack.context import SlackDeps
from dealcoach.slack.plan_blocks import HOME_PLANS, home_blocks

log = logging.getLogger("dealcoach.slack")

ACTION_HOME_START = "home_start_review"
ACTION_HOME_RESUME = "home_resume_review"
HOME_OVERDUE_DEALS = 3  # deals whose overdue steps are listed (one plan read each)


def _section(text: str, locale: str) -> dict[str, Any]:
    return {
        "type": "section",
        "text": {
            "type": "mrkdwn",
            "text": limits.clip(text, limits.SECTION_TEXT, dtext(locale, "truncated")) or " ",
        },
    }


def _button(action_id: str, label: str, value: str, primary: bool = False) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "action_id": action_id,
        "value": value[: limits.BUTTON_VALUE],
        "text": {"type": "plain_text", "text": limits.clip(label, limits.BUTTON_TEXT)},
    }
    if primary:
        button["style"] = "primary"
    return button


def _mention(user_id: str, name: str) -> str:
    if user_id[:1] in ("U", "W") and user_id.isalnum() and len(user_id) > 2:
        return f"<@{user_id}>"
    return escape_slack(name)


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d") if value else "-"


def home_view(data: HomeData, plans: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    """The Home tab; `plans`: the rep's close-plan blocks (`plan_blocks.home_blocks`), shown
    after their recent reviews."""
    locale = data.locale
    labels = load_bank(locale).labels
    buttons = [_button(ACTION_HOME_START, dtext(locale, "home_start"), "new", primary=True)]
    if data.draft_id is not None:
        deal = data.draft_deal or "…"
        buttons.append(
            _button(ACTION_HOME_RESUME, dtext(locale, "home_resume", deal=deal), str(data.draft_id))
        )
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": dtext(locale, "home_title")},
        },
        _section(dtext(locale, "home_intro"), locale),
        {"type": "actions", "block_id": "dealcoach_home_actions", "elements": buttons},
    ]
    if data.nudges_paused:
        blocks.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": dtext(locale, "home_nudges_off")}],
            }
        )
    blocks.append({"type": "divider"})
    if data.recent:
        lines = []
        for item in data.recent:
            rec = labels.recommendations.get(item.recommendation or "", item.recommendation or "")  # type: ignore[call-overload]
            deal = escape_slack(item.deal_name or "…")
            when = _when(item.completed_at)
            lines.append(f"• {when} · *{deal}* · {escape_slack(rec)} · `{item.review_id}`")
        blocks.append(_section(f"*{dtext(locale, 'home_recent')}*\n" + "\n".join(lines), locale))
    else:
        blocks.append(_section(dtext(locale, "home_none"), locale))
    blocks.extend(plans)

    team = data.team
    if team is not None:
        walk = team.recommendation_mix.get("walk_away", 0)
        lines = [
            dtext(
                locale,
                "home_team_line",
                reviews=team.total_reviews,
                share=percent(team.win_win_share),
                walk=walk,
            )
        ]
        for rep in team.reps:
            if rep.reviews:
                lines.append(f"• {_mention(rep.user_id, rep.name)}: {rep.reviews}")
        if team.idle_reps:
            names = ", ".join(_mention(r.user_id, r.name) for r in team.idle_reps)
            lines.append(dtext(locale, "home_team_idle", names=names))
        if team.riskiest:
            top = team.riskiest[0]
            rec = labels.recommendations.get(top.recommendation or "", "")  # type: ignore[call-overload]
            who = _mention(top.rep_user_id, top.rep_name)
            deal = f"*{escape_slack(top.deal_name)}* ({who}, {escape_slack(rec)})"
            lines.append(dtext(locale, "home_team_risky", deal=deal))
        blocks.append({"type": "divider"})
        blocks.append(
            _section(f"*{dtext(locale, 'home_team', week=team.week)}*\n" + "\n".join(lines), locale)
        )
    return {"type": "home", "blocks": limits.fit_blocks(blocks, limits.VIEW_BLOCKS, "…")}


async def publish_home(client: AsyncWebClient, deps: SlackDeps, actor: Actor) -> None:
    """Build and publish the actor's Home tab (`views.publish`)."""
    service = AsyncDigestService(
        deps.services.async_store, default_locale=deps.settings.dealcoach_lang
    )
    data = await service.home(actor)
    plans = await plan_section(deps, actor, data.locale)
    await client.views_publish(user_id=actor.user_id, view=home_view(data, plans))


async def plan_section(deps: SlackDeps, actor: Actor, locale: str) -> list[dict[str, Any]]:
    """The rep's open close plans (issue 15): one query for all their deals' progress, and
    the overdue steps of the first few deals that have any."""
    service = deps.services.async_plans
    summaries = await service.my_plans(actor, limit=HOME_PLANS + 1)
    overdue: dict[int, list[StepView]] = {}
    for summary in summaries[:HOME_PLANS]:
        if summary.progress.overdue and len(overdue) < HOME_OVERDUE_DEALS:
            plan = await service.deal_plan(actor, summary.deal_id)
            overdue[summary.deal_id] = [s for s in plan.steps if s.overdue]
    return home_blocks(locale, summaries, overdue)


async def refresh_home(client: AsyncWebClient, deps: SlackDeps, actor: Actor) -> None:
    """After a completed review: best effort (the advice DM matters more than the tab)."""
    try:
        await publish_home(client, deps, actor)
    except Exception:
        log.warning("could not refresh the App Home after a review", exc_info=True)
