"""The terminal review: an interactive prompter on the same engine as Slack and Teams.

`run_review(bank, answers, io=..., on_answer=..., on_step=...)` walks
`coach.machine.next_step` until the review is complete, asking each question on `io`: the
question first, then its numbered options, then the input line. Choices are picked by
number (several as `1,3`) or by typing the option's label or the start of it (`y` → Yes,
`j` → Ja); an error names the numbers and labels on screen. A follow-up is asked right after
the answer that calls for it (the margin's follow-ups straight after the margin). `?` shows
the help text (on the interests question one line per interest), Enter keeps the default
shown in brackets (or leaves the question blank), `-` clears a default, `<` (or `back`) goes
back one question. A step is a page of the bank (`QuestionBank.pages`: one or more rounds);
each round's title (and, once, its intro) is printed before its first question, so the
warning signals get their own header at the end of the mutual-benefit page. When every
question is answered the answers are shown numbered: a number
re-asks that question (its follow-ups are re-evaluated: asked when they now apply, cleared
when they no longer do), Enter goes on to the advice.

After each answer `on_answer(answers)` is called, after each step `on_step(answers)`, so
persistence (a draft in the store) is one callback — per answer, so a process killed
mid-step keeps every answer already typed. Ctrl-C or end of input raises
`ReviewInterrupted` carrying the answers so far (end of input at the summary, where every
question is answered, goes on to the advice). All wording is in
`prompts/<locale>/terminal.yaml`; `message(locale, key)` reads it for the chat command.

`read_answers_file(path)` reads an answers file (YAML or JSON keyed by question id; nested
mappings such as `deal: {name: …}` and an `agenda:` list of people are flattened).
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol, TextIO

import yaml

from dealcoach.coach import conditions as cond
from dealcoach.coach.answers import Answers, AnswerValue, validate_answer
from dealcoach.coach.bank import Option, Question, QuestionBank
from dealcoach.coach.machine import count_people, named_people, next_step
from dealcoach.errors import InputError, InvalidAnswer
from dealcoach.ui_text import translate, ui_strings

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
            try:
                return input()  # line editing when a human types
            except KeyboardInterrupt:
                self.out.write("\n")  # the pause message on a line of its own, not after ^C
                raise
        line = self.inp.readline()
        if not line:
            self.out.write("\n")
            raise EOFError
        return line.rstrip("\r\n")

    def write(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()


def message(locale: str | None, key: str, **values: object) -> str:
    """One terminal message in `locale` (English when the locale is unknown)."""
    return translate("terminal", locale, key, **values)


def run_review(
    bank: QuestionBank,
    answers: Mapping[str, AnswerValue] | None = None,
    *,
    io: PromptIO,
    on_step: OnStep | None = None,
    defaults: Mapping[str, AnswerValue] | None = None,
    on_answer: OnAnswer | None = None,
) -> Answers:
    """Ask every question the machine still needs, then show the answers (a number changes
    one); return the complete answers.

    `answers` are the answers so far (a resumed draft): those questions are not asked again.
    `defaults` pre-fill questions (e.g. the previous review of the same deal).
    """
    return _Review(bank, dict(answers or {}), io, on_step, dict(defaults or {}), on_answer).run()


class _Back:
    """`_ask`'s answer when the user typed `<`: go back one question."""


_BACK = _Back()


