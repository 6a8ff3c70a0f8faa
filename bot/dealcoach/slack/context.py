"""What every listener needs: settings, services, who is asking and in which language.

`SlackDeps` is attached to each Bolt context by a middleware in `app.py`; listeners read it
with `deps_of(context)`. Nothing here keeps review state: that lives in the database, so any
replica can answer any step. The only memory is a short-lived cache of Slack profile data
(locale, time zone, name) so a busy user does not cost a `users.info` call per click.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from slack_sdk.web.async_client import AsyncWebClient

from dealcoach.config import Settings
from dealcoach.errors import InputError

if TYPE_CHECKING:  # types only: the container is built by bootstrap, not imported here
    from dealcoach.services.actors import Actor
    from dealcoach.services.container import Services
    from dealcoach.services.notify import NoteRelay
    from dealcoach.services.reviews import AsyncReviewService, SharedReview

# Review ids are positive integers; anything else in private_metadata or a button value did
# not come from us.
_REVIEW_ID = re.compile(r"^[1-9][0-9]{0,17}$")

PROFILE_TTL_SECONDS = 600.0
# After a completed review the Home tab is refreshed only for someone who opened it this
# recently (in this process); everyone else gets it rebuilt when they open it.
HOME_FRESH_SECONDS = 600.0
# Review work (saving a step, completing, starting) running at once in one process; more
# waits its turn without using the CPU, so acknowledging requests stays quick under overload.
WORK_SLOTS = 8

# When the HTTP request reached the app (web.py sets it; listeners run in a copy of the
# request's context), so a listener knows how much of Slack's 3 s is left.
REQUEST_ARRIVED: ContextVar[float | None] = ContextVar("dealcoach_request_arrived", default=None)


def request_age() -> float:
    """Seconds since this request arrived (0 when unknown)."""
    arrived = REQUEST_ARRIVED.get()
    return time.monotonic() - arrived if arrived is not None else 0.0


@dataclass
class Profile:
    locale: str | None
    timezone: str | None
    display_name: str | None
    is_admin: bool


@dataclass
class SlackDeps:
    settings: Settings
    services: Services
    metrics: Any = None  # dealcoach.observability.Metrics, when the web app installed them
    # Coaching notes for people this workspace's client cannot DM (another workspace, Teams):
    # the composition root's notifiers (`web.create_app`); None without a server.
    relay: NoteRelay | None = None
    _profiles: dict[tuple[str, str], tuple[float, Profile]] = field(default_factory=dict)
    _home_opened: dict[tuple[str, str], float] = field(default_factory=dict)
    _slots: asyncio.Semaphore | None = None

    @asynccontextmanager
    async def work_slot(self) -> AsyncIterator[None]:
        """One of `WORK_SLOTS` turns for review work (see WORK_SLOTS)."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(WORK_SLOTS)
        async with self._slots:
            yield

    @classmethod
    def create(cls, settings: Settings, services: Services) -> SlackDeps:
        return cls(settings=settings, services=services)

    @property
    def reviews(self) -> AsyncReviewService:
        """The async review service (start, save_answers, complete, …)."""
        return self.services.async_reviews

    async def locale_for(self, actor: Actor) -> str:
        """The language to answer this person in (their choice, Slack's, the default)."""
        return str(await self.reviews.locale_for(actor))

    async def share(self, actor: Actor, review_id: int) -> SharedReview:
        """A completed review's advice and the reviewer's manager (`SharedReview`)."""
        return await self.reviews.share(actor, review_id)

    def home_opened(self, team_id: str, user_id: str) -> None:
        """Someone looked at their App Home tab (`app_home_opened`)."""
        if len(self._home_opened) > 10_000:
            self._home_opened.clear()
        self._home_opened[(team_id, user_id)] = time.monotonic()

    def home_recently_opened(self, team_id: str, user_id: str) -> bool:
        """Worth refreshing their Home tab after a review (it is rebuilt when opened)."""
        seen = self._home_opened.get((team_id, user_id))
        return seen is not None and time.monotonic() - seen < HOME_FRESH_SECONDS

    def cached_profile(self, team_id: str, user_id: str) -> Profile | None:
        cached = self._profiles.get((team_id, user_id))
        if cached and time.monotonic() - cached[0] < PROFILE_TTL_SECONDS:
            return cached[1]
        return None

    async def profile(self, client: AsyncWebClient, team_id: str, user_id: str) -> Profile:
        """The user's Slack locale / time zone / name via `users.info` (cached briefly).

        A failed lookup is not fatal: the review goes on in the default language.
        """
        key = (team_id, user_id)
        cached = self._profiles.get(key)
        now = time.monotonic()
        if cached and now - cached[0] < PROFILE_TTL_SECONDS:
            return cached[1]
        try:
            resp = await client.users_info(user=user_id, include_locale=True)
            user = resp.get("user") or {}
            profile = Profile(
                locale=user.get("locale"),
                timezone=user.get("tz"),
                display_name=(user.get("profile") or {}).get("display_name")
                or user.get("real_name")
                or user.get("name"),
                is_admin=bool(user.get("is_admin") or user.get("is_owner")),
            )
        except Exception:
            profile = Profile(locale=None, timezone=None, display_name=None, is_admin=False)
            return profile  # do not cache a failure
        if len(self._profiles) > 10_000:
            self._profiles.clear()
        self._profiles[key] = (now, profile)
        return profile


def deps_of(context: Any) -> SlackDeps | None:
    deps = context.get("dealcoach") if context is not None else None
    return deps if isinstance(deps, SlackDeps) else None


def require_deps(context: Any) -> SlackDeps:
    deps = deps_of(context)
    if deps is None:  # pragma: no cover - the middleware always sets it
        raise RuntimeError("dealcoach Slack deps missing from the Bolt context")
    return deps


def slack_locale(value: str | None) -> str | None:
    """`nl-NL` → `nl`, `en-GB` → `en`; languages we do not speak → None."""
    if not value:
        return None
    lang = value.split("-")[0].split("_")[0].lower()
    return lang if lang in ("en", "nl") else None


def valid_review_id(value: object) -> int:
    """A review id from Slack (private_metadata, a button value), checked before use."""
    if not isinstance(value, str) or not _REVIEW_ID.match(value):
        raise InputError("This form is out of date; type /dealcoach to start again.")
    return int(value)


def review_id_in(body: dict[str, Any]) -> str | None:
    """The review a payload is about, if it names a well-formed one (for error messages)."""
    candidates: list[object] = [(body.get("view") or {}).get("private_metadata")]
    for action in body.get("actions") or []:
        candidates.append(action.get("value"))
        candidates.append((action.get("selected_option") or {}).get("value"))
    for value in candidates:
        if isinstance(value, str):
            value = value.split("|")[-1]
            if _REVIEW_ID.match(value):
                return value
    return None
