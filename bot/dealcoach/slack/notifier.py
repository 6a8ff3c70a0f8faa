"""Slack's side of `digest.notifier`: digests, review reminders and overdue close-plan
steps (issue 15: `send_plan_reminder`, with *Done* / *Move date* / *Drop*) as DMs; and of
`services.notify.CoachingNotifier` (issue 16): a coaching note, reply or *done* notice
written on another platform (or in another workspace) to a Slack user, unpaced.

The messages' Block Kit comes from `slack/digest_blocks.py`; this module only delivers.

`chat.postMessage` with `channel` = the user's id, through the app's retrying
`AsyncWebClient` (slack_sdk retry handlers: 429 honouring `Retry-After`, 5xx, dropped
connections). Messages are paced per workspace — at most one every `interval` seconds,
Slack's guidance for `chat.postMessage` — so a Monday batch of 200 digests never trips the
rate limit. A call that still fails raises `DeliveryError`; delivery records it and the next
run sends it again.

When the 8-week trend has at least two weeks with reviews (`digest.chart.chart_helps`), the
digest is followed by two matplotlib charts — the trend (`trend_chart_png`) and the team's
recommendation mix (`mix_chart_png`), each with its title and alt text in the manager's
language — uploaded with one `files_upload_v2` into the digest message's thread (needs the
`files:write` scope). The chart is a bonus: a
failed or slow upload is logged and dropped, never raised, so it can neither fail nor double a
digest that was already posted.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from dealcoach.digest.chart import (
    chart_alt_text,
    chart_helps,
    mix_alt_text,
    mix_chart_png,
    trend_chart_png,
)
from dealcoach.digest.chart import ct as chart_ct
from dealcoach.digest.compose import DigestModel, PersonRef
from dealcoach.digest.notifier import FollowUp
from dealcoach.digest.nudges import NudgeModel, RenderedNudge
from dealcoach.digest.render import RenderedDigest
from dealcoach.errors import DeliveryError
from dealcoach.services.coaching import Contact, NoteDelivery
from dealcoach.services.plans import PlanReminder, Recipient, RenderedReminder
from dealcoach.slack import limits
from dealcoach.slack.coaching_blocks import done_message, note_message, reply_message
from dealcoach.slack.digest_blocks import JSON, digest_blocks, nudge_blocks
from dealcoach.slack.plan_blocks import reminder_blocks

POST_INTERVAL = 1.0
CHART_TIMEOUT = 30.0  # seconds for the whole three-step upload

log = logging.getLogger("dealcoach.slack")


class SlackNotifier:
    """`client` posts for a single workspace (bot token); `client_for(team_id)` returns the
    client of a workspace when the app is installed in several (OAuth)."""

    def __init__(
        self,
        client: AsyncWebClient | None = None,
        *,
        client_for: Callable[[str], Awaitable[AsyncWebClient]] | None = None,
        interval: float = POST_INTERVAL,
    ) -> None:
        if client is None and client_for is None:
            raise ValueError("SlackNotifier needs a client or client_for")
        self._client = client
        self._client_for = client_for
        self.interval = interval
        self._locks: dict[str, asyncio.Lock] = {}
        self._last: dict[str, float] = {}

    async def send_digest(
        self, manager: PersonRef, digest: DigestModel, rendered: RenderedDigest
    ) -> FollowUp | None:
        channel, ts = await self._post(
            manager,
            text=limits.clip(rendered.text, limits.MESSAGE_TEXT - 200),
            blocks=digest_blocks(rendered),
        )
        if not (chart_helps(digest.history) and channel and ts):
            return None

        async def attach_chart() -> None:
            # Run by delivery once the digest is recorded sent: a crash or a slow upload
            # here can neither fail nor repeat the digest.
            await self._attach_chart(manager, digest, rendered, channel=channel, thread_ts=ts)

        return attach_chart

    async def _attach_chart(
        self,
        manager: PersonRef,
        digest: DigestModel,
        rendered: RenderedDigest,
        *,
        channel: str,
        thread_ts: str,
    ) -> None:
        """Upload the trend chart into the digest's thread; log and move on if that fails."""
        try:
            locale = digest.locale
            mix = digest.recommendation_history
            files = [
                {
                    "content": trend_chart_png(digest.history, locale),
                    "filename": f"dealcoach-trend-{digest.week}.png",
                    "title": f"{chart_ct(locale, 'chart_trend_title')} · {digest.week}",
                    "alt_txt": chart_alt_text(digest.history, locale)[:1000],
                },
                {
                    "content": mix_chart_png(digest.history, mix, locale),
                    "filename": f"dealcoach-mix-{digest.week}.png",
                    "title": f"{chart_ct(locale, 'chart_mix_title')} · {digest.week}",
                    "alt_txt": mix_alt_text(digest.history, mix, locale)[:1000],
                },
            ]
            client = await self._client_of(manager.workspace_id)
            await asyncio.wait_for(
                client.files_upload_v2(file_uploads=files, channel=channel, thread_ts=thread_ts),
                timeout=CHART_TIMEOUT,
            )
        except Exception as exc:  # the digest is already delivered: never fail it now
            error = exc.response.get("error") if isinstance(exc, SlackApiError) else None
            log.warning(
                "digest chart upload failed for %s (%s): %s",
                manager.user_id,
                digest.week,
                error or repr(exc),
            )

    async def send_nudge(
        self, person: PersonRef, nudge: NudgeModel, rendered: RenderedNudge
    ) -> None:
        await self._post(person, text=rendered.text, blocks=nudge_blocks(nudge, rendered))

    async def send_plan_reminder(
        self, reminder: PlanReminder, rendered: Mapping[str, RenderedReminder]
    ) -> None:
        """One overdue close-plan step (issue 15) as a DM with *Done*, *Move date* and
        *Drop* (`plan_blocks.reminder_blocks`); raises DeliveryError when Slack refuses it,
        so the service releases the claim and a later run tries again."""
        shown = rendered["slack"]
        plain = rendered.get("text", shown)
        await self._post(
            reminder.recipient,
            text=limits.clip(f"{plain.title}\n{plain.text}", 3000),
            blocks=reminder_blocks(reminder, shown),
        )

    # --- services.notify.CoachingNotifier (issue 16) -------------------------------------
    # A coaching note, reply or *done* notice written elsewhere (Teams, or another Slack
    # workspace) to a Slack user: the same Block Kit as the coaching listener's DMs
    # (`slack/coaching_blocks.py`), whose *Reply* / *Mark as done* buttons that listener
    # answers. Someone is waiting on these: they are not queued behind a digest batch.

    async def send_note(self, delivery: NoteDelivery) -> None:
        await self._coaching(delivery, *note_message(delivery))

    async def send_reply(self, delivery: NoteDelivery) -> None:
        await self._coaching(delivery, *reply_message(delivery))

    async def send_done(self, delivery: NoteDelivery) -> None:
        await self._coaching(delivery, *done_message(delivery))

    async def _coaching(self, delivery: NoteDelivery, blocks: list[JSON], text: str) -> None:
        to = delivery.recipient
        if to is None or to.platform != "slack":
            raise DeliveryError("the coaching message has no Slack recipient")
        await self._post(to, text=text, blocks=blocks, paced=False)

    async def _post(
        self,
        person: PersonRef | Recipient | Contact,
        *,
        text: str,
        blocks: list[JSON],
        paced: bool = True,
    ) -> tuple[str | None, str | None]:
        """Post one DM, paced (unless `paced=False`); the (DM channel id, message ts) Slack
        answered."""
        if not paced:
            return await self._post_now(person, text=text, blocks=blocks)
        lock = self._locks.setdefault(person.workspace_id, asyncio.Lock())
        async with lock:
            wait = self._last.get(person.workspace_id, 0.0) + self.interval - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                return await self._post_now(person, text=text, blocks=blocks)
            finally:
                self._last[person.workspace_id] = time.monotonic()

    async def _post_now(
        self, person: PersonRef | Recipient | Contact, *, text: str, blocks: list[JSON]
    ) -> tuple[str | None, str | None]:
        try:
            client = await self._client_of(person.workspace_id)
            response = await client.chat_postMessage(
                channel=person.user_id,
                text=text,
                blocks=blocks,
                unfurl_links=False,
                unfurl_media=False,
            )
        except SlackApiError as exc:
            error = exc.response.get("error") if exc.response is not None else None
            raise DeliveryError(f"Slack refused the message: {error or exc}") from exc
        except (TimeoutError, SlackClientError, OSError) as exc:
            raise DeliveryError(f"Slack could not be reached: {exc}") from exc
        channel, ts = response.get("channel"), response.get("ts")
        return (
            channel if isinstance(channel, str) else None,
            ts if isinstance(ts, str) else None,
        )

    async def _client_of(self, team_id: str) -> AsyncWebClient:
        if self._client_for is not None:
            return await self._client_for(team_id)
        assert self._client is not None
        return self._client