class _Wrong(ValueError):
    """Input that is not an answer; the text says what to type instead."""


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
        self.queue: list[Question] = []  # what is asked next, before the machine is asked again
        self.history: list[str] = []  # question ids answered in this session, in order
        self.cleared: dict[str, AnswerValue] = {}  # follow-ups that stopped applying: offered again
        self.people: int | None = None
        self.shown_round: str | None = None
        self.shown_person: int | None = None
        self.agenda_asked = False
        self.offered_for: set[int] = set()
        self.in_step = False
        self.intro_shown: set[str] = set()

    def run(self) -> Answers:
        try:
            return self._loop()
        except (KeyboardInterrupt, EOFError):
            raise ReviewInterrupted(dict(self.answers)) from None

    def _loop(self) -> Answers:
        self.io.write(self.ui["welcome"])
        while True:
            self._walk()
            picked = self._summary()
            if picked is None:
                break
            self.shown_round, self.shown_person = picked.round, None  # no round intro again
            self.queue = [picked]
        self.io.write("")
        self.io.write(self.ui["done"])
        return self.answers

    # --- the walk through the questions ------------------------------------------------------

    def _walk(self) -> None:
        """Ask until the queue is empty and the machine needs nothing more."""
        while True:
            if self.queue:
                question = self.queue.pop(0)
                if not self._applies(question):
                    continue
                self._show_context(question)
                value = self._ask(question)
                if isinstance(value, _Back):
                    self._go_back(question)
                    continue
                self._answer(question, value)
                continue
            if self.in_step:
                self.in_step = False
                if self.on_step is not None:
                    self.on_step(dict(self.answers))
            step = next_step(self.bank, self.answers, self.people)
            if self.agenda_asked and (step is None or step.round != "agenda"):
                n = count_people(self.answers, self.bank.max_people)
                if n < self.bank.max_people and n not in self.offered_for:
                    self.offered_for.add(n)
                    wanted = self._yes_no(self.ui["add_person"])
                    if wanted is None and self.history:  # `<`: the last question again
                        self.offered_for.discard(n)
                        self.queue = [self.bank.question(self.history.pop())]
                        continue
                    if wanted:
                        self.people = n + 1
                        continue
            if step is None:
                return
            if step.round == "agenda":
                self.agenda_asked = True
            self.queue = list(step.questions)
            self.in_step = True

    def _show_context(self, question: Question) -> None:
        if question.round != self.shown_round:
            info = self.bank.round_info(question.round)
            self.io.write("")
            self.io.write(info.title)
            self.io.write("─" * min(len(info.title), 72))
            if info.intro and info.id not in self.intro_shown:  # once: not again on `<`
                self.io.write(info.intro)
                self.intro_shown.add(info.id)
            self.shown_round, self.shown_person = question.round, None
        if question.person is not None and question.person != self.shown_person:
            self.io.write("")
            self.io.write(f"» {self.bank.person_label(question.person)}")
            self.shown_person = question.person

    def _go_back(self, current: Question) -> None:
        if not self.history:
            self.io.write("  ! " + self.ui["no_back"])
            self.queue.insert(0, current)
            return
        previous = self.bank.question(self.history.pop())
        self.queue[0:0] = [previous, current]

    def _answer(self, question: Question, value: AnswerValue) -> None:
        """Record one answer, then re-evaluate the follow-ups that read it."""
        self.answers[question.id] = value
        self.cleared.pop(question.id, None)
        self.history.append(question.id)
        asked_next: list[Question] = []
        for other in self.bank.questions.values():
            if other.ask_when is None or question.id not in cond.answer_ids(other.ask_when):
                continue
            if self._applies(other):
                fresh = other.id not in self.answers or other.id in self.cleared
                if fresh and self.answers.get(other.id) is None and other not in self.queue:
                    asked_next.append(other)
            else:
                self.queue = [q for q in self.queue if q.id != other.id]
                if self.answers.get(other.id) is not None:
                    self.cleared[other.id] = self.answers[other.id]
                    self.answers[other.id] = None  # no longer applies: saved as blank
        self.queue[0:0] = asked_next  # a follow-up right after the answer that calls for it
        if self.on_answer is not None:
            self.on_answer(dict(self.answers))

    def _applies(self, question: Question) -> bool:
        if question.ask_when is None:
            return True
        ctx = cond.Context(
            answers=self.answers, people=named_people(self.answers, self.bank.max_people)
        )
        return cond.evaluate(question.ask_when, ctx)

    # --- the summary with "change one" ---------------------------------------------------------

    def _summary(self) -> Question | None:
        """Show the answers numbered; the question picked to change, or None for the advice."""
        shown = self._summary_questions()
        if not shown:
            return None
        self.io.write("")
        title = self.ui["summary_title"]
        self.io.write(title)
        self.io.write("─" * min(len(title), 72))
        width = len(str(len(shown)))
        last_round: str | None = None
        last_person: int | None = None
        for i, question in enumerate(shown, 1):
            if question.round != last_round:
                self.io.write(self.bank.round_info(question.round).title)
                last_round, last_person = question.round, None
            if question.person is not None and question.person != last_person:
                self.io.write(f"  » {self.bank.person_label(question.person)}")
                last_person = question.person
            label = question.label
            value = self._display(question, self.answers.get(question.id))
            sep = " " if label.endswith("?") else ": "
            self.io.write(f"  {i:>{width}}. {label}{sep}{value}")
        self.io.write("")
        while True:
            try:
                raw = self.io.read(self.ui["summary_prompt"] + " ").strip()
            except EOFError:  # input closed with every question answered: on to the advice
                return None
            if raw == "":
                return None
            if raw == "?":
                self.io.write("  " + self.ui["summary_help"].format(n=len(shown)))
                continue
            if _normal(raw) in self._back_words():
                if self.history:
                    return self.bank.question(self.history[-1])
                return shown[-1]
            if raw.isdigit() and 1 <= int(raw) <= len(shown):
                return shown[int(raw) - 1]
            self.io.write("  ! " + self.ui["summary_bad"].format(n=len(shown)))

    def _summary_questions(self) -> list[Question]:
        """The answered questions that apply, in the order they are asked: a follow-up
        right after the answer that calls for it."""
        people = count_people(self.answers, self.bank.max_people)
        shown = [
            q
            for q in self.bank.questions.values()
            if q.id in self.answers
            and (q.person is None or q.person <= people)
            and self._applies(q)
        ]
        ordered: list[Question] = []
        for question in shown:
            triggers = cond.answer_ids(question.ask_when) if question.ask_when else set()
            at = max((i for i, q in enumerate(ordered) if q.id in triggers), default=None)
            if at is None:
                ordered.append(question)
                continue
            while at + 1 < len(ordered) and ordered[at + 1].ask_when is not None:
                at += 1  # after the follow-ups already placed there
            ordered.insert(at + 1, question)
        return ordered

    def _display(self, question: Question, value: AnswerValue) -> str:
        if value is None or value == "" or value == []:
            return self.ui["blank"]
        if isinstance(value, list):
            return ", ".join(question.option_label(str(v)) for v in value)
        if question.type == "choice":
            return question.option_label(str(value))
        if isinstance(value, int | float) and not isinstance(value, bool):
            shown = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"
            marks = {",": self.ui["thousands_mark"], ".": self.ui["decimal_mark"]}
            return "".join(marks.get(c, c) for c in shown)  # 120,000 / 120.000
        text = " ".join(str(value).split())
        return text if len(text) <= 60 else text[:57] + "..."

    # --- one question ------------------------------------------------------------------------

    def _default(self, question: Question) -> AnswerValue:
        if question.id in self.answers:  # asked again (back, change one): the answer given
            current = self.answers[question.id]
            return current if current is not None else self.cleared.get(question.id)
        if question.id in self.cleared:
            return self.cleared[question.id]
        return self.defaults.get(question.id)

    def _ask(self, question: Question) -> AnswerValue | _Back:
        default = self._default(question)
        self.io.write("")
        shown = _show_default(question, default)
        label = question.label + (" *" if question.required else "")
        if question.options:
            self.io.write(label)
            self._show_options(question)
            hint = self.ui["choose"] if question.type == "choice" else self.ui["choose_many"]
            prompt = f"  {hint}"
            if shown:
                prompt += f" [{shown}]"
            prompt += ": "
        else:
            prompt = label
            if shown:
                prompt += f" [{shown}]"
            prompt += " " if prompt.endswith("?") else ": "
        while True:
            raw = self.io.read(prompt).strip()
            if raw == "?":
                self._help(question)
                continue
            if _normal(raw) in self._back_words():
                return _BACK
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
                value = self._parse(question, raw)
            except _Wrong as exc:
                self.io.write(f"  ! {exc}")
                continue
            if value is None and question.required:
                self.io.write("  ! " + self.ui["required"])
                continue
            return value

    def _help(self, question: Question) -> None:
        self.io.write("  " + (question.help or self.ui["no_help"]))
        if question.type == "multi_choice":
            width = len(str(len(question.options)))
            for i, option in enumerate(question.options, 1):
                interest = self.bank.interests.get(option.value)
                if interest is not None and interest.help:
                    self.io.write(f"  {i:>{width}}) {option.label}: {interest.help}")
        self.io.write("  " + self.ui["keys_help_options" if question.options else "keys_help"])

    def _show_options(self, question: Question) -> None:
        width = len(str(len(question.options)))
        for i, option in enumerate(question.options, 1):
            self.io.write(f"  {i:>{width}}) {option.label}")

    def _back_words(self) -> set[str]:
        return {_normal(w) for w in self.ui["back"].split(",") if w.strip()}

    # --- reading an answer ---------------------------------------------------------------------

    def _parse(self, question: Question, raw: str) -> AnswerValue:
        if question.type == "choice":
            if re.fullmatch(r"\d+(\s*[,;\s]\s*\d+)+", raw):
                raise _Wrong(f"{self.ui['one_only']} {self._choice_hint(question)}")
            return self._option(question, raw).value
        if question.type == "multi_choice":
            parts = [p.strip() for p in re.split(r"[,;]", raw) if p.strip()]
            if all(re.fullmatch(r"\d+(\s+\d+)*", p) for p in parts):
                parts = [n for p in parts for n in p.split()]
            picked: list[str] = []
            for part in parts:
                value = self._option(question, part).value
                if value not in picked:
                    picked.append(value)
            return picked or None
        if question.type == "number":
            try:
                return validate_answer(question, raw)
            except InvalidAnswer:
                raise _Wrong(self.ui["bad_amount"]) from None
        if len(raw) > question.max_length:
            raise _Wrong(self.ui["too_long"].format(length=len(raw), limit=question.max_length))
        try:
            return validate_answer(question, raw)
        except InvalidAnswer as exc:
            raise _Wrong(exc.reason) from None

    def _option(self, question: Question, text: str) -> Option:
        """One option from its number, its label, the start of its label, or its value."""
        options = question.options
        if text.isdigit():
            index = int(text)
            if 1 <= index <= len(options):
                return options[index - 1]
            problem = self.ui["no_such_number"].format(number=index)
            raise _Wrong(f"{problem} {self._hint(question)}")
        typed = _normal(text)
        for option in options:
            if _normal(option.label) == typed or _normal(option.value) == typed.replace(" ", "_"):
                return option
        starts = [o for o in options if _normal(o.label).startswith(typed)]
        if len(starts) == 1:
            return starts[0]
        if len(starts) > 1:
            problem = self.ui["ambiguous"].format(text=text, options=_numbered(options, starts))
            raise _Wrong(f"{problem} {self.ui['type_number']}")
        if typed in {_normal(w) for w in self.ui["yes"].split(",")}:
            for option in options:
                if option.value == "yes":
                    return option
        shown = text if len(text) <= 30 else text[:27] + "..."
        problem = self.ui["not_an_option"].format(text=shown)
        raise _Wrong(f"{problem} {self._hint(question)}")

    def _hint(self, question: Question) -> str:
        if question.type == "choice":
            return self._choice_hint(question)
        return self.ui["multi_hint"].format(n=len(question.options))

    def _choice_hint(self, question: Question) -> str:
        options = question.options
        return self.ui["choice_hint"].format(
            n=len(options), options=_numbered(options, list(options))
        )

    def _yes_no(self, prompt: str) -> bool | None:
        """True for yes, False for anything else, None for `<` (go back)."""
        raw = self.io.read(f"\n{prompt} [{self.ui['yes_no']}]: ").strip().lower()
        if _normal(raw) in self._back_words():
            return None
        return raw in self.ui["yes"].split(",")


