"""The question bank and the assessment rules, loaded from `prompts/` and validated.

`prompts/questions.yaml` holds the structure (ids, types, option values, rounds, the pages
that show them, follow-up conditions), `prompts/rules.yaml` the assessment rules, and
`prompts/<locale>/` the wording (`questions.yaml`, `rules.yaml`) and the advice templates
(`advice/*.j2`). Everything is checked at load time; a broken file raises `ContentError`
naming the file and the id.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import jinja2
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dealcoach.coach import conditions as cond
from dealcoach.coach.markup import make_env
from dealcoach.errors import ContentError, InputError
from dealcoach.resources import prompts_dir as default_prompts_dir

LOCALES: tuple[str, ...] = ("en", "nl")
QuestionType = Literal["text", "number", "choice", "multi_choice"]
RoundId = Literal["fit", "agenda", "benefit", "signals"]
Quadrant = Literal["win_win", "win_lose", "lose_win", "lose_lose", "unclear"]
Recommendation = Literal["pursue", "strengthen", "renegotiate", "walk_away"]
QUADRANTS: tuple[str, ...] = ("win_win", "win_lose", "lose_win", "lose_lose", "unclear")
RECOMMENDATIONS: tuple[str, ...] = ("pursue", "strengthen", "renegotiate", "walk_away")
ADVICE_TEMPLATES: tuple[str, ...] = (
    "title",
    "verdict",
    "actions",
    "later",
    "fit",
    "agenda",
    "benefit",
    "signals",
    "changes",
)
ActionKind = Literal["exit", "close", "business", "signal", "personal", "benefit", "plan"]
ACTION_KINDS: tuple[str, ...] = (
    "exit",
    "close",
    "business",
    "signal",
    "personal",
    "benefit",
    "plan",
)
DEFAULT_TEXT_LENGTH = 2000


# --- public model ----------------------------------------------------------------------------


class Option(BaseModel):
    model_config = ConfigDict(frozen=True)
    value: str
    label: str


class Question(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)
    id: str
    type: QuestionType
    round: RoundId
    required: bool = False
    options: tuple[Option, ...] = ()
    label: str
    help: str = ""
    ask_when: cond.Condition | None = None
    max_length: int = DEFAULT_TEXT_LENGTH
    person: int | None = None  # 1..max_people (6) for agenda.N.* questions
    template_id: str  # e.g. agenda.N.who (equal to id for the others)

    @property
    def option_values(self) -> tuple[str, ...]:
        return tuple(o.value for o in self.options)

    def option_label(self, value: str) -> str:
        for option in self.options:
            if option.value == value:
                return option.label
        return value


class Interest(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: str
    label: str
    help: str
    discovery: str


class RoundInfo(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: RoundId
    title: str
    intro: str


@dataclass(frozen=True)
class Rule:
    id: str
    when: cond.Condition
    flag: str | None
    side: tuple[Literal["customer", "us"], Literal["win", "lose"]] | None
    recommend: str | None
    fallback: bool
    reason: str | None  # Jinja2 source, localized
    recommendation_text: str | None
    steps: tuple[str, ...]


@dataclass(frozen=True)
class ActionSpec:
    """One candidate move of the action planner (see prompts/rules.yaml, `actions:`)."""

    id: str
    rule: str  # the rule it comes from: the move is a candidate only when that rule fired
    kind: str  # one of ACTION_KINDS: decides under which verdicts the move may be given
    urgency: int  # higher first
    per_person: cond.Condition | None  # one move per named decision-maker this holds for
    when: cond.Condition | None  # an extra condition (may test the quadrant)
    unless: tuple[str, ...]  # dropped when one of these moves is a candidate too
    after: tuple[str, ...]  # comes after every candidate of these moves (never before one)
    topics: tuple[int, int] | None  # a slice of the business questions that apply
    text: str  # Jinja2 source, localized
    why: str


@dataclass(frozen=True)
class Topic:
    id: str
    when: cond.Condition


class Labels(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    quadrants: dict[Quadrant, str]
    recommendations: dict[Recommendation, str]
    sides: dict[Literal["win", "lose", "unclear"], str]
    flags: dict[str, str]
    someone: str
    discovery_step: str
    contact: str  # who to ask when nobody is named
    open_question: str  # the personal question when no interest is picked
    topics: dict[str, str]  # business discovery questions by topic
    fallback_text: str  # the move when nothing else applies
    fallback_why: str
    failure: dict[str, str]  # the verdict's first line when the business round fails


class QuestionBank(BaseModel):
    """One locale's question bank, rules and wording. Immutable; shared across threads."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)
    locale: str
    content_version: str
    prompts_dir: Path
    rounds: tuple[RoundInfo, ...]
    questions: dict[str, Question]  # in asking order
    interests: dict[str, Interest]
    max_people: int
    max_text_length: int
    person_title: str
    rules: tuple[Rule, ...]
    labels: Labels
    actions: tuple[ActionSpec, ...] = ()
    topics: tuple[Topic, ...] = ()
    # The pages a review walks, each the ids of the rounds it shows (every round once, in
    # round order); empty: one page per round.
    page_rounds: tuple[tuple[RoundId, ...], ...] = ()

    def question(self, question_id: str) -> Question:
        return self.questions[question_id]

    def round_info(self, round_id: str) -> RoundInfo:
        return next(r for r in self.rounds if r.id == round_id)

    @property
    def pages(self) -> tuple[tuple[RoundId, ...], ...]:
        """The pages of a review in order, each the ids of its rounds (`pages:` in
        prompts/questions.yaml; one page per round when it is not given)."""
        return self.page_rounds or tuple((r.id,) for r in self.rounds)

    def page_index(self, round_id: str) -> int:
        """The 0-based place of the page that shows round `round_id`.

        Raises `ValueError` for a round the bank does not have."""
        for index, page in enumerate(self.pages):
            if round_id in page:
                return index
        known = ", ".join(r.id for r in self.rounds)
        raise ValueError(f"unknown round {round_id!r} (rounds: {known})")

    def page_of(self, round_id: str) -> tuple[RoundId, ...]:
        """The rounds of the page that shows round `round_id` (see `page_index`)."""
        return self.pages[self.page_index(round_id)]

    def person_label(self, n: int) -> str:
        return self.person_title.format(n=n)

    def option_label(self, question_id: str, value: str) -> str:
        question = self.questions.get(question_id)
        return question.option_label(value) if question else value

    def questions_in(self, round_id: str, person: int | None = None) -> list[Question]:
        return [
            q
            for q in self.questions.values()
            if q.round == round_id and (person is None or q.person == person)
        ]

    @property
    def advice_dir(self) -> Path:
        return self.prompts_dir / self.locale / "advice"


