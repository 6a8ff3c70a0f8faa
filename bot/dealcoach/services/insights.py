"""Outcomes that teach (issue 15): why a deal was lost, and what predicts a win.

- `record_outcome_reason(uow, actor, review_id, reason, text)`: after *Record outcome* says
  lost or walked away, the reason (price, no_decision, competitor, timing, fit, other, plus an
  optional text ≤ 300) is stored on the deal's last completed review — only by the rep whose
  review it is, only for a deal that is lost or walked away from.
- `insights(uow, manager_id, since, locale)`: for a manager's team (their `team_membership`
  members) or everyone (`manager_id` None), the win rate of closed deals with and without each
  flag and key answer, with 90 % Wilson intervals (`coach.insights`); a line is shown only when
  at least 20 closed deals back it (with and without together) and both groups have a deal.
  The counting is SQL (`store.insights`), Python only reshapes the aggregated rows.
  `InsightsReport.table()` is the `dealcoach insights` output; `lines(flavor)` the digest's.
- `team_insights(uow, managers, since, until)`: the same for many managers at once, keyed by
  manager id, in one statement whatever their number (`store.insights.insight_counts`) — the
  monthly digest section (`digest.compose`).
- `cli_insights(uow, workspace, manager, since, locale)`: `dealcoach insights [--team
  MANAGER]`, the manager named the way `dealcoach team` / `prep` name people (`UMIA`,
  `slack:UMIA`, `slack:T1:UMIA`; `--workspace` for a bare id when several are known).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from dealcoach.coach.bank import load_bank
from dealcoach.coach.insights import (
    MIN_CLOSED_DEALS,
    FeatureInsight,
    Rate,
    feature_insights,
    feature_labels,
    insight_lines,
    percent,
    rate_text,
)
from dealcoach.coach.markup import Flavor
from dealcoach.errors import NotFound
from dealcoach.services.actors import Actor
from dealcoach.services.plans import PlanInvalid, PlanRefused, pt
from dealcoach.store import insights as q
from dealcoach.store.digests import team_scope
from dealcoach.store.models import OUTCOME_REASONS
from dealcoach.store.uow import AsyncStore, Store, UnitOfWork

MAX_REASON_TEXT = 300
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class LossReason:
    reason: str | None  # None: lost without a recorded reason
    deals: int

    def label(self, locale: str | None) -> str:
        return pt(locale, f"reason.{self.reason}" if self.reason else "reason.none")


@dataclass(frozen=True)
class InsightsReport:
    locale: str
    scope_label: str  # "Team of Mia" / "All teams" (plain text)
    since: date | None
    deals: int  # closed deals in scope
    won: int
    features: tuple[FeatureInsight, ...]
    loss_reasons: tuple[LossReason, ...]
    flag_labels: dict[str, str]
    min_deals: int = MIN_CLOSED_DEALS

    @property
    def shown(self) -> list[FeatureInsight]:
        return [f for f in self.features if f.shown]

    def lines(self, flavor: Flavor = "text") -> list[str]:
        """The sentences of the features shown (digest, chat)."""
        return insight_lines(self.features, self.locale, self.flag_labels, flavor)

    def summary(self) -> str:
        rate, _ = rate_text(Rate(self.won, self.deals), self.locale)
        return pt(self.locale, "insights.summary", deals=self.deals, won=self.won, rate=rate)

    def text(self) -> str:
        """Title, summary, the lines (or why there are none), the rule, the loss reasons."""
        loc = self.locale
        head = pt(loc, "insights.title") + " — " + self.scope_label
        if self.since is not None:
            head += ", " + pt(loc, "insights.since", date=self.since.isoformat())
        out = [head, self.summary(), ""]
        if self.deals < self.min_deals:
            out.append(pt(loc, "insights.too_few", deals=self.deals, min=self.min_deals))
        else:
            out.extend(self.lines() or [pt(loc, "insights.none_shown")])
        out += ["", pt(loc, "insights.rule", min=self.min_deals)]
        out += self._reasons()
        return "\n".join(out)

    def table(self) -> str:
        """`dealcoach insights`: a plain-text table, a row per feature shown: its label, then
        won/deals, rate and 90 % interval with it and (after the without label) without it."""
        loc = self.locale
        head = pt(loc, "insights.title") + " — " + self.scope_label
        if self.since is not None:
            head += ", " + pt(loc, "insights.since", date=self.since.isoformat())
        out = [head, self.summary(), ""]
        rows = [
            (
                pt(loc, "insights.column.feature"),
                pt(loc, "insights.column.with"),
                pt(loc, "insights.column.without"),
            )
        ]
        for item in self.shown:
            with_label, without_label = feature_labels(item, loc, self.flag_labels, "text")
            rows.append(
                (
                    with_label,
                    _cell(item.with_feature, loc),
                    f"{without_label}: {_cell(item.without, loc)}",
                )
            )
        if len(rows) == 1:
            key = "insights.too_few" if self.deals < self.min_deals else "insights.none_shown"
            out.append(pt(loc, key, deals=self.deals, min=self.min_deals))
        else:
            widths = [max(len(r[i]) for r in rows) for i in range(3)]
            for n, row in enumerate(rows):
                out.append(
                    " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
                )
                if n == 0:
                    out.append("-+-".join("-" * w for w in widths))
        out += ["", pt(loc, "insights.rule", min=self.min_deals)]
        out += self._reasons()
        return "\n".join(out)

    def _reasons(self) -> list[str]:
        if not self.loss_reasons:
            return []
        loc = self.locale
        return ["", pt(loc, "insights.reasons")] + [
            "  " + pt(loc, "insights.reason_line", reason=r.label(loc), count=r.deals)
            for r in self.loss_reasons
        ]


def _cell(rate: Rate, locale: str) -> str:
    """`21/34 62 % (48–74 %)`: won/deals, the rate and its 90 % interval."""
    share, _ = rate_text(rate, locale)
    bounds = rate.interval
    if bounds is None:
        return f"{rate.won}/{rate.deals} {share}"
    low, high = (percent(b) for b in bounds)
    return f"{rate.won}/{rate.deals} {share} ({pt(locale, 'insights.range', low=low, high=high)})"


def _since(value: date | datetime | None) -> tuple[date | None, datetime | None]:
    """`--since`: a date is midnight UTC; an aware datetime as given (naive: UTC)."""
    if value is None:
        return None, None
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.date(), moment
    return value, datetime.combine(value, time.min, tzinfo=UTC)


def _report(
    locale: str,
    scope_label: str,
    since: date | None,
    totals: q.TotalsRow | None,
    features: Sequence[q.FeatureCountRow],
    reasons: Sequence[q.LossReasonRow],
) -> InsightsReport:
    deals = totals.deals if totals else 0
    won = totals.won if totals else 0
    return InsightsReport(
        locale=locale,
        scope_label=scope_label,
        since=since,
        deals=deals,
        won=won,
        features=tuple(
            feature_insights(deals, won, ((f.kind, f.feature, f.deals, f.won) for f in features))
        ),
        loss_reasons=tuple(LossReason(r.reason, r.deals) for r in reasons),
        flag_labels=dict(load_bank(locale).labels.flags),
    )


# --- use cases: fn(uow, …) ------------------------------------------------------------------


def insights(
    uow: UnitOfWork,
    manager_id: int | None = None,
    since: date | datetime | None = None,
    locale: str = "en",
) -> InsightsReport:
    """What predicts a win for one manager's team (a person id), or everyone (None)."""
    day, moment = _since(since)
    if manager_id is None:
        scope = None
        label = pt(locale, "insights.scope_all")
        owner = q.EVERYONE
    else:
        manager = uow.people.get(manager_id)
        if manager is None:
            raise NotFound(f"person {manager_id} does not exist")
        scope = team_scope([manager_id])
        label = pt(locale, "insights.scope_team", manager=manager.display_name or manager.user_id)
        owner = manager_id
    counts = q.insight_counts(uow.session, scope, moment)
    totals = next((t for t in counts.totals if t.owner_id == owner), None)
    return _report(locale, label, day, totals, counts.features, counts.reasons)


