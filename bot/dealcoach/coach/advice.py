"""Advice: one intermediate model, rendered for the terminal, Slack and Teams.

`build_advice` gathers everything the advice says into an `AdviceModel` (data, localized
labels, no markup). `render_advice(model, flavor)` renders the locale's Jinja2 templates
(`prompts/<locale>/advice/*.j2`) once per section, with the flavor's escaper applied to
every value (see coach.markup), into a `RenderedAdvice` that the Slack and Teams adapters
turn into blocks and cards. `render_text` lays it out for a terminal.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Literal

import jinja2
from pydantic import BaseModel, ConfigDict, Field

from dealcoach.coach import conditions as cond
from dealcoach.coach.assessment import (
    KEY_ROLES,
    Assessment,
    Finding,
    Side,
    person_name,
)
from dealcoach.coach.bank import ADVICE_TEMPLATES, QuestionBank, load_bank
from dealcoach.coach.coverage import coverage, coverage_line
from dealcoach.coach.machine import named_people
from dealcoach.coach.markup import ESCAPERS, Flavor, make_env, tidy
from dealcoach.coach.planner import Action, person_short_name, personal_questions
from dealcoach.coach.plans import PlanStatus, progress_line
from dealcoach.errors import ContentError

NEXT_ACTIONS = 3
FitStatus = Literal["passed", "partial", "failed", "unverified"]
MustHear = Literal["gaps", "readiness", "downsides", "price"]


class PersonAgenda(BaseModel):
    number: int
    name: str  # the short name (see planner.short_name)
    who: str = ""  # the whole `who` answer, shown once
    stance: str | None = None
    stance_label: str | None = None
    role: str | None = None
    role_label: str | None = None
    is_key: bool = False
    interests: list[str] = Field(default_factory=list)  # labels, the user's own included
    certainty: str | None = None
    certainty_label: str | None = None
    known: bool = False  # certainty confirmed or assumed
    translation: str | None = None
    new_in_role: bool = False
    competitor_relationship: bool = False
    discovery_plan: str | None = None
    discovery_questions: list[str] = Field(default_factory=list)


class FitSummary(BaseModel):
    status: FitStatus
    need: str | None = None
    requirements_label: str | None = None
    price_label: str | None = None
    compared_label: str | None = None
    findings: list[Finding] = Field(default_factory=list)


class BenefitSummary(BaseModel):
    customer_side: Side
    customer_side_label: str
    our_side: Side
    our_side_label: str
    customer_wins: str | None = None
    we_win: str | None = None
    strategic_reason: str | None = None
    margin_label: str | None = None
    customer_ready_label: str | None = None
    pros_cons_label: str | None = None
    pros_cons: str | None = None
    customer_must_hear: list[MustHear] = Field(default_factory=list)
    walk_away: bool = False
    findings: list[Finding] = Field(default_factory=list)


class AnswerChange(BaseModel):
    question_id: str
    label: str
    before: str
    after: str


class Changes(BaseModel):
    quadrant_before: str
    quadrant_before_label: str
    recommendation_before: str
    recommendation_before_label: str
    verdict_changed: bool
    flags_added: list[str] = Field(default_factory=list)  # labels
    flags_resolved: list[str] = Field(default_factory=list)
    answers_changed: list[AnswerChange] = Field(default_factory=list)


class PreviousReview(BaseModel):
    """An earlier review of the same deal, for "what changed since last time"."""

    answers: dict[str, str | float | list[str] | None]
    assessment: Assessment


class AdviceModel(BaseModel):
    locale: str
    content_version: str
    deal_name: str
    account: str | None = None
    value: float | None = None
    stage_label: str | None = None
    quadrant: str
    quadrant_label: str
    recommendation: str
    recommendation_label: str
    recommendation_reason: str
    fit: FitSummary
    people: list[PersonAgenda] = Field(default_factory=list)
    key_people_unknown: list[str] = Field(default_factory=list)  # names
    agenda_findings: list[Finding] = Field(default_factory=list)
    benefit: BenefitSummary
    signals: list[Finding] = Field(default_factory=list)
    actions: list[Action] = Field(default_factory=list)  # at most three, most urgent first
    later: list[Action] = Field(default_factory=list)
    failure: str | None = None  # the verdict's first line when the business round failed
    conflicts: list[Finding] = Field(default_factory=list)  # decision-makers in conflict
    next_actions: list[str] = Field(default_factory=list)  # texts of `actions` (older readers)
    more_steps: list[str] = Field(default_factory=list)  # texts of `later`
    changes: Changes | None = None
    # The buying committee in one line ("3 of 5 agendas confirmed · no economic buyer named ·
    # 1 against (Gerard)"), plain text: the templates escape it like every value. None in
    # advice stored before issue 15, and when nobody is named.
    coverage_line: str | None = None
    # The deal's close plan when the review was completed ("2 of 5 steps done, 1 overdue");
    # None without a plan (or in advice stored before issue 15).
    plan_progress: str | None = None


class RenderedSection(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: str
    title: str
    body: str


class RenderedAdvice(BaseModel):
    model_config = ConfigDict(frozen=True)
    flavor: Flavor
    title: str
    verdict: str
    sections: list[RenderedSection]
    next_steps: list[str]
    fallback: str


# --- building ----------------------------------------------------------------------------------


def _text(answers: Mapping[str, object], qid: str) -> str | None:
    value = answers.get(qid)
    return value.strip() or None if isinstance(value, str) else None


def _label(bank: QuestionBank, answers: Mapping[str, object], qid: str) -> str | None:
    value = answers.get(qid)
    return bank.option_label(qid, value) if isinstance(value, str) and value else None


def _findings(assessment: Assessment, prefix: str) -> list[Finding]:
    return [f for f in assessment.findings if f.rule.startswith(prefix)]


def _fit_status(answers: Mapping[str, object]) -> FitStatus:
    req, price = answers.get("fit.requirements_met"), answers.get("fit.price_market_conform")
    if req == "no" or price == "no":
        return "failed"
    if req in (None, "unknown") or price in (None, "unknown"):
        return "unverified"
    if req == "partly":
        return "partial"
    return "passed"


def _failure(bank: QuestionBank, answers: Mapping[str, object]) -> str | None:
    req = answers.get("fit.requirements_met") == "no"
    price = answers.get("fit.price_market_conform") == "no"
    if req and price:
        return bank.labels.failure["both"]
    if req:
        return bank.labels.failure["requirements"]
    if price:
        return bank.labels.failure["price"]
    return None


def _people(bank: QuestionBank, answers: Mapping[str, object]) -> list[PersonAgenda]:
    out = []
    for n in named_people(answers, bank.max_people):
        role = answers.get(f"agenda.{n}.role")
        certainty = answers.get(f"agenda.{n}.certainty")
        chosen = answers.get(f"agenda.{n}.interests")
        interests = [
            bank.interests[i].label
            for i in (chosen if isinstance(chosen, list) else [])
            if i in bank.interests
        ]
        own = _text(answers, f"agenda.{n}.other_interest")
        if own:
            interests.extend(part.strip() for part in own.split(",") if part.strip())
        known = certainty in ("confirmed", "assumed")
        stance = answers.get(f"agenda.{n}.stance")
        out.append(
            PersonAgenda(
                number=n,
                name=person_short_name(bank, answers, n),
                who=person_name(bank, answers, n),
                stance=stance if isinstance(stance, str) else None,
                stance_label=_label(bank, answers, f"agenda.{n}.stance"),
                role=role if isinstance(role, str) else None,
                role_label=_label(bank, answers, f"agenda.{n}.role"),
                is_key=role in KEY_ROLES,
                interests=interests,
                certainty=certainty if isinstance(certainty, str) else None,
                certainty_label=_label(bank, answers, f"agenda.{n}.certainty"),
                known=known,
                translation=_text(answers, f"agenda.{n}.translation"),
                new_in_role=answers.get(f"agenda.{n}.new_in_role") == "yes",
                competitor_relationship=answers.get(f"agenda.{n}.competitor_relationship") == "yes",
                discovery_plan=_text(answers, f"agenda.{n}.discovery_plan"),
                discovery_questions=[] if known else personal_questions(bank, answers, n),
            )
        )
    return out


def _must_hear(answers: Mapping[str, object]) -> list[MustHear]:
    out: list[MustHear] = []
    if answers.get("fit.requirements_met") in ("partly", "no"):
        out.append("gaps")
    if answers.get("benefit.customer_ready") in ("doubtful", "no"):
        out.append("readiness")
    if answers.get("benefit.pros_cons_explained") != "yes":
        out.append("downsides")
    if answers.get("fit.price_market_conform") == "no":
        out.append("price")
    return out


def _show(bank: QuestionBank, qid: str, value: object) -> str:
    if cond.is_blank(value):
        return "—"
    if isinstance(value, list):
        return ", ".join(bank.option_label(qid, str(v)) for v in value)
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() else f"{value:,.2f}"
    if isinstance(value, str) and bank.questions.get(qid) and bank.question(qid).options:
        return bank.option_label(qid, value)
    return str(value)


def _changes(
    bank: QuestionBank,
    answers: Mapping[str, object],
    assessment: Assessment,
    previous: PreviousReview,
) -> Changes:
    before = previous.assessment
    flag_label = bank.labels.flags
    changed: list[AnswerChange] = []
    for qid, question in bank.questions.items():
        old, new = previous.answers.get(qid), answers.get(qid)
        if cond.is_blank(old) and cond.is_blank(new):
            continue
        if old != new:
            label = question.label
            if question.person is not None:
                label = f"{bank.person_label(question.person)} · {label}"
            changed.append(
                AnswerChange(
                    question_id=qid,
                    label=label,
                    before=_show(bank, qid, old),
                    after=_show(bank, qid, new),
                )
            )
    return Changes(
        quadrant_before=before.quadrant,
        quadrant_before_label=bank.labels.quadrants[before.quadrant],
        recommendation_before=before.recommendation,
        recommendation_before_label=bank.labels.recommendations[before.recommendation],
        verdict_changed=(before.quadrant, before.recommendation)
        != (assessment.quadrant, assessment.recommendation),
        flags_added=[flag_label.get(f, f) for f in assessment.flags if f not in before.flags],
        flags_resolved=[flag_label.get(f, f) for f in before.flags if f not in assessment.flags],
        answers_changed=changed,
    )


def build_advice(
    bank: QuestionBank,
    answers: Mapping[str, object],
    assessment: Assessment,
    previous: PreviousReview | None = None,
    *,
    plan_status: PlanStatus | None = None,
) -> AdviceModel:
    """Everything the advice says, as data (validated answers, their assessment).
    `plan_status`: the deal's close plan (the progress line is shown when it has steps)."""
    labels = bank.labels
    value = answers.get("deal.value")
    people = _people(bank, answers)
    committee = coverage(answers, bank)
    return AdviceModel(
        locale=bank.locale,
        content_version=bank.content_version,
        deal_name=_text(answers, "deal.name") or "—",
        account=_text(answers, "deal.account"),
        value=float(value) if isinstance(value, int | float) else None,
        stage_label=_label(bank, answers, "deal.stage"),
        quadrant=assessment.quadrant,
        quadrant_label=labels.quadrants[assessment.quadrant],
        recommendation=assessment.recommendation,
        recommendation_label=labels.recommendations[assessment.recommendation],
        recommendation_reason=assessment.recommendation_reason,
        fit=FitSummary(
            status=_fit_status(answers),
            need=_text(answers, "fit.need"),
            requirements_label=_label(bank, answers, "fit.requirements_met"),
            price_label=_label(bank, answers, "fit.price_market_conform"),
            compared_label=_label(bank, answers, "fit.offers_compared"),
            findings=_findings(assessment, "fit."),
        ),
        people=people,
        key_people_unknown=[p.name for p in people if p.is_key and not p.known],
        agenda_findings=_findings(assessment, "agenda."),
        benefit=BenefitSummary(
            customer_side=assessment.customer_side,
            customer_side_label=labels.sides[assessment.customer_side],
            our_side=assessment.our_side,
            our_side_label=labels.sides[assessment.our_side],
            customer_wins=_text(answers, "benefit.customer_wins"),
            we_win=_text(answers, "benefit.we_win"),
            strategic_reason=_text(answers, "benefit.strategic_reason"),
            margin_label=_label(bank, answers, "benefit.margin"),
            customer_ready_label=_label(bank, answers, "benefit.customer_ready"),
            pros_cons_label=_label(bank, answers, "benefit.pros_cons_explained"),
            pros_cons=_text(answers, "benefit.pros_cons_explained"),
            customer_must_hear=_must_hear(answers),
            walk_away=assessment.recommendation == "walk_away",
            findings=_findings(assessment, "benefit."),
        ),
        signals=_findings(assessment, "signals."),
        actions=list(assessment.actions),
        later=list(assessment.later),
        failure=_failure(bank, answers),
        conflicts=[f for f in assessment.findings if f.flag == "interests_conflict"],
        next_actions=[a.text for a in assessment.actions]
        if assessment.actions
        else assessment.next_steps[:NEXT_ACTIONS],
        more_steps=[a.text for a in assessment.later]
        if assessment.actions
        else assessment.next_steps[NEXT_ACTIONS:],
        changes=_changes(bank, answers, assessment, previous) if previous else None,
        coverage_line=coverage_line(committee, bank.locale, "text") if committee.named else None,
        plan_progress=progress_line(plan_status, bank.locale)
        if plan_status is not None and plan_status.has_plan
        else None,
    )


