"""The terminal review: an interactive prompter on the same engine as Slack and Teams.

`run_review(bank, answers, io=..., on_answer=..., on_step=...)` walks
`coach.machine.next_step` until the review is complete, asking each question on `io`.
Choices are picked by number (several as `1,3`), `?` shows the help text, Enter keeps the
default shown in brackets (or leaves the question blank), `-` clears a default. After each
answer `on_answer(answers)` is called, after each step `on_step(answers)`, so persistence (a
draft in the store) is one callback — per answer, so a process killed mid-step keeps every
answer already typed. Ctrl-C or end of input raises `ReviewInterrupted` carrying the
answers so far.

`read_answers_file(path)` reads an answers file (YAML or JSON keyed by question id; nested
mappings such as `deal: {name: …}` and an `agenda:` list of people are flattened).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol, TextIO

import yaml

from dealcoach.coach.answers import Answers, AnswerValue, validate_answer
from dealcoach.coach.bank import Question, QuestionBank
from dealcoach.coach.machine import count_people, next_step
from dealcoach.errors import InputError, InvalidAnswer
from dealcoach.ui_text import ui_strings

OnStep = Callable[[Answers], None]
OnAnswer = Callable[[Answers], None]  # called with every answer so far, after each answer


class ReviewInterrupted(Exception):
    """The user pressed Ctrl-C or closed the input; `answers` holds what was given."""

    def __init__(self, answers: Answers) -> None:
        super().__init__("review interrupted")
        self.answers = answers


class PromptIO(Protocol):
    def read(self, prompt: str) -> str:
        """One line of input, without the newline; EOFError/KeyboardInterrupt to stop."""
        ...

    def write(self, text: str = "") -> None: ...


class ConsoleIO:
    """Prompts on a terminal (or a pipe): questions to `out`, answers from `inp`."""

    def __init__(self, inp: TextIO | None = None, out: TextIO | None = None) -> None:
        self.inp = inp or sys.stdin
        self.out = out or sys.stdout

    def read(self, prompt: str) -> str:
        self.out.write(prompt)
        self.out.flush()
        if self.inp is sys.stdin and self.out is sys.stdout and sys.stdin.isatty():
            return input()  # line editing when a human types
        line = self.inp.readline()
        if not line:
            self.out.write("\n")
            raise EOFError
        return line.rstrip("\r\n")

    def write(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()


def run_review(
    bank: QuestionBank,
    answers: Mapping[str, AnswerValue] | None = None,
    *,
    io: PromptIO,
    on_step: OnStep | None = None,
    defaults: Mapping[str, AnswerValue] | None = None,
    on_answer: OnAnswer | None = None,
) -> Answers:
    """Ask every question the machine still needs; return the complete answers.

    `answers` are the answers so far (a resumed draft): those questions are not asked again.
    `defaults` pre-fill questions (e.g. the previous review of the same deal).
    """
    return _Review(bank, dict(answers or {}), io, on_step, dict(defaults or {}), on_answer).run()


class _Review:
    def __init__(
        self,
        bank: QuestionBank,
        answers: Answers,
        io: PromptIO,
        on_step: OnStep | None,
        defaults: dict[str, AnswerValue],
        on_answer: OnAnswer | None = None,
    ) -> None:
        self.bank = bank
        self.answers = answers
        self.io = io
        self.on_step = on_step
        self.on_answer = on_answer
        self.defaults = defaults
        tables = ui_strings("terminal")  # prompts/<locale>/terminal.yaml
        self.ui = tables.get(bank.locale, tables["en"])

    def run(self) -> Answers:
        try:
            return self._loop()
        except (KeyboardInterrupt, EOFError):
            raise ReviewInterrupted(dict(self.answers)) from None

    def _loop(self) -> Answers:
        self.io.write(self.ui["welcome"])
        people: int | None = None
        shown_round: str | None = None
        shown_person: int | None = None
        agenda_asked = False
        offered_for: set[int] = set()
        while True:
            step = next_step(self.bank, self.answers, people)
            if agenda_asked and (step is None or step.round != "agenda"):
                n = count_people(self.answers, self.bank.max_people)
                if n < self.bank.max_people and n not in offered_for:
                    offered_for.add(n)
                    if self._yes_no(self.ui["add_person"]):
                        people = n + 1
                        continue
            if step is None:
                break
            if step.round != shown_round:
                info = self.bank.round_info(step.round)
                self.io.write("")
                self.io.write(info.title)
                self.io.write("─" * min(len(info.title), 72))
                if info.intro:
                    self.io.write(info.intro)
                shown_round, shown_person = step.round, None
            if step.round == "agenda":
                agenda_asked = True
            for question in step.questions:
                if question.person is not None and question.person != shown_person:
                    self.io.write("")
                    self.io.write(f"» {self.bank.person_label(question.person)}")
                    shown_person = question.person
                self.answers[question.id] = self._ask(question)
                if self.on_answer is not None:
                    self.on_answer(dict(self.answers))
            if self.on_step is not None:
                self.on_step(dict(self.answers))
        self.io.write("")
        self.io.write(self.ui["done"])
        return self.answers

    # --- one question ------------------------------------------------------------------------

    def _ask(self, question: Question) -> AnswerValue:
        default = self.defaults.get(question.id)
        self.io.write("")
        if question.options:
            self._show_options(question)
        hint = ""
        if question.type == "choice":
            hint = self.ui["choose"]
        elif question.type == "multi_choice":
            hint = self.ui["choose_many"]
        shown = _show_default(question, default)
        prompt = question.label
        if hint:
            prompt += f" ({hint})"
        if question.required:
            prompt += " *"
        if shown:
            prompt += f" [{shown}]"
        prompt += " " if prompt.endswith("?") else ": "
        while True:
            raw = self.io.read(prompt).strip()
            if raw == "?":
                self.io.write("  " + (question.help or self.ui["no_help"]))
                continue
            if raw == "":
                if default is not None:
                    return default
                if question.required:
                    self.io.write("  ! " + self.ui["required"])
                    continue
                return None
            if raw == "-":
                if question.required:
                    self.io.write("  ! " + self.ui["required"])
                    continue
                return None
            try:
                value = validate_answer(question, self._by_number(question, raw))
            except InvalidAnswer as exc:
                self.io.write(f"  ! {exc.reason}")
                continue
            except ValueError as exc:
                self.io.write(f"  ! {exc}")
                continue
            if value is None and question.required:
                self.io.write("  ! " + self.ui["required"])
                continue
            return value

    def _show_options(self, question: Question) -> None:
        width = len(str(len(question.options)))
        for i, option in enumerate(question.options, 1):
            self.io.write(f"  {i:>{width}}) {option.label}")

    def _by_number(self, question: Question, raw: str) -> Any:
        """'2' → the second option's value; '1,3' / '1 3' → a list for multi-choice."""
        if not question.options:
            return raw
        parts = [p for p in re.split(r"[,\s;]+", raw) if p]
        if not parts or not all(p.isdigit() for p in parts):
            return raw  # a value or a label typed out: validate_answer decides
        count = len(question.options)
        picked = []
        for part in parts:
            index = int(part)
            if not 1 <= index <= count:
                raise ValueError(self.ui["bad_number"].format(n=count))
            picked.append(question.options[index - 1].value)
        if question.type == "choice":
            if len(picked) != 1:
                raise ValueError(self.ui["bad_number"].format(n=count))
            return picked[0]
        return picked

    def _yes_no(self, prompt: str) -> bool:
        raw = self.io.read(f"\n{prompt} [{self.ui['yes_no']}]: ").strip().lower()
        return raw in self.ui["yes"].split(",")