def team_insights(
    uow: UnitOfWork,
    managers: Sequence[tuple[int, str]],
    since: date | datetime | None = None,
    until: datetime | None = None,
) -> dict[int, InsightsReport]:
    """For many managers at once (`(manager_id, locale)`; the monthly digest section): the
    same counts in one statement for all their teams (closed deals whose last review was
    completed in [since, until))."""
    if not managers:
        return {}
    day, moment = _since(since)
    scope = team_scope([m for m, _ in managers])
    counts = q.insight_counts(uow.session, scope, moment, until)
    out: dict[int, InsightsReport] = {}
    for manager_id, locale in managers:
        out[manager_id] = _report(
            locale,
            "",
            day,
            next((t for t in counts.totals if t.owner_id == manager_id), None),
            [f for f in counts.features if f.owner_id == manager_id],
            [r for r in counts.reasons if r.owner_id == manager_id],
        )
    return out


def cli_insights(
    uow: UnitOfWork,
    workspace: str | None,
    manager: str | None,
    since: date | datetime | None = None,
    locale: str = "en",
) -> InsightsReport:
    """`dealcoach insights [--team MANAGER] [--since DATE]`: everyone, or one manager's team
    (an unknown person, or someone who manages nobody, is `NotFound`)."""
    # (imported here: services.reporting reaches the digest, whose composer imports this module)
    from dealcoach.services.reporting import find_workspace, resolver

    if manager is None or not manager.strip():
        return insights(uow, None, since, locale)
    workspace_of, user_id = resolver(uow, lambda: find_workspace(uow, workspace))(manager)
    person = uow.people.find(workspace_of.id, user_id)
    if person is None:
        raise NotFound(f"no user {manager.strip()!r} is known in {workspace_of.external_id}")
    if not uow.reporting.member_ids(person.id):
        raise NotFound(f"{manager.strip()} manages nobody (dealcoach team add --manager …)")
    return insights(uow, person.id, since, locale)


