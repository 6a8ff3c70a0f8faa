"""The small condition language shared by follow-up rules (`ask_when`) and assessment rules.

A condition is parsed once, at load time, from YAML into the frozen dataclasses below and
evaluated against an answers dict. See the header of `prompts/rules.yaml` for the syntax.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

PERSON_MARK = ".N."
# States of a deal's mutual close plan a rule can test with `{plan: [...]}` (coach.plans).
PLAN_STATES: tuple[str, ...] = ("none", "on_track", "overdue", "customer_overdue")


class ConditionSyntaxError(ValueError):
    """A condition that does not parse; the loader turns it into a ContentError."""


@dataclass(frozen=True)
class AnswerIn:
    question_id: str
    values: tuple[str | None, ...]


@dataclass(frozen=True)
class AnswerEmpty:
    question_id: str
    empty: bool


@dataclass(frozen=True)
class AllOf:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    item: Condition


@dataclass(frozen=True)
class AnyPerson:
    item: Condition


@dataclass(frozen=True)
class AllPeople:
    item: Condition


@dataclass(frozen=True)
class AnyPair:
    """Two different decision-makers: one for which `first` holds, another for `second`."""

    first: Condition
    second: Condition


@dataclass(frozen=True)
class QuadrantIn:
    quadrants: tuple[str, ...]


@dataclass(frozen=True)
class PlanIn:
    """The deal's close plan is in one of these states. False whenever the caller gave no
    plan status (so rules about plans never fire for callers that know nothing of plans)."""

    states: tuple[str, ...]


Condition = (
    AnswerIn
    | AnswerEmpty
    | AllOf
    | AnyOf
    | Not
    | AnyPerson
    | AllPeople
    | AnyPair
    | QuadrantIn
    | PlanIn
)


def parse_condition(raw: Any) -> Condition:
    """Parse the YAML form; raises ConditionSyntaxError with a short reason."""
    if not isinstance(raw, Mapping):
        raise ConditionSyntaxError(f"a condition must be a mapping, not {raw!r}")
    keys = set(raw)
    if "answer" in keys:
        qid = raw["answer"]
        if not isinstance(qid, str):
            raise ConditionSyntaxError("`answer` must be a question id")
        if keys == {"answer", "in"}:
            values = raw["in"]
            if not isinstance(values, list) or not all(
                v is None or isinstance(v, str) for v in values
            ):
                raise ConditionSyntaxError(f"`in` must be a list of option values for {qid}")
            return AnswerIn(qid, tuple(values))
        if keys == {"answer", "empty"}:
            if not isinstance(raw["empty"], bool):
                raise ConditionSyntaxError(f"`empty` must be true or false for {qid}")
            return AnswerEmpty(qid, raw["empty"])
        raise ConditionSyntaxError(f"`answer: {qid}` needs exactly one of `in` or `empty`")
    if len(keys) != 1:
        raise ConditionSyntaxError(f"unknown condition {dict(raw)!r}")
    (key,) = keys
    value = raw[key]
    if key in ("all", "any"):
        if not isinstance(value, list):
            raise ConditionSyntaxError(f"`{key}` needs a list of conditions")
        items = tuple(parse_condition(item) for item in value)
        return AllOf(items) if key == "all" else AnyOf(items)
    if key == "not":
        return Not(parse_condition(value))
    if key == "any_person":
        return AnyPerson(parse_condition(value))
    if key == "all_people":
        return AllPeople(parse_condition(value))
    if key == "any_pair":
        if not isinstance(value, Mapping) or set(value) != {"first", "second"}:
            raise ConditionSyntaxError("`any_pair` needs `first` and `second` conditions")
        return AnyPair(parse_condition(value["first"]), parse_condition(value["second"]))
    if key == "quadrant":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConditionSyntaxError("`quadrant` needs a list of quadrants")
        return QuadrantIn(tuple(value))
    if key == "plan":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConditionSyntaxError("`plan` needs a list of plan states")
        return PlanIn(tuple(value))
    raise ConditionSyntaxError(f"unknown condition key {key!r}")


def walk(cond: Condition, in_person: bool = False) -> Iterable[tuple[Condition, bool]]:
    """Every node with whether it sits inside a person quantifier (for load-time checks)."""
    yield cond, in_person
    if isinstance(cond, AllOf | AnyOf):
        for item in cond.items:
            yield from walk(item, in_person)
    elif isinstance(cond, Not):
        yield from walk(cond.item, in_person)
    elif isinstance(cond, AnyPerson | AllPeople):
        yield from walk(cond.item, True)
    elif isinstance(cond, AnyPair):
        yield from walk(cond.first, True)
        yield from walk(cond.second, True)


def substitute(cond: Condition, n: int) -> Condition:
    """Replace `agenda.N.` by `agenda.<n>.` throughout (for per-person follow-ups)."""

    def sub(qid: str) -> str:
        return qid.replace(PERSON_MARK, f".{n}.")

    if isinstance(cond, AnswerIn):
        return AnswerIn(sub(cond.question_id), cond.values)
    if isinstance(cond, AnswerEmpty):
        return AnswerEmpty(sub(cond.question_id), cond.empty)
    if isinstance(cond, AllOf):
        return AllOf(tuple(substitute(i, n) for i in cond.items))
    if isinstance(cond, AnyOf):
        return AnyOf(tuple(substitute(i, n) for i in cond.items))
    if isinstance(cond, Not):
        return Not(substitute(cond.item, n))
    return cond


def answer_ids(cond: Condition) -> set[str]:
    return {node.question_id for node, _ in walk(cond) if isinstance(node, AnswerIn | AnswerEmpty)}


def is_blank(value: object) -> bool:
    return value is None or value == "" or value == []


@dataclass
class Context:
    """What a condition is evaluated against."""

    answers: Mapping[str, object]
    people: tuple[int, ...] = ()
    quadrant: str | None = None
    matched: set[int] | None = None  # people an any_person matched (for reasons)
    pairs: list[tuple[int, int]] | None = None  # (first, second) pairs an any_pair matched
    plan: frozenset[str] | None = None  # the close plan's states; None: not known


def evaluate(cond: Condition, ctx: Context, person: int | None = None) -> bool:
    def value(qid: str) -> object:
        if PERSON_MARK in qid:
            if person is None:
                return None
            qid = qid.replace(PERSON_MARK, f".{person}.")
        return ctx.answers.get(qid)

    if isinstance(cond, AnswerIn):
        v = value(cond.question_id)
        if is_blank(v):
            return None in cond.values
        if isinstance(v, list):
            return any(item in cond.values for item in v)
        return v in cond.values
    if isinstance(cond, AnswerEmpty):
        return is_blank(value(cond.question_id)) == cond.empty
    if isinstance(cond, AllOf):
        return all(evaluate(i, ctx, person) for i in cond.items)
    if isinstance(cond, AnyOf):
        return any(evaluate(i, ctx, person) for i in cond.items)
    if isinstance(cond, Not):
        return not evaluate(cond.item, ctx, person)
    if isinstance(cond, AnyPerson):
        hits = [n for n in ctx.people if evaluate(cond.item, ctx, n)]
        if ctx.matched is not None:
            ctx.matched.update(hits)
        return bool(hits)
    if isinstance(cond, AllPeople):
        return all(evaluate(cond.item, ctx, n) for n in ctx.people)
    if isinstance(cond, AnyPair):
        pairs = [
            (a, b)
            for a in ctx.people
            for b in ctx.people
            if a != b and evaluate(cond.first, ctx, a) and evaluate(cond.second, ctx, b)
        ]
        if ctx.matched is not None and pairs:
            ctx.matched.update(pairs[0])
            if ctx.pairs is not None:
                ctx.pairs.extend(pairs)
        return bool(pairs)
    if isinstance(cond, QuadrantIn):
        return ctx.quadrant in cond.quadrants
    if isinstance(cond, PlanIn):
        return ctx.plan is not None and any(s in ctx.plan for s in cond.states)
    raise TypeError(f"unknown condition {cond!r}")  # pragma: no cover


Evaluator = Callable[[Condition, Context], bool]