# --- file schemas ----------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _QuestionSpec(_Strict):
    id: str
    round: RoundId
    type: QuestionType
    required: bool = False
    max_length: int | None = Field(default=None, gt=0)
    options: list[str] | None = None
    options_from: Literal["interests"] | None = None
    ask_when: dict[str, Any] | None = None


class _Structure(_Strict):
    max_people: int = Field(ge=1, le=9)
    max_text_length: int = Field(gt=0)
    rounds: list[RoundId]
    pages: list[list[str]] | None = None
    interests: list[str]
    questions: list[dict[str, Any]]


class _RuleSpec(_Strict):
    id: str
    when: dict[str, Any]
    flag: str | None = None
    side: dict[Literal["customer", "us"], Literal["win", "lose"]] | None = None
    recommend: Recommendation | None = None
    fallback: bool = False


class _QuestionText(_Strict):
    label: str = Field(min_length=1)
    help: str = ""
    options: dict[str, str] = Field(default_factory=dict)


class _RoundText(_Strict):
    title: str = Field(min_length=1)
    intro: str = ""


class _InterestText(_Strict):
    label: str = Field(min_length=1)
    help: str = ""
    discovery: str = Field(min_length=1)


class _LocaleQuestions(_Strict):
    rounds: dict[str, _RoundText]
    person_title: str
    questions: dict[str, dict[str, Any]]
    interests: dict[str, dict[str, Any]]


class _RuleText(_Strict):
    reason: str | None = None
    recommendation: str | None = None
    steps: list[str] = Field(default_factory=list)


class _LocaleRules(_Strict):
    labels: dict[str, Any]
    rules: dict[str, dict[str, Any]]
    actions: dict[str, dict[str, Any]] = Field(default_factory=dict)


class _ActionSpec(_Strict):
    id: str
    rule: str
    kind: ActionKind
    urgency: int = Field(ge=0, le=1000)
    per_person: dict[str, Any] | None = None
    when: dict[str, Any] | None = None
    unless: list[str] = Field(default_factory=list)
    after: list[str] = Field(default_factory=list)
    topics: tuple[int, int] | None = None


