"""A deal's mutual close plan as the coach sees it (issue 15). Pure: no I/O.

`PlanStatus` is what the rules know about a deal's plan: how many steps (dropped ones are not
part of the plan), how many done, how many open past their date, how many of those the
customer owns, and the customer's slipping steps themselves (for a concrete move: whom to ask
about what). `assess(..., plan_status=...)` takes it as an optional argument; without it (None,
the default) no plan rule fires and the advice is exactly what it was before plans existed.

The rules read it through the condition `{plan: [state, …]}` (`PlanStatus.states`):
- `none`: no plan yet (no step that is open or done);
- `on_track`: a plan, nothing overdue;
- `overdue`: an open step is past its date;
- `customer_overdue`: an open step the customer owns is past its date.

Also here: the plan's progress line ("2 of 5 steps done, 1 overdue") and due-date helpers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from dealcoach.coach.markup import Flavor
from dealcoach.coach.plan_text import escape, format_date, text

DEFAULT_DUE_DAYS = 7


@dataclass(frozen=True)
class SlippingStep:
    """A customer-owned step past its date."""

    text: str
    owner_name: str
    due_on: date


@dataclass(frozen=True)
class PlanStatus:
    total: int = 0  # open + done (dropped steps are not part of the plan)
    done: int = 0
    overdue: int = 0  # open and past the due date
    customer_overdue: int = 0  # of those, owned by the customer
    slipping: tuple[SlippingStep, ...] = ()  # the customer's overdue steps, oldest first

    @property
    def has_plan(self) -> bool:
        return self.total > 0

    @property
    def open(self) -> int:
        return self.total - self.done

    def states(self) -> frozenset[str]:
        """The plan states the rules test (see the module doc)."""
        if not self.has_plan:
            return frozenset({"none"})
        found = {"overdue"} if self.overdue else {"on_track"}
        if self.customer_overdue:
            found.add("customer_overdue")
        return frozenset(found)


def progress_line(status: PlanStatus | None, locale: str | None) -> str:
    """`2 of 5 steps done, 1 overdue` (plain text: only numbers, nothing to escape)."""
    if status is None or not status.has_plan:
        return text(locale, "progress.none")
    key = "progress.done_one" if status.total == 1 else "progress.done"
    parts = [text(locale, key, done=status.done, total=status.total)]
    if status.overdue:
        parts.append(text(locale, "progress.overdue", count=status.overdue))
        if status.customer_overdue:
            parts.append(text(locale, "progress.customer_overdue", count=status.customer_overdue))
    return text(locale, "progress.separator").join(parts)


def owner_label(owner_kind: str, owner_name: str | None, locale: str | None) -> str:
    """Who does a step, in words: `us` / the decision-maker's name (not escaped)."""
    if owner_kind == "customer" and owner_name:
        return owner_name
    return text(locale, "owner.us")


def step_line(
    step_text: str,
    owner_kind: str,
    owner_name: str | None,
    due_on: date,
    locale: str | None,
    flavor: Flavor = "text",
) -> str:
    """`Send the security answers — us, by Tue 12 May` (user text escaped for the flavor)."""
    return text(
        locale,
        "step.line",
        text=escape(step_text, flavor),
        owner=escape(owner_label(owner_kind, owner_name, locale), flavor),
        due=format_date(due_on, locale),
    )


def on_workday(day: date) -> date:
    """The day itself, or the Monday after a Saturday or Sunday."""
    return day + timedelta(days=(7 - day.weekday()) % 7) if day.weekday() >= 5 else day


def default_due(today: date, days: int = DEFAULT_DUE_DAYS) -> date:
    """A new step's date when none is given: a week from today, on a workday."""
    return on_workday(today + timedelta(days=days))
