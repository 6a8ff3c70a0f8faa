"""The action planner: from the rules that fired to at most three moves, most urgent first.

Pure. Every candidate move is data (`actions:` in `prompts/rules.yaml`, wording in
`prompts/<locale>/rules.yaml`): the rule it comes from, a kind, an urgency, optional
conditions, and a text and a reason (Jinja2, with the rep's own words available). The
planner

1. keeps the candidates whose rule fired (one per decision-maker for `per_person` moves)
   and whose conditions hold;
2. drops what contradicts the verdict — the *kind* decides: after `walk_away` only `exit`
   moves; a `close` move only when the verdict is `pursue`; when the business round failed
   only `business` moves and urgent `signal`s; `exit` moves never otherwise (`personal`,
   `benefit` and `plan` moves: whenever the verdict is not walk away and the business round
   did not fail) — and the moves that another candidate makes redundant (`unless`);
3. orders the rest by urgency (then file order) and takes at most three as `actions`, the
   same move at most twice (a third person's copy goes to `later`), and a move with
   `after` never before the moves it waits for; at most three more become `later`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import jinja2
from pydantic import BaseModel, ConfigDict

from dealcoach.coach import conditions as cond
from dealcoach.coach.bank import ActionSpec, QuestionBank
from dealcoach.coach.machine import named_people
from dealcoach.coach.markup import make_env
from dealcoach.coach.plan_text import format_date
from dealcoach.coach.plans import PlanStatus

MAX_ACTIONS = 3
MAX_LATER = 3
MAX_SAME = 2  # the same move (for different people) at most twice among the actions
MAX_PERSONAL_QUESTIONS = 2
ROLE_ORDER = ("economic_buyer", "champion", "user", "technical", "other")
_SHORT = re.compile(r"[,(]")


class Action(BaseModel):
    """A move for the rep (contract: `{rule, text, why}`)."""

    model_config = ConfigDict(frozen=True)
    rule: str
    text: str
    why: str


@dataclass(frozen=True)
class Planned:
    """A candidate after planning, with what the planner knew about it."""

    spec: ActionSpec
    text: str
    why: str
    person: int | None = None
    plan: str = ""  # the rep's discovery plan this move quotes (quoted once per advice)

    @property
    def kind(self) -> str:
        return self.spec.kind

    @property
    def action(self) -> Action:
        return Action(rule=self.spec.rule, text=self.text, why=self.why)


@dataclass
class Plan:
    actions: list[Planned] = field(default_factory=list)
    later: list[Planned] = field(default_factory=list)
    dropped: list[Planned] = field(default_factory=list)  # contradicted the verdict


@dataclass(frozen=True)
class Fired:
    """A rule that fired, with the people (and pairs of people) it matched."""

    rule: str
    people: tuple[int, ...] = ()
    pairs: tuple[tuple[int, int], ...] = ()


# --- names ------------------------------------------------------------------------------------


def short_name(who: str) -> str:
    """The name part of an `agenda.N.who` answer: before the first comma or parenthesis."""
    head = _SHORT.split(who, maxsplit=1)[0].strip()
    return head or who.strip()


def person_short_name(bank: QuestionBank, answers: Mapping[str, object], n: int) -> str:
    who = answers.get(f"agenda.{n}.who")
    if isinstance(who, str) and who.strip():
        return short_name(who)
    role = answers.get(f"agenda.{n}.role")
    if isinstance(role, str) and role:
        return bank.option_label(f"agenda.{n}.role", role)
    return bank.person_label(n)


def join_names(names: Sequence[str], locale: str) -> str:
    if len(names) <= 1:
        return "".join(names)
    last = " en " if locale == "nl" else " and "
    return ", ".join(names[:-1]) + last + names[-1]


def _text(answers: Mapping[str, object], qid: str) -> str:
    value = answers.get(qid)
    return value.strip() if isinstance(value, str) else ""


def people_by_role(answers: Mapping[str, object], people: Sequence[int]) -> list[int]:
    def key(n: int) -> int:
        role = answers.get(f"agenda.{n}.role")
        return ROLE_ORDER.index(role) if role in ROLE_ORDER else len(ROLE_ORDER)

    return sorted(people, key=key)


def contact(bank: QuestionBank, answers: Mapping[str, object]) -> str:
    """Whom to put business questions to: the economic buyer, else the champion, else
    whoever is named (not someone against us when there is a choice); else "your contact"."""
    people = people_by_role(answers, named_people(answers, bank.max_people))
    friendly = [n for n in people if answers.get(f"agenda.{n}.stance") != "against"]
    chosen = (friendly or people)[:1]
    if not chosen:
        return bank.labels.contact
    return person_short_name(bank, answers, chosen[0])


def _role_person(answers: Mapping[str, object], people: Sequence[int], role: str) -> int | None:
    return next((n for n in people if answers.get(f"agenda.{n}.role") == role), None)


# --- questions ----------------------------------------------------------------------------------


def personal_questions(
    bank: QuestionBank, answers: Mapping[str, object], n: int, limit: int = MAX_PERSONAL_QUESTIONS
) -> list[str]:
    """What to ask person n (direct speech): the questions for the interests the rep
    suspects, else one open question."""
    chosen = answers.get(f"agenda.{n}.interests")
    ids = [i for i in chosen if i in bank.interests] if isinstance(chosen, list) else []
    if not ids:
        return [bank.labels.open_question]
    return [bank.interests[i].discovery for i in ids][:limit]


def business_questions(bank: QuestionBank, answers: Mapping[str, object]) -> list[str]:
    """The business discovery questions that apply, most relevant first."""
    ctx = cond.Context(answers=answers, people=named_people(answers, bank.max_people))
    return [bank.labels.topics[t.id] for t in bank.topics if cond.evaluate(t.when, ctx)]


# --- rendering ------------------------------------------------------------------------------------


@lru_cache(maxsize=1024)
def _template(source: str) -> jinja2.Template:
    return make_env("text").from_string(source)


def say(source: str, **values: object) -> str:
    text = str(_template(source).render(**values))
    return re.sub(r"[ \t]+", " ", text).strip()


# --- planning -------------------------------------------------------------------------------------


def plan_values(plan_status: PlanStatus | None, locale: str) -> dict[str, object]:
    """What rule and move wording may say about the close plan: the first slipping
    customer step (`slip_owner` by short name, `slip_step`, `slip_due`) and how many more
    of the customer's steps are overdue (`slip_more`); empty without a plan status."""
    first = plan_status.slipping[0] if plan_status is not None and plan_status.slipping else None
    if first is None:
        return {"slip_owner": "", "slip_step": "", "slip_due": "", "slip_more": 0}
    more = max(plan_status.customer_overdue if plan_status else 0, 1) - 1
    return {
        "slip_owner": short_name(first.owner_name),
        "slip_step": first.text,
        "slip_due": format_date(first.due_on, locale),
        "slip_more": more,
    }



