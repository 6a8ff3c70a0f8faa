"""Digest use cases for adapters: on-demand digests, previews, the App Home data, pausing
reminders.

Privacy lives here, once for every adapter: a manager sees their own team's digest; anyone
who manages nobody (reps, and admins too) gets a summary of their *own* reviews instead —
never a colleague's deals. The Home tab shows the person's own reviews, plus their team's
week at a glance if they manage one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dealcoach.digest.compose import (
    DigestModel,
    compose_self_digest,
    compose_team_digests,
    locale_of,
)
from dealcoach.digest.render import RenderedDigest, render_digest
from dealcoach.digest.weeks import IsoWeek, zone
from dealcoach.errors import NotFound
from dealcoach.services.actors import Actor
from dealcoach.services.people import locale_for, resolve_person
from dealcoach.services.reporting import find_workspace
from dealcoach.services.reviews import ReviewSummary, review_history
from dealcoach.store import digests as q
from dealcoach.store.types import utcnow
from dealcoach.store.uow import AsyncStore, Store, UnitOfWork

HOME_RECENT = 5


@dataclass(frozen=True)
class OnDemandDigest:
    digest: DigestModel
    rendered: RenderedDigest
    own_summary: bool  # True: the asker manages nobody, so this is their own summary


@dataclass(frozen=True)
class HomeData:
    locale: str
    user_id: str
    recent: tuple[ReviewSummary, ...]
    draft_id: int | None
    draft_deal: str | None
    nudges_paused: bool
    team: DigestModel | None  # this week so far, for managers


def _tz(person_tz: str | None, workspace_tz: str | None, default_tz: str) -> str:
    return person_tz or workspace_tz or default_tz


def on_demand(
    uow: UnitOfWork, actor: Actor, which: str | None, now: datetime, default_locale: str = "en"
) -> OnDemandDigest:
    person = resolve_person(uow, actor, default_locale)
    tz = _tz(person.timezone, person.workspace.timezone, "UTC")
    week = IsoWeek.resolve(which, now, zone(tz))
    locale = locale_for(person, actor, default_locale)
    rows = q.managers(uow.session, manager_ids=[person.id])
    if rows:
        digest = compose_team_digests(uow, rows, week, default_locale=locale)[person.id]
        own = False
    else:
        digest = compose_self_digest(uow, person, week, default_locale=locale)
        own = True
    # The locale the person chose wins over the stored one for on-demand answers.
    digest = digest.model_copy(
        update={
            "locale": locale,
            "recipient": digest.recipient.model_copy(update={"locale": locale}),
        }
    )
    return OnDemandDigest(digest=digest, rendered=render_digest(digest), own_summary=own)


def preview(
    uow: UnitOfWork,
    workspace: str | None,
    manager_user_id: str,
    which: str | None,
    now: datetime,
    default_locale: str = "en",
    default_tz: str = "UTC",
) -> OnDemandDigest:
    """`dealcoach digest preview --manager ID` (ops): that manager's team digest."""
    ws = find_workspace(uow, workspace)
    person = uow.people.find(ws.id, manager_user_id.strip())
    rows = q.managers(uow.session, manager_ids=[person.id]) if person is not None else []
    if person is None or not rows:
        raise NotFound(f"{manager_user_id} manages nobody in workspace {ws.external_id}")
    tz = _tz(person.timezone, ws.timezone, default_tz)
    week = IsoWeek.resolve(which, now, zone(tz))
    digest = compose_team_digests(
        uow, rows, week, default_locale=default_locale, default_tz=default_tz
    )[person.id]
    return OnDemandDigest(digest=digest, rendered=render_digest(digest), own_summary=False)


def home_data(uow: UnitOfWork, actor: Actor, now: datetime, default_locale: str = "en") -> HomeData:
    person = resolve_person(uow, actor, default_locale)
    locale = locale_for(person, actor, default_locale)
    recent = tuple(review_history(uow, actor, limit=HOME_RECENT, status="completed"))
    draft = uow.reviews.latest_draft(person.id)
    team: DigestModel | None = None
    rows = q.managers(uow.session, manager_ids=[person.id])
    if rows:
        tz = _tz(person.timezone, person.workspace.timezone, "UTC")
        week = IsoWeek.containing(now, zone(tz))
        # App Home shows a glance at the week: no monthly insights section (one more statement).
        glance = compose_team_digests(uow, rows, week, default_locale=locale, insights=False)
        team = glance[person.id]
    return HomeData(
        locale=locale,
        user_id=person.user_id,
        recent=recent,
        draft_id=draft.id if draft is not None else None,
        draft_deal=draft.deal.name if draft is not None and draft.deal is not None else None,
        nudges_paused=bool(person.nudges_paused),
        team=team,
    )


def set_paused(uow: UnitOfWork, actor: Actor, paused: bool, default_locale: str = "en") -> str:
    person = resolve_person(uow, actor, default_locale)
    uow.people.set_nudges_paused(person, paused)
    return locale_of(person.locale, actor.locale, default_locale)


class DigestService:
    """Sync (CLI, tests)."""

    def __init__(
        self, store: Store, *, default_locale: str = "en", default_tz: str = "UTC"
    ) -> None:
        self.store = store
        self.default_locale = default_locale
        self.default_tz = default_tz

    def on_demand(
        self, actor: Actor, which: str | None = None, *, now: datetime | None = None
    ) -> OnDemandDigest:
        return self.store.run(on_demand, actor, which, now or utcnow(), self.default_locale)

    def preview(
        self,
        manager_user_id: str,
        which: str | None = None,
        *,
        workspace: str | None = None,
        now: datetime | None = None,
    ) -> OnDemandDigest:
        return self.store.run(
            preview,
            workspace,
            manager_user_id,
            which,
            now or utcnow(),
            self.default_locale,
            self.default_tz,
        )

    def home(self, actor: Actor, *, now: datetime | None = None) -> HomeData:
        return self.store.run(home_data, actor, now or utcnow(), self.default_locale)

    def set_paused(self, actor: Actor, paused: bool) -> str:
        return self.store.run(set_paused, actor, paused, self.default_locale)


class AsyncDigestService:
    """The same use cases on the asyncio server."""

    def __init__(self, store: AsyncStore, *, default_locale: str = "en") -> None:
        self.store = store
        self.default_locale = default_locale

    async def on_demand(
        self, actor: Actor, which: str | None = None, *, now: datetime | None = None
    ) -> OnDemandDigest:
        return await self.store.run(on_demand, actor, which, now or utcnow(), self.default_locale)

    async def home(self, actor: Actor, *, now: datetime | None = None) -> HomeData:
        return await self.store.run(home_data, actor, now or utcnow(), self.default_locale)

    async def set_paused(self, actor: Actor, paused: bool) -> str:
        return await self.store.run(set_paused, actor, paused, self.default_locale)