# --- rendering ---------------------------------------------------------------------------------


@lru_cache(maxsize=32)
def _env(flavor: Flavor, folder: str) -> jinja2.Environment:
    return make_env(flavor, Path(folder))


def render_advice(
    model: AdviceModel, flavor: Flavor, *, bank: QuestionBank | None = None
) -> RenderedAdvice:
    """Render every advice template of the model's locale for one flavor."""
    bank = bank or load_bank(model.locale)
    env = _env(flavor, str(bank.advice_dir))
    context = {name: getattr(model, name) for name in type(model).model_fields}
    rendered: dict[str, tuple[str, str]] = {}
    for name in ADVICE_TEMPLATES:
        template = env.get_template(f"{name}.j2")
        try:
            module = template.make_module(context)
        except jinja2.TemplateError as exc:
            path = str(bank.advice_dir / f"{name}.j2")
            raise ContentError(path, f"template error: {exc}") from None
        title = str(getattr(module, "title", "")).strip()
        rendered[name] = (title, tidy(str(module)))
    escaper = ESCAPERS[flavor]
    sections = [
        RenderedSection(id=name, title=title, body=body)
        for name, (title, body) in rendered.items()
        if name != "title" and body
    ]
    title = rendered["title"][1]
    fallback = "\n\n".join(
        [title] + [f"{s.title}\n{s.body}" if s.title else s.body for s in sections]
    )
    return RenderedAdvice(
        flavor=flavor,
        title=title,
        verdict=rendered["verdict"][1],
        sections=sections,
        next_steps=[escaper(step) for step in model.next_actions + model.more_steps],
        fallback=fallback,
    )


def render_text(model: AdviceModel, *, bank: QuestionBank | None = None) -> str:
    """The advice laid out for a terminal (plain text, no markup)."""
    advice = render_advice(model, "text", bank=bank)
    parts = [advice.title, "=" * min(len(advice.title), 72)]
    for section in advice.sections:
        parts.append("")
        if section.title and section.id != "verdict":
            parts.append(section.title)
        parts.append(section.body)
    return "\n".join(parts) + "\n"