def allowed(kind: str, recommendation: str, fit_failed: bool) -> bool:
    """Whether a move of this kind agrees with the verdict."""
    if recommendation == "walk_away":
        return kind == "exit"
    if kind == "exit":
        return False
    if kind == "close" and recommendation != "pursue":
        return False
    return not (fit_failed and kind not in ("business", "signal"))


def plan(
    bank: QuestionBank,
    answers: Mapping[str, object],
    fired: Sequence[Fired],
    *,
    recommendation: str,
    quadrant: str,
    fit_failed: bool,
    deciding: str = "verdict.default",
    plan_status: PlanStatus | None = None,
) -> Plan:
    people = named_people(answers, bank.max_people)
    by_rule = {f.rule: f for f in fired}
    locale = bank.locale
    ordered = people_by_role(answers, people)
    eb = _role_person(answers, ordered, "economic_buyer")
    champion = _role_person(answers, ordered, "champion")
    questions = business_questions(bank, answers)
    account = _text(answers, "deal.account")
    base: dict[str, object] = {
        "deal": _text(answers, "deal.name"),
        "account": account,
        "contact": contact(bank, answers),
        "eb": person_short_name(bank, answers, eb) if eb else "",
        "champion": person_short_name(bank, answers, champion) if champion else "",
        "recommendation": recommendation,
        "quadrant": quadrant,
        "customer_wins": _text(answers, "benefit.customer_wins"),
        "strategic_reason": _text(answers, "benefit.strategic_reason"),
        "margin": answers.get("benefit.margin") or "",
        "pros_cons": answers.get("benefit.pros_cons_explained") or "",
        "ready": answers.get("benefit.customer_ready") or "",
        "silent": answers.get("signals.silent_after_invite") == "yes",
        **plan_values(plan_status, locale),
    }
    ctx = cond.Context(
        answers=answers,
        people=people,
        quadrant=quadrant,
        plan=plan_status.states() if plan_status is not None else None,
    )

    candidates: list[tuple[int, int, Planned]] = []  # (-urgency, order, move)
    for order, spec in enumerate(bank.actions):
        hit = by_rule.get(spec.rule)
        if hit is None:
            continue
        if spec.when is not None and not cond.evaluate(spec.when, ctx):
            continue
        names = [person_short_name(bank, answers, n) for n in hit.people]
        values = dict(base)
        values["names"] = join_names(names, locale) or bank.labels.someone
        values["many"] = len(names) > 1
        if hit.pairs:
            first, second = hit.pairs[0]
            values["first"] = person_short_name(bank, answers, first)
            values["second"] = person_short_name(bank, answers, second)
            values["first_win"] = _text(answers, f"agenda.{first}.translation")
            values["second_win"] = _text(answers, f"agenda.{second}.translation")
            values["second_plan"] = _text(answers, f"agenda.{second}.discovery_plan")
            values["second_ask"] = personal_questions(bank, answers, second)[0]
        else:
            values["first"] = values["second"] = ""
            values["first_win"] = values["second_win"] = ""
            values["second_plan"] = values["second_ask"] = ""
        if spec.topics is not None:
            start, stop = spec.topics
            chosen = questions[start:stop]
            if not chosen:
                continue
            values["questions"] = chosen
        else:
            values["questions"] = questions[:3]
        targets: list[int | None]
        if spec.per_person is not None:
            targets = [n for n in ordered if cond.evaluate(spec.per_person, ctx, n)]
        else:
            targets = [None]
        for rank, n in enumerate(targets):
            v = dict(values)
            if n is not None:
                v.update(
                    name=person_short_name(bank, answers, n),
                    win=_text(answers, f"agenda.{n}.translation"),
                    plan=_text(answers, f"agenda.{n}.discovery_plan"),
                    role=bank.option_label(
                        f"agenda.{n}.role", str(answers.get(f"agenda.{n}.role") or "")
                    ).lower()
                    if answers.get(f"agenda.{n}.role")
                    else "",
                    ask=personal_questions(bank, answers, n),
                    key=answers.get(f"agenda.{n}.role") in ("economic_buyer", "champion"),
                    role_id=answers.get(f"agenda.{n}.role") or "",
                    new=answers.get(f"agenda.{n}.new_in_role") == "yes",
                    access=answers.get(f"agenda.{n}.champion_access") or "",
                    sells=answers.get(f"agenda.{n}.champion_sells") or "",
                )
            text = say(spec.text, **v)
            if not text:
                continue
            quoted = next(
                (p for p in (v.get("plan"), v.get("second_plan")) if isinstance(p, str) and p),
                "",
            )
            move = Planned(
                spec=spec,
                text=text,
                why=say(spec.why, **v),
                person=n,
                plan=quoted if quoted and quoted in text else "",
            )
            candidates.append((-spec.urgency, order * 10 + rank, move))

    candidates.sort(key=lambda item: (item[0], item[1]))
    present = {move.spec.id for _, _, move in candidates}
    kept: list[Planned] = []
    seen_text: set[str] = set()
    result = Plan()
    quoted_plans: set[str] = set()
    for _, _, move in candidates:
        if move.text in seen_text or (move.plan and move.plan in quoted_plans):
            continue
        seen_text.add(move.text)
        if not allowed(move.kind, recommendation, fit_failed) or (set(move.spec.unless) & present):
            result.dropped.append(move)
            continue
        kept.append(move)
        if move.plan:
            quoted_plans.add(move.plan)
    # A move with `after` goes behind the last move it must follow (e.g. no decision date
    # before every assumption is tested).
    for move in [m for m in kept if m.spec.after]:
        behind = [i for i, m in enumerate(kept) if m.spec.id in move.spec.after]
        if behind and behind[-1] > kept.index(move):
            kept.remove(move)
            kept.insert(behind[-1], move)
    for move in kept:
        taken = [m.spec.id for m in result.actions]
        postponed = {m.spec.id for m in result.later}
        if (
            len(result.actions) < MAX_ACTIONS
            and taken.count(move.spec.id) < MAX_SAME
            and not (set(move.spec.after) & postponed)
        ):
            result.actions.append(move)
        elif len(result.later) < MAX_LATER:
            result.later.append(move)
    if not result.actions:
        spec = ActionSpec(
            id="fallback",
            rule=deciding,
            kind="business",
            urgency=0,
            per_person=None,
            when=None,
            unless=(),
            after=(),
            topics=None,
            text=bank.labels.fallback_text,
            why=bank.labels.fallback_why,
        )
        result.actions.append(
            Planned(spec=spec, text=say(spec.text, **base), why=say(spec.why, **base))
        )
    return result
