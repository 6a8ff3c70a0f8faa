"""ISO weeks: parsing `YYYY-Www`, `last` / `this`, and a week's bounds in a time zone.

A digest covers one ISO week (Monday 00:00 up to the next Monday 00:00) in the manager's time
zone; the bounds are handed to SQL as aware UTC datetimes. Bad input is one `InputError`
line, never a traceback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dealcoach.errors import InputError

_WEEK = re.compile(r"^(\d{4})-?[Ww](\d{1,2})$")

WeekWord = Literal["last", "this"]
# The week words every interface accepts (English and Dutch), see `IsoWeek.choice`.
LAST_WORDS = frozenset({"last", "previous", "vorige", "vorig"})
THIS_WORDS = frozenset({"this", "current", "deze", "huidige"})


def zone(name: str | None, default: str = "UTC") -> ZoneInfo:
    """The named time zone; unknown or empty names fall back to `default` (then UTC)."""
    for candidate in (name, default, "UTC"):
        if not candidate:
            continue
        try:
            return ZoneInfo(candidate)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return ZoneInfo("UTC")


@dataclass(frozen=True, order=True)
class IsoWeek:
    year: int
    week: int

    def __post_init__(self) -> None:
        try:
            date.fromisocalendar(self.year, self.week, 1)
        except ValueError:
            raise InputError(f"{self.year}-W{self.week:02d} is not an ISO week") from None

    @classmethod
    def parse(cls, text: str) -> IsoWeek:
        """`2026-W47` (also `2026W47`, `2026-w47`)."""
        match = _WEEK.match(text.strip())
        if not match:
            raise InputError(f"{text!r} is not a week: use YYYY-Www, e.g. 2026-W47")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, day: date) -> IsoWeek:
        iso = day.isocalendar()
        return cls(iso.year, iso.week)

    @classmethod
    def containing(cls, moment: datetime, tz: ZoneInfo) -> IsoWeek:
        return cls.of(moment.astimezone(tz).date())

    @classmethod
    def last_full(cls, moment: datetime, tz: ZoneInfo) -> IsoWeek:
        """The last week that has ended by `moment` in `tz` (the digest default)."""
        return cls.containing(moment, tz).previous()

    @classmethod
    def choice(cls, text: str | None) -> IsoWeek | WeekWord:
        """The one parser of what people type for a week, in Slack, Teams and the CLI:
        `None`/`last`/`vorige` → "last" (the last full week), `this`/`deze` → "this" (the
        current one), else a `YYYY-Www` week. Which week a word means depends on the time
        zone, so words are resolved later (`resolve`, `dealcoach digest send`)."""
        word = (text or "last").strip().lower()
        if word in LAST_WORDS:
            return "last"
        if word in THIS_WORDS:
            return "this"
        if not _WEEK.match(word):
            raise InputError(f"{text!r} is not a week: use last, this or YYYY-Www (e.g. 2026-W47)")
        return cls.parse(word)

    @classmethod
    def resolve(cls, text: str | None, moment: datetime, tz: ZoneInfo) -> IsoWeek:
        """`None`/`last`/`vorige` → last full week; `this`/`deze` → the current one."""
        chosen = cls.choice(text)
        if chosen == "last":
            return cls.last_full(moment, tz)
        if chosen == "this":
            return cls.containing(moment, tz)
        return chosen

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)

    def previous(self, n: int = 1) -> IsoWeek:
        return IsoWeek.of(self.monday - timedelta(weeks=n))

    def next(self) -> IsoWeek:
        return IsoWeek.of(self.monday + timedelta(weeks=1))

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """[start, end) of the week in `tz`, as aware UTC datetimes."""
        start = datetime.combine(self.monday, time(0), tzinfo=tz)
        end = datetime.combine(self.monday + timedelta(weeks=1), time(0), tzinfo=tz)
        return start.astimezone(UTC), end.astimezone(UTC)

    def __str__(self) -> str:
        return f"{self.year}-W{self.week:02d}"