def _show_default(question: Question, value: AnswerValue) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ",".join(
            str(i) for i, option in enumerate(question.options, 1) if option.value in value
        )
    if question.type == "choice":
        return question.option_label(str(value))
    if isinstance(value, float):
        return f"{value:.0f}" if value.is_integer() else str(value)
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."


# --- answers files ------------------------------------------------------------------------------


def read_answers_file(path: Path) -> dict[str, Any]:
    """Raw answers from a YAML or JSON file, flattened to question ids (not validated)."""
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{name}: is a folder, not an answers file") from None
    except UnicodeDecodeError:
        raise InputError(f"{name}: not UTF-8 text") from None
    except OSError as exc:
        raise InputError(f"{name}: cannot read ({exc.strerror})") from None
    try:
        return _parse_answers(name, path, text)
    except RecursionError:  # "[[[[…" or {"a": {"a": …}} thousands deep
        raise InputError(f"{name}: nested too deeply to be an answers file") from None


def _parse_answers(name: str, path: Path, text: str) -> dict[str, Any]:
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"{name}: not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}"
            ) from None
    else:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
            problem = getattr(exc, "problem", None) or "syntax error"
            raise InputError(f"{name}: not valid YAML{where}: {problem}") from None
    if data is None:
        raise InputError(f"{name}: the file is empty; expected question ids such as deal.name")
    if not isinstance(data, dict):
        raise InputError(f"{name}: expected a mapping of question id to answer")
    return flatten_answers(data)


def flatten_answers(data: Mapping[Any, Any], prefix: str = "") -> dict[str, Any]:
    """{'deal': {'name': 'x'}} → {'deal.name': 'x'}; an `agenda:` list → agenda.1.*, …"""
    out: dict[str, Any] = {}
    for key, value in data.items():
        full = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten_answers(value, full + "."))
        elif (
            full == "agenda"
            and isinstance(value, list)
            and all(isinstance(item, Mapping) for item in value)
        ):
            for n, person in enumerate(value, 1):
                out.update(flatten_answers(person, f"agenda.{n}."))
        else:
            out[full] = value
    return out