class _ActionText(_Strict):
    text: str = Field(min_length=1)
    why: str = Field(min_length=1)


class _TopicSpec(_Strict):
    topic: str
    when: dict[str, Any]


# --- loading ---------------------------------------------------------------------------------


def available_locales(prompts_dir: Path | None = None) -> tuple[str, ...]:
    root = prompts_dir or default_prompts_dir()
    return tuple(loc for loc in LOCALES if (root / loc).is_dir())


def load_bank(locale: str, prompts_dir: Path | str | None = None) -> QuestionBank:
    """The validated bank for `locale` ('en' or 'nl'); cached per locale and folder."""
    if locale not in LOCALES:
        raise InputError(f"unknown language {locale!r} (allowed: {', '.join(LOCALES)})")
    if prompts_dir is None:  # the shipped content: its folder resolved once per process
        return _load_bank(locale, _default_root())
    return _load_bank(locale, str(Path(prompts_dir).resolve()))


@lru_cache(maxsize=1)
def _default_root() -> str:
    # (resolving a path stats every component: it was ~5 % of a review's store CPU)
    return str(default_prompts_dir().resolve())


@lru_cache(maxsize=16)
def _load_bank(locale: str, root_str: str) -> QuestionBank:
    return _Loader(Path(root_str), locale).load()