def clean_reason_text(raw: object) -> str | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if not isinstance(raw, str) or _CONTROL.search(raw):
        raise PlanInvalid("bad_text", "the text contains characters that cannot be stored")
    value = re.sub(r"\s+", " ", raw).strip()
    if len(value) > MAX_REASON_TEXT:
        raise PlanInvalid("reason_text", f"keep the reason under {MAX_REASON_TEXT} characters")
    return value


def record_outcome_reason(
    uow: UnitOfWork, actor: Actor, review_id: int, reason: str, text: object = None
) -> int:
    """Store why the deal of this review was lost (on the deal's last completed review,
    whose id is returned). Call it after the outcome is recorded as lost / walked away."""
    review = uow.reviews.get(review_id)
    if review is None:
        raise NotFound(f"review {review_id} does not exist")
    person = uow.people.find_by_platform(actor.platform, actor.workspace_id, actor.user_id)
    if person is None or review.person_id != person.id:
        raise PlanRefused("not_owner", "only the rep whose review it is can record why")
    if reason not in OUTCOME_REASONS:
        raise PlanInvalid("reason", f"reason must be one of {', '.join(OUTCOME_REASONS)}")
    deal = review.deal
    if deal is None or deal.outcome not in q.LOST:
        raise PlanInvalid("not_lost", "a reason is recorded only for a lost deal")
    stored = q.set_outcome_reason(uow.session, deal.id, reason, clean_reason_text(text))
    if stored is None:
        raise PlanInvalid("not_lost", "this deal has no completed review")
    return stored


# --- services ----------------------------------------------------------------------------------


class InsightsService:
    def __init__(self, store: Store) -> None:
        self.store = store

    def insights(
        self,
        manager_id: int | None = None,
        since: date | datetime | None = None,
        locale: str = "en",
    ) -> InsightsReport:
        return self.store.run(insights, manager_id, since, locale)

    def team_insights(
        self,
        managers: Sequence[tuple[int, str]],
        since: date | datetime | None = None,
        until: datetime | None = None,
    ) -> dict[int, InsightsReport]:
        return self.store.run(team_insights, managers, since, until)

    def record_outcome_reason(
        self, actor: Actor, review_id: int, reason: str, text: object = None
    ) -> int:
        return self.store.run(record_outcome_reason, actor, review_id, reason, text)


class AsyncInsightsService:
    def __init__(self, store: AsyncStore) -> None:
        self.store = store

    async def insights(
        self,
        manager_id: int | None = None,
        since: date | datetime | None = None,
        locale: str = "en",
    ) -> InsightsReport:
        return await self.store.run(insights, manager_id, since, locale)

    async def record_outcome_reason(
        self, actor: Actor, review_id: int, reason: str, text: object = None
    ) -> int:
        return await self.store.run(record_outcome_reason, actor, review_id, reason, text)
