"""Answers → Assessment, by the rules in `prompts/rules.yaml`.

Each rule that fires can raise a flag (with a reason in words), decide a side (the customer
or us wins/loses) and propose a recommendation. The quadrant follows from the two sides
(`unclear` while a side is unknown); the most severe recommendation proposed wins
(walk_away > renegotiate > strengthen > pursue), and `pursue` is only ever proposed by the
rule that checks DESIGN.md's rule 5. The moves (`actions`, `later`, and `next_steps`, their
texts) come from the action planner (coach.planner), which orders the fired rules' candidate
moves by urgency and drops what contradicts the verdict. People are called by their short
name (see planner.short_name) in every reason and move.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Literal

import jinja2
from pydantic import BaseModel, ConfigDict, Field

from dealcoach.coach import conditions as cond
from dealcoach.coach.bank import (
    Quadrant,
    QuestionBank,
    Recommendation,
    Rule,
    load_bank,
)
from dealcoach.coach.machine import named_people
from dealcoach.coach.markup import make_env
from dealcoach.coach.planner import (
    Action,
    Fired,
    Plan,
    join_names,
    person_short_name,
    plan,
    plan_values,
)
from dealcoach.coach.plans import PlanStatus

Side = Literal["win", "lose", "unclear"]
SEVERITY: dict[str, int] = {"pursue": 0, "strengthen": 1, "renegotiate": 2, "walk_away": 3}
KEY_ROLES = ("economic_buyer", "champion")


class Finding(BaseModel):
    model_config = ConfigDict(frozen=True)
    flag: str
    rule: str
    label: str
    reason: str


class Assessment(BaseModel):
    """The contract fields of DESIGN.md plus the explanation of how they came about."""

    quadrant: Quadrant
    recommendation: Recommendation
    flags: list[str] = Field(default_factory=list)
    actions: list[Action] = Field(default_factory=list)  # at most 3, most urgent first
    later: list[Action] = Field(default_factory=list)  # at most 3 more
    next_steps: list[str] = Field(default_factory=list)  # texts of actions, then later
    findings: list[Finding] = Field(default_factory=list)
    recommendation_reason: str
    rules: list[str] = Field(default_factory=list)
    customer_side: Side = "unclear"
    our_side: Side = "unclear"
    locale: str = "en"
    content_version: str = ""


def person_name(bank: QuestionBank, answers: Mapping[str, object], n: int) -> str:
    who = answers.get(f"agenda.{n}.who")
    if isinstance(who, str) and who.strip():
        return who.strip()
    role = answers.get(f"agenda.{n}.role")
    if isinstance(role, str) and role:
        return bank.option_label(f"agenda.{n}.role", role)
    return bank.person_label(n)


@lru_cache(maxsize=512)
def _template(source: str) -> jinja2.Template:
    return make_env("text").from_string(source)


def _say(source: str, **values: object) -> str:
    return str(_template(source).render(**values)).strip()


def _side(sides: list[str]) -> Side:
    if "lose" in sides:
        return "lose"
    if "win" in sides:
        return "win"
    return "unclear"


def _quadrant(customer: Side, us: Side) -> Quadrant:
    if customer == "unclear" or us == "unclear":
        return "unclear"
    key = f"{customer}_{us}"
    assert key in ("win_win", "win_lose", "lose_win", "lose_lose")
    return key  # type: ignore[return-value]


def fit_failed(answers: Mapping[str, object]) -> bool:
    return "no" in (answers.get("fit.requirements_met"), answers.get("fit.price_market_conform"))


def assess(
    answers: Mapping[str, object],
    locale: str = "en",
    *,
    bank: QuestionBank | None = None,
    plan_status: PlanStatus | None = None,
) -> Assessment:
    """Apply the rules to validated answers (see coach.answers.validate_answers).

    `plan_status`: the deal's mutual close plan (coach.plans), when the caller knows it; the
    plan rules (`{plan: …}` conditions) fire only with it, so None changes nothing."""
    return assess_and_plan(answers, locale, bank=bank, plan_status=plan_status)[0]


def assess_and_plan(
    answers: Mapping[str, object],
    locale: str = "en",
    *,
    bank: QuestionBank | None = None,
    plan_status: PlanStatus | None = None,
) -> tuple[Assessment, Plan]:
    """`assess`, plus the planner's working (each move's kind and spec, what was dropped)."""
    bank = bank or load_bank(locale)
    plan_states = plan_status.states() if plan_status is not None else None
    slip = plan_values(plan_status, bank.locale)
    people = named_people(answers, bank.max_people)
    deal = answers.get("deal.name") or ""
    side_rules = [r for r in bank.rules if r.side is not None]
    other_rules = [r for r in bank.rules if r.side is None]

    fired: list[tuple[Rule, list[int]]] = []
    pairs: dict[str, list[tuple[int, int]]] = {}

    def run(rule: Rule, quadrant: str | None) -> None:
        matched: set[int] = set()
        found: list[tuple[int, int]] = []
        ctx = cond.Context(
            answers=answers,
            people=people,
            quadrant=quadrant,
            matched=matched,
            pairs=found,
            plan=plan_states,
        )
        if cond.evaluate(rule.when, ctx):
            fired.append((rule, sorted(matched)))
            pairs[rule.id] = found

    for rule in side_rules:
        run(rule, None)
    customer = _side([r.side[1] for r, _ in fired if r.side and r.side[0] == "customer"])
    us = _side([r.side[1] for r, _ in fired if r.side and r.side[0] == "us"])
    quadrant = _quadrant(customer, us)
    for rule in other_rules:
        if not rule.fallback:
            run(rule, quadrant)
    # Restore file order, so findings read business first.
    order = {rule.id: i for i, rule in enumerate(bank.rules)}
    fired.sort(key=lambda item: order[item[0].id])

    def short(n: int) -> str:
        return person_short_name(bank, answers, n)

    def values_for(rule: Rule, matched: list[int]) -> dict[str, object]:
        found = pairs.get(rule.id) or []
        if found:
            matched = list(found[0])
        names = [short(n) for n in matched]
        by_certainty = {
            c: [short(n) for n in people if answers.get(f"agenda.{n}.certainty") == c]
            for c in ("confirmed", "assumed")
        }
        return {
            "names": join_names(names, bank.locale) or bank.labels.someone,
            "many": len(names) > 1,
            "deal": deal,
            "first": short(found[0][0]) if found else "",
            "second": short(found[0][1]) if found else "",
            "confirmed": join_names(by_certainty["confirmed"], bank.locale),
            "assumed": join_names(by_certainty["assumed"], bank.locale),
            "confirmed_many": len(by_certainty["confirmed"]) > 1,
            "assumed_many": len(by_certainty["assumed"]) > 1,
            "pros_cons": answers.get("benefit.pros_cons_explained") or "",
            **slip,
        }

    candidates = [(rule, matched) for rule, matched in fired if rule.recommend]
    if not candidates:
        fallback = next(r for r in bank.rules if r.fallback)
        fired.append((fallback, []))
        candidates = [(fallback, [])]
    deciding, deciding_people = max(
        candidates, key=lambda item: SEVERITY[item[0].recommend or "strengthen"]
    )  # max() keeps the first of equals: the earliest rule in the file explains it
    recommendation = deciding.recommend or "strengthen"
    recommendation_reason = _say(
        deciding.recommendation_text or "", **values_for(deciding, deciding_people)
    )

    findings: list[Finding] = []
    flags: list[str] = []
    for rule, matched in fired:
        if rule.flag and rule.flag not in flags:
            flags.append(rule.flag)
            findings.append(
                Finding(
                    flag=rule.flag,
                    rule=rule.id,
                    label=bank.labels.flags[rule.flag],
                    reason=_say(rule.reason or "", **values_for(rule, matched)),
                )
            )
    planned = plan(
        bank,
        answers,
        [Fired(rule.id, tuple(matched), tuple(pairs.get(rule.id, ()))) for rule, matched in fired],
        recommendation=recommendation,
        quadrant=quadrant,
        fit_failed=fit_failed(answers),
        deciding=deciding.id,
        plan_status=plan_status,
    )
    # The reason given is the one behind the first move, when that rule proposes the verdict
    # too (the most urgent reason, not the first in the file).
    first = planned.actions[0].spec.rule if planned.actions else None
    lead = next(
        (
            (rule, matched)
            for rule, matched in fired
            if rule.id == first and rule.recommend == recommendation and rule is not deciding
        ),
        None,
    )
    if lead is not None:
        recommendation_reason = _say(lead[0].recommendation_text or "", **values_for(*lead))
    actions = [m.action for m in planned.actions]
    later = [m.action for m in planned.later]
    result = Assessment(
        quadrant=quadrant,
        recommendation=recommendation,
        flags=flags,
        actions=actions,
        later=later,
        next_steps=[a.text for a in actions + later],
        findings=findings,
        recommendation_reason=recommendation_reason,
        rules=[rule.id for rule, _ in fired],
        customer_side=customer,
        our_side=us,
        locale=bank.locale,
        content_version=bank.content_version,
    )
    return result, planned


def unknown_people(bank: QuestionBank, answers: Mapping[str, object]) -> list[int]:
    """Named decision-makers whose agenda is unknown, economic buyer and champion first."""
    people = [
        n
        for n in named_people(answers, bank.max_people)
        if cond.is_blank(answers.get(f"agenda.{n}.certainty"))
        or answers.get(f"agenda.{n}.certainty") == "unknown"
    ]
    return sorted(people, key=lambda n: answers.get(f"agenda.{n}.role") not in KEY_ROLES)


def discovery_questions(
    bank: QuestionBank, answers: Mapping[str, object], n: int, limit: int | None = None
) -> list[str]:
    """The questions that uncover person n's interests: for the interests the seller
    suspects, else the whole inventory."""
    chosen = answers.get(f"agenda.{n}.interests")
    ids = [i for i in chosen if i in bank.interests] if isinstance(chosen, list) else []
    if not ids:
        ids = list(bank.interests)
    questions = [bank.interests[i].discovery for i in ids]
    return questions[:limit] if limit is not None else questions