def _normal(text: str) -> str:
    """Case, accents, curly quotes and extra spaces do not matter when matching a label."""
    decomposed = unicodedata.normalize("NFKD", text.replace("\u2019", "'"))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def _numbered(options: tuple[Option, ...], which: list[Option]) -> str:
    return ", ".join(f"{options.index(o) + 1} {o.label}" for o in which)


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
        # At most MAX_ANSWERS_FILE_BYTES (+1 to tell "too large"): /dev/zero, a FIFO fed
        # forever or a huge file cost one bounded read, not gigabytes of memory.
        with path.open("rb") as stream:
            data = stream.read(MAX_ANSWERS_FILE_BYTES + 1)
    except FileNotFoundError:
        raise InputError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{name}: is a folder, not an answers file") from None
    except OSError as exc:
        raise InputError(f"{name}: cannot read ({exc.strerror})") from None
    if len(data) > MAX_ANSWERS_FILE_BYTES:
        raise InputError(
            f"{name}: larger than {MAX_ANSWERS_FILE_BYTES // 1024 // 1024} MiB; not an answers file"
        )
    if b"\x00" in data:
        raise InputError(f"{name}: binary data, not an answers file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{name}: not UTF-8 text") from None
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
            problem = _without_content(getattr(exc, "problem", None) or "syntax error")
            raise InputError(f"{name}: not valid YAML{where}: {problem}") from None
    if data is None:
        raise InputError(f"{name}: the file is empty; expected question ids such as deal.name")
    if not isinstance(data, dict):
        raise InputError(f"{name}: expected a mapping of question id to answer")
    if _more_leaves_than(data, MAX_ANSWERS_FILE_LEAVES):
        # YAML aliases make a small file a huge tree (`b: {x: *a, y: *a, …}` ten levels deep)
        raise InputError(
            f"{name}: more than {MAX_ANSWERS_FILE_LEAVES:,} answers; not an answers file"
        )
    return flatten_answers(data)


# How much of an answers file is read, and how many answers it may hold (an answers file is a
# few kB with a few dozen answers; these are far above that and far below harm).
MAX_ANSWERS_FILE_BYTES = 1024 * 1024
MAX_ANSWERS_FILE_LEAVES = 10_000


def _without_content(problem: str) -> str:
    """A parser's complaint without the file's text it quotes (a tag, an alias, a character)."""
    return re.sub(r"""(['"]).*?\1""", "…", problem.splitlines()[0] if problem else "")[:80]


def _more_leaves_than(data: object, limit: int) -> bool:
    """Does `data` (aliases counted each time they are used) hold more than `limit` values?"""
    stack, seen = [data], 0
    while stack:
        item = stack.pop()
        seen += 1
        if seen > limit:
            return True
        if isinstance(item, Mapping):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


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