def content_version(prompts_dir: Path) -> str:
    """A short hash over every file in the prompts folder (stored with each review)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in prompts_dir.rglob("*") if p.is_file()):
        rel = path.relative_to(prompts_dir).as_posix()
        if any(part.startswith(".") or part == "__pycache__" for part in rel.split("/")):
            continue
        digest.update(rel.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ContentError(str(path), "file is missing") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ContentError(str(path), f"cannot read: {exc}") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ContentError(str(path), f"not valid YAML{where}: {problem}") from None


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(part) for part in err["loc"])
    return f"{loc}: {err['msg']}" if loc else str(err["msg"])


class _Loader:
    def __init__(self, root: Path, locale: str) -> None:
        self.root = root
        self.locale = locale

    def load(self) -> QuestionBank:
        structure_path = self.root / "questions.yaml"
        structure = self._structure(structure_path)
        specs = self._specs(structure_path, structure)
        words_path = self.root / self.locale / "questions.yaml"
        words = self._locale_words(words_path)
        rounds = self._rounds(words_path, structure, words)
        pages = self._pages(structure_path, structure)
        interests = self._interests(words_path, structure, words)
        questions = self._questions(structure_path, words_path, structure, specs, words, interests)
        rules_path = self.root / "rules.yaml"
        rule_words_path = self.root / self.locale / "rules.yaml"
        labels, rules = self._rules(rules_path, rule_words_path, questions)
        actions, topics = self._actions(rules_path, rule_words_path, questions, rules, labels)
        self._check_templates()
        return QuestionBank(
            locale=self.locale,
            content_version=content_version(self.root),
            prompts_dir=self.root,
            rounds=rounds,
            questions=questions,
            interests=interests,
            max_people=structure.max_people,
            max_text_length=structure.max_text_length,
            person_title=words.person_title,
            rules=rules,
            labels=labels,
            actions=actions,
            topics=topics,
            page_rounds=pages,
        )

    # structure ---------------------------------------------------------------------------

    def _structure(self, path: Path) -> _Structure:
        raw = _read_yaml(path)
        if not isinstance(raw, dict):
            raise ContentError(str(path), "expected a mapping at the top")
        try:
            return _Structure.model_validate(raw)
        except ValidationError as exc:
            raise ContentError(str(path), _first_error(exc)) from None

    def _pages(self, path: Path, structure: _Structure) -> tuple[tuple[RoundId, ...], ...]:
        """`pages:` checked: each round on exactly one page, pages in round order, none
        empty, the agenda (paged by person on Teams, near Slack's block limit with six
        people) on a page of its own. Absent: one page per round."""
        order = list(structure.rounds)
        for listed in order:
            if order.count(listed) > 1:
                raise ContentError(str(path), "round is listed twice", f"rounds.{listed}")
        if structure.pages is None:
            return tuple((rid,) for rid in order)
        where = "pages"
        if not structure.pages:
            raise ContentError(str(path), "list at least one page", where)
        seen: list[str] = []
        for index, page in enumerate(structure.pages):
            if not page:
                raise ContentError(str(path), "a page needs at least one round", f"pages[{index}]")
            for name in page:
                if name not in order:
                    known = ", ".join(order)
                    raise ContentError(
                        str(path), f"round {name!r} is not listed (rounds: {known})", where
                    )
                if name in seen:
                    raise ContentError(str(path), f"round {name!r} is on more than one page", where)
                seen.append(name)
            if "agenda" in page and len(page) > 1:
                raise ContentError(
                    str(path), "the agenda round needs a page of its own", f"pages[{index}]"
                )
        missing = [rid for rid in order if rid not in seen]
        if missing:
            raise ContentError(
                str(path), f"round {missing[0]!r} is on no page (list every round once)", where
            )
        if seen != order:
            raise ContentError(
                str(path), f"pages must keep the order of `rounds:` ({', '.join(order)})", where
            )
        return tuple(tuple(rid for rid in order if rid in page) for page in structure.pages)

    def _specs(self, path: Path, structure: _Structure) -> list[_QuestionSpec]:
        specs: list[_QuestionSpec] = []
        seen: set[str] = set()
        for index, raw in enumerate(structure.questions):
            qid = str(raw.get("id", f"questions[{index}]")) if isinstance(raw, dict) else "?"
            try:
                spec = _QuestionSpec.model_validate(raw)
            except ValidationError as exc:
                raise ContentError(str(path), _first_error(exc), qid) from None
            if spec.id in seen:
                raise ContentError(str(path), "duplicate question id", qid)
            seen.add(spec.id)
            if spec.round not in structure.rounds:
                raise ContentError(str(path), f"round {spec.round!r} is not listed", qid)
            choice = spec.type in ("choice", "multi_choice")
            has_options = bool(spec.options) or spec.options_from is not None
            if choice and not has_options:
                raise ContentError(str(path), f"a {spec.type} question needs options", qid)
            if not choice and has_options:
                raise ContentError(str(path), f"a {spec.type} question has no options", qid)
            if cond.PERSON_MARK in spec.id and spec.round != "agenda":
                raise ContentError(str(path), "per-person questions belong to `agenda`", qid)
            specs.append(spec)
        return specs

    # wording ------------------------------------------------------------------------------

    def _locale_words(self, path: Path) -> _LocaleQuestions:
        raw = _read_yaml(path)
        if not isinstance(raw, dict):
            raise ContentError(str(path), "expected a mapping at the top")
        try:
            words = _LocaleQuestions.model_validate(raw)
        except ValidationError as exc:
            raise ContentError(str(path), _first_error(exc)) from None
        try:
            words.person_title.format(n=1)
        except (KeyError, IndexError, ValueError):
            raise ContentError(str(path), "may only use {n}", "person_title") from None
        return words

    def _rounds(
        self, path: Path, structure: _Structure, words: _LocaleQuestions
    ) -> tuple[RoundInfo, ...]:
        out = []
        for rid in structure.rounds:
            text = words.rounds.get(rid)
            if text is None:
                raise ContentError(str(path), "round has no wording", f"rounds.{rid}")
            out.append(RoundInfo(id=rid, title=text.title, intro=text.intro))
        return tuple(out)

    def _interests(
        self, path: Path, structure: _Structure, words: _LocaleQuestions
    ) -> dict[str, Interest]:
        out: dict[str, Interest] = {}
        for iid in structure.interests:
            raw = words.interests.get(iid)
            if raw is None:
                raise ContentError(str(path), "interest has no wording", f"interests.{iid}")
            try:
                text = _InterestText.model_validate(raw)
            except ValidationError as exc:
                raise ContentError(str(path), _first_error(exc), f"interests.{iid}") from None
            out[iid] = Interest(id=iid, label=text.label, help=text.help, discovery=text.discovery)
        for extra in set(words.interests) - set(structure.interests):
            raise ContentError(str(path), "not an interest of prompts/questions.yaml", extra)
        return out

    def _questions(
        self,
        structure_path: Path,
        words_path: Path,
        structure: _Structure,
        specs: list[_QuestionSpec],
        words: _LocaleQuestions,
        interests: dict[str, Interest],
    ) -> dict[str, Question]:
        known_templates = {s.id for s in specs}
        for extra in set(words.questions) - known_templates:
            raise ContentError(str(words_path), "not a question of prompts/questions.yaml", extra)
        # ask_when conditions, checked against the template ids.
        parsed: dict[str, cond.Condition | None] = {}
        for spec in specs:
            parsed[spec.id] = None
            if spec.ask_when is not None:
                try:
                    parsed[spec.id] = cond.parse_condition(spec.ask_when)
                except cond.ConditionSyntaxError as exc:
                    raise ContentError(str(structure_path), f"ask_when: {exc}", spec.id) from None
        option_values = {
            s.id: (list(structure.interests) if s.options_from else list(s.options or []))
            for s in specs
        }
        for spec in specs:
            c = parsed[spec.id]
            if c is not None:
                _check_condition(
                    c, structure_path, spec.id, option_values, allow_person=True, in_rules=False
                )
        out: dict[str, Question] = {}
        for spec in specs:
            raw = words.questions.get(spec.id)
            if raw is None:
                raise ContentError(str(words_path), "question has no wording", spec.id)
            try:
                text = _QuestionText.model_validate(raw)
            except ValidationError as exc:
                raise ContentError(str(words_path), _first_error(exc), spec.id) from None
            if spec.options_from == "interests":
                options = tuple(Option(value=i.id, label=i.label) for i in interests.values())
            else:
                options = ()
                for value in spec.options or []:
                    label = text.options.get(value)
                    if not label:
                        raise ContentError(
                            str(words_path), f"option {value!r} has no label", spec.id
                        )
                    options += (Option(value=value, label=label),)
                for extra in set(text.options) - set(spec.options or []):
                    raise ContentError(str(words_path), f"unknown option {extra!r}", spec.id)
            default_len = 200 if spec.type != "text" else structure.max_text_length
            max_length = min(spec.max_length or default_len, structure.max_text_length)
            people = range(1, structure.max_people + 1) if cond.PERSON_MARK in spec.id else [None]
            for n in people:
                qid = spec.id if n is None else spec.id.replace(cond.PERSON_MARK, f".{n}.")
                ask_when = parsed[spec.id]
                if ask_when is not None and n is not None:
                    ask_when = cond.substitute(ask_when, n)
                out[qid] = Question(
                    id=qid,
                    type=spec.type,
                    round=spec.round,
                    required=spec.required,
                    options=options,
                    label=text.label,
                    help=text.help,
                    ask_when=ask_when,
                    max_length=max_length,
                    person=n,
                    template_id=spec.id,
                )
        # Keep rounds in order, then the file's order inside a round; agenda by person.
        order = {rid: i for i, rid in enumerate(structure.rounds)}
        items = sorted(
            out.values(), key=lambda q: (order[q.round], q.person or 0)
        )  # sorted() is stable
        return {q.id: q for q in items}

    # rules --------------------------------------------------------------------------------

    def _rules(
        self, path: Path, words_path: Path, questions: dict[str, Question]
    ) -> tuple[Labels, tuple[Rule, ...]]:
        raw = _read_yaml(path)
        if not isinstance(raw, dict) or not isinstance(raw.get("rules"), list):
            raise ContentError(str(path), "expected `rules:` with a list of rules")
        option_values: dict[str, list[str]] = {}
        for q in questions.values():
            option_values[q.template_id] = list(q.option_values)
            option_values[q.id] = list(q.option_values)
        words_raw = _read_yaml(words_path)
        if not isinstance(words_raw, dict):
            raise ContentError(str(words_path), "expected a mapping at the top")
        try:
            words = _LocaleRules.model_validate(words_raw)
        except ValidationError as exc:
            raise ContentError(str(words_path), _first_error(exc)) from None
        try:
            labels = Labels.model_validate(words.labels)
        except ValidationError as exc:
            raise ContentError(str(words_path), _first_error(exc), "labels") from None
        for quadrant in QUADRANTS:
            if quadrant not in labels.quadrants:
                raise ContentError(str(words_path), "missing label", f"labels.quadrants.{quadrant}")
        for r in RECOMMENDATIONS:
            if r not in labels.recommendations:
                raise ContentError(str(words_path), "missing label", f"labels.recommendations.{r}")
        env = make_env("text")
        self._compile(env, words_path, "labels.discovery_step", labels.discovery_step)
        rules: list[Rule] = []
        seen: set[str] = set()
        for index, item in enumerate(raw["rules"]):
            rid = str(item.get("id", f"rules[{index}]")) if isinstance(item, dict) else "?"
            try:
                spec = _RuleSpec.model_validate(item)
            except ValidationError as exc:
                raise ContentError(str(path), _first_error(exc), rid) from None
            if spec.id in seen:
                raise ContentError(str(path), "duplicate rule id", rid)
            seen.add(spec.id)
            try:
                when = cond.parse_condition(spec.when)
            except cond.ConditionSyntaxError as exc:
                raise ContentError(str(path), f"when: {exc}", rid) from None
            _check_condition(when, path, rid, option_values, allow_person=False, in_rules=True)
            side = None
            if spec.side:
                if len(spec.side) != 1:
                    raise ContentError(str(path), "side: name one side", rid)
                ((who, outcome),) = spec.side.items()
                side = (who, outcome)
                if any(isinstance(n, cond.QuadrantIn) for n, _ in cond.walk(when)):
                    raise ContentError(str(path), "a side rule cannot test the quadrant", rid)
            if spec.flag and spec.flag not in labels.flags:
                raise ContentError(
                    str(words_path), "flag has no label", f"labels.flags.{spec.flag}"
                )
            text_raw = words.rules.get(spec.id)
            if text_raw is None:
                raise ContentError(str(words_path), "rule has no wording", spec.id)
            try:
                text = _RuleText.model_validate(text_raw)
            except ValidationError as exc:
                raise ContentError(str(words_path), _first_error(exc), spec.id) from None
            if (spec.flag or spec.side) and not text.reason:
                raise ContentError(str(words_path), "needs a `reason`", spec.id)
            if spec.recommend and not text.recommendation:
                raise ContentError(str(words_path), "needs a `recommendation`", spec.id)
            for source in [text.reason, text.recommendation, *text.steps]:
                if source is not None:
                    self._compile(env, words_path, spec.id, source)
            rules.append(
                Rule(
                    id=spec.id,
                    when=when,
                    flag=spec.flag,
                    side=side,
                    recommend=spec.recommend,
                    fallback=spec.fallback,
                    reason=text.reason,
                    recommendation_text=text.recommendation,
                    steps=tuple(text.steps),
                )
            )
        for extra in set(words.rules) - seen:
            raise ContentError(str(words_path), "not a rule of prompts/rules.yaml", extra)
        if not any(r.fallback for r in rules):
            raise ContentError(str(path), "one rule must be the `fallback: true` recommendation")
        return labels, tuple(rules)

    def _actions(
        self,
        path: Path,
        words_path: Path,
        questions: dict[str, Question],
        rules: tuple[Rule, ...],
        labels: Labels,
    ) -> tuple[tuple[ActionSpec, ...], tuple[Topic, ...]]:
        raw = _read_yaml(path)
        words = _LocaleRules.model_validate(_read_yaml(words_path))
        option_values: dict[str, list[str]] = {}
        for q in questions.values():
            option_values[q.template_id] = list(q.option_values)
            option_values[q.id] = list(q.option_values)
        env = make_env("text")
        topics: list[Topic] = []
        for index, item in enumerate(raw.get("discovery_topics") or []):
            try:
                tspec = _TopicSpec.model_validate(item)
            except ValidationError as exc:
                raise ContentError(
                    str(path), _first_error(exc), f"discovery_topics[{index}]"
                ) from None
            try:
                when = cond.parse_condition(tspec.when)
            except cond.ConditionSyntaxError as exc:
                raise ContentError(str(path), f"when: {exc}", tspec.topic) from None
            _check_condition(
                when, path, tspec.topic, option_values, allow_person=False, in_rules=True
            )
            if tspec.topic not in labels.topics:
                raise ContentError(
                    str(words_path), "topic has no wording", f"labels.topics.{tspec.topic}"
                )
            topics.append(Topic(id=tspec.topic, when=when))
        rule_ids = {r.id for r in rules}
        specs: list[_ActionSpec] = []
        for index, item in enumerate(raw.get("actions") or []):
            aid = str(item.get("id", f"actions[{index}]")) if isinstance(item, dict) else "?"
            try:
                specs.append(_ActionSpec.model_validate(item))
            except ValidationError as exc:
                raise ContentError(str(path), _first_error(exc), aid) from None
        ids = [a.id for a in specs]
        out: list[ActionSpec] = []
        for spec in specs:
            if ids.count(spec.id) > 1:
                raise ContentError(str(path), "duplicate action id", spec.id)
            if spec.rule not in rule_ids:
                raise ContentError(str(path), f"unknown rule {spec.rule!r}", spec.id)
            for key, others in (("unless", spec.unless), ("after", spec.after)):
                for other in others:
                    if other not in ids:
                        raise ContentError(str(path), f"unknown action {other!r} in {key}", spec.id)
            parsed: dict[str, cond.Condition | None] = {}
            for key, raw_cond in (("per_person", spec.per_person), ("when", spec.when)):
                if raw_cond is None:
                    parsed[key] = None
                    continue
                try:
                    parsed[key] = cond.parse_condition(raw_cond)
                except cond.ConditionSyntaxError as exc:
                    raise ContentError(str(path), f"{key}: {exc}", spec.id) from None
                _check_condition(
                    parsed[key],  # type: ignore[arg-type]
                    path,
                    spec.id,
                    option_values,
                    allow_person=key == "per_person",
                    in_rules=True,
                )
            text_raw = words.actions.get(spec.id)
            if text_raw is None:
                raise ContentError(str(words_path), "action has no wording", f"actions.{spec.id}")
            try:
                text = _ActionText.model_validate(text_raw)
            except ValidationError as exc:
                raise ContentError(
                    str(words_path), _first_error(exc), f"actions.{spec.id}"
                ) from None
            for words_source in (text.text, text.why):
                self._compile(env, words_path, f"actions.{spec.id}", words_source)
            out.append(
                ActionSpec(
                    id=spec.id,
                    rule=spec.rule,
                    kind=spec.kind,
                    urgency=spec.urgency,
                    per_person=parsed["per_person"],
                    when=parsed["when"],
                    unless=tuple(spec.unless),
                    after=tuple(spec.after),
                    topics=spec.topics,
                    text=text.text,
                    why=text.why,
                )
            )
        for extra in set(words.actions) - set(ids):
            raise ContentError(str(words_path), "not an action of prompts/rules.yaml", extra)
        return tuple(out), tuple(topics)

    def _compile(self, env: jinja2.Environment, path: Path, item_id: str, source: str) -> None:
        try:
            env.from_string(source)
        except jinja2.TemplateSyntaxError as exc:
            raise ContentError(str(path), f"template error: {exc.message}", item_id) from None

    def _check_templates(self) -> None:
        folder = self.root / self.locale / "advice"
        env = make_env("text", folder)
        for name in ADVICE_TEMPLATES:
            path = folder / f"{name}.j2"
            if not path.is_file():
                raise ContentError(str(path), "advice template is missing")
            try:
                env.get_template(f"{name}.j2")
            except jinja2.TemplateSyntaxError as exc:
                raise ContentError(
                    str(path), f"template error: {exc.message}", f"line {exc.lineno}"
                ) from None


def _check_condition(
    c: cond.Condition,
    path: Path,
    item_id: str,
    option_values: Mapping[str, list[str]],
    *,
    allow_person: bool,
    in_rules: bool,
) -> None:
    for node, in_person in cond.walk(c):
        if isinstance(node, cond.PlanIn):
            if not in_rules:
                raise ContentError(str(path), "only rules may test the plan", item_id)
            for state in node.states:
                if state not in cond.PLAN_STATES:
                    raise ContentError(str(path), f"unknown plan state {state!r}", item_id)
        if isinstance(node, cond.Not) and any(
            isinstance(inner, cond.PlanIn) for inner, _ in cond.walk(node.item)
        ):
            # `not` over a plan test would hold for callers that give no plan status.
            raise ContentError(str(path), "a plan test cannot be negated", item_id)
        if isinstance(node, cond.QuadrantIn):
            if not in_rules:
                raise ContentError(str(path), "only rules may test the quadrant", item_id)
            for q in node.quadrants:
                if q not in QUADRANTS:
                    raise ContentError(str(path), f"unknown quadrant {q!r}", item_id)
        if not isinstance(node, cond.AnswerIn | cond.AnswerEmpty):
            continue
        qid = node.question_id
        if qid not in option_values:
            raise ContentError(str(path), f"unknown question {qid!r}", item_id)
        if cond.PERSON_MARK in qid and not (in_person or allow_person):
            raise ContentError(
                str(path), f"{qid} can only be tested inside any_person/all_people", item_id
            )
        if isinstance(node, cond.AnswerIn) and option_values[qid]:
            for value in node.values:
                if value is not None and value not in option_values[qid]:
                    raise ContentError(str(path), f"{value!r} is not an option of {qid}", item_id)
