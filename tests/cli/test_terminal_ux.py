"""The terminal review as a user sees it (#12 item 14, terminal part of 13), through the
PromptIO seam: scripted input, the screen captured.

Question before its options; errors in the numbers and labels on screen (en + nl); a label or
its unambiguous start picks the option; follow-ups right after the answer that calls for
them; `<` goes back one question; the answers summarised with "change one" before the advice
(follow-ups re-evaluated, every answer saved); `?` on the interests question explains each
interest; the personal-agenda interest's label; every terminal message localised."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from dealcoach.coach import load_bank
from dealcoach.coach.answers import Answers, AnswerValue
from dealcoach.coach.bank import QuestionBank
from dealcoach.coach.machine import next_step
from dealcoach.terminal import ReviewInterrupted, run_review
from dealcoach.ui_text import ui_strings

Reply = str | Callable[[list[str]], str]


class Screen:
    """A scripted user. `replies` maps the start of a question's label (or of a prompt such
    as the summary's) to the lines typed there, in turn; any other question gets Enter.
    `lines` is the screen (prompts with what was typed after them), `asked` the label of
    every question asked, in order. Input ends (EOFError) when `end_after` reads are done."""

    def __init__(
        self, replies: dict[str, list[Reply]] | None = None, *, end_after: int = 400
    ) -> None:
        self.replies = {k: list(v) for k, v in (replies or {}).items()}
        self.lines: list[str] = []
        self.asked: list[str] = []
        self._label = ""
        self._left = end_after

    def write(self, text: str = "") -> None:
        self.lines.extend(text.split("\n"))
        if text and not text.startswith(" ") and text.strip():
            self._label = text.rstrip(" *")  # a question shown above its options

    def read(self, prompt: str) -> str:
        if self._left <= 0:
            raise EOFError
        self._left -= 1
        shown = prompt.strip("\n")
        label = (self._label if prompt.startswith("  ") else shown).strip()
        self.asked.append(label)
        typed = ""
        for start, queue in self.replies.items():
            if label.startswith(start) and queue:
                reply = queue.pop(0)
                typed = reply(self.lines) if callable(reply) else reply
                break
        self.lines.append(shown + typed)
        return typed

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def run(
    bank: QuestionBank, screen: Screen, answers: Answers | None = None, **hooks: object
) -> Answers:
    """The review on `screen`: the answers it returns, or those it had when input ended."""
    try:
        return run_review(bank, answers, io=screen, **hooks)  # type: ignore[arg-type]
    except ReviewInterrupted as stopped:
        return stopped.answers


def complete(bank: QuestionBank, given: dict[str, AnswerValue]) -> Answers:
    """A complete set of answers as the machine asks them: `given`, everything else blank."""
    answers: Answers = {}
    for _ in range(100):
        step = next_step(bank, answers)
        if step is None:
            return answers
        for q in step.questions:
            answers[q.id] = given.get(q.id)
    raise AssertionError("the machine never finished")


def fit_only(bank: QuestionBank) -> Answers:
    """The business round answered (blank but the deal name): the review starts at round 2."""
    answers: Answers = {q.id: None for q in bank.questions_in("fit")}
    answers["deal.name"] = "Acme"
    return answers


def summary_number(lines: list[str], label: str) -> str:
    """The number in front of `label` in the last summary on screen."""
    for line in reversed(lines):
        text = line.strip()
        number, _, rest = text.partition(". ")
        if number.isdigit() and rest.startswith(label):
            return number
    raise AssertionError(f"{label!r} is not in the summary")


EN = load_bank("en")
NL = load_bank("nl")


# --- 1. the question before its options ---------------------------------------------------------


def test_the_question_is_printed_before_its_options() -> None:
    screen = Screen({"Deal name": ["Acme"], "Stage": ["2"]}, end_after=4)
    run(EN, screen)
    lines = screen.lines
    question = lines.index("Stage")
    assert lines[question + 1 : question + 5] == [
        "  1) Discovery",
        "  2) Proposal",
        "  3) Negotiation",
        "  4) Closing",
    ]
    assert lines[question + 5].startswith("  number")  # the input line comes last


# --- 2. errors in the terms on screen; labels and their start accepted --------------------------


def test_a_wrong_choice_is_explained_with_the_numbers_and_labels_on_screen() -> None:
    screen = Screen({"Is our price market-conform?": ["maybe", "7", "1"]}, end_after=12)
    got = run(EN, screen, {"deal.name": "Acme"})
    text = screen.text
    assert (
        "! 'maybe' is not one of the options. "
        "Pick a number from 1 to 3 (1 Yes, 2 No, 3 Don't know yet)." in text
    )
    assert "! There is no 7 in the list. Pick a number from 1 to 3 (1 Yes" in text
    assert "yes, no, unknown" not in text  # never the internal values
    assert got["fit.price_market_conform"] == "yes"


def test_a_wrong_choice_is_explained_in_dutch() -> None:
    screen = Screen({"Is onze prijs marktconform?": ["misschien", "1"]}, end_after=12)
    run(NL, screen, {"deal.name": "Acme"})
    assert (
        "! 'misschien' is geen van de antwoorden. "
        "Kies een nummer van 1 tot en met 3 (1 Ja, 2 Nee, 3 Weet ik nog niet)." in screen.text
    )


@pytest.mark.parametrize(
    ("bank", "question", "typed", "value"),
    [
        (EN, "fit.requirements_met", "y", "yes"),
        (EN, "fit.requirements_met", "no", "no"),
        (EN, "fit.requirements_met", "PART", "partly"),
        (EN, "fit.requirements_met", "don't know yet", "unknown"),
        (EN, "deal.stage", "neg", "negotiation"),
        (NL, "fit.requirements_met", "j", "yes"),
        (NL, "fit.requirements_met", "nee", "no"),
        (NL, "fit.requirements_met", "y", "yes"),  # the English habit works in Dutch too
        (NL, "deal.stage", "onder", "negotiation"),
    ],
)
def test_a_label_or_its_unambiguous_start_picks_the_option(
    bank: QuestionBank, question: str, typed: str, value: str
) -> None:
    label = bank.question(question).label
    screen = Screen({label: [typed]}, end_after=10)
    got = run(bank, screen, {"deal.name": "Acme"})
    assert got[question] == value
    assert "!" not in screen.text


def test_an_ambiguous_start_asks_for_the_number() -> None:
    screen = Screen({"Fase": ["v", "2"]}, end_after=5)
    got = run(NL, screen, {"deal.name": "Acme"})
    assert "! 'v' past bij meer dan één antwoord (1 Verkenning, 2 Voorstel); typ het nummer." in (
        screen.text
    )
    assert got["deal.stage"] == "proposal"


def test_several_numbers_for_a_single_choice_ask_for_one() -> None:
    screen = Screen({"Stage": ["1,2", "1"]}, end_after=5)
    run(EN, screen, {"deal.name": "Acme"})
    assert "! Pick just one. Pick a number from 1 to 4 (1 Discovery" in screen.text


def test_interests_by_number_and_by_label() -> None:
    screen = Screen({"Which personal interests": ["2, a private, 99", "2, a private"]})
    got = run(EN, screen, fit_only(EN))
    assert (
        "! There is no 99 in the list. Pick one or more numbers from 1 to 9, separated by "
        "commas, e.g. 1,3." in screen.text
    )
    assert got["agenda.1.interests"] == ["power_position", "personal_agenda"]


def test_an_amount_error_is_in_the_language_of_the_session() -> None:
    screen = Screen({"Waarde van de deal": ["veel", "12,5k"]}, end_after=5)
    got = run(NL, screen, {"deal.name": "Acme", "deal.account": None})
    assert "! Typ een bedrag van 0 of meer, bv. 12000, 12.000 of 12,5k." in screen.text
    assert got["deal.value"] == 12500.0


# --- 3. follow-ups right after the answer that calls for them ------------------------------------


def test_the_margin_follow_ups_come_right_after_the_margin() -> None:
    answers = complete(EN, {"deal.name": "Acme"})
    before = {k: v for k, v in answers.items() if not k.startswith(("benefit.", "signals."))}
    screen = Screen({"Our margin on this deal": ["3"], "Can the price": ["3"]})
    run_review(EN, before, io=screen)
    asked = [a for a in screen.asked if not a.startswith("Type a number")]
    margin = asked.index("Our margin on this deal")
    assert asked[margin + 1] == "Why is this deal worth it for us anyway?"
    assert asked[margin + 2] == "Can the price or scope still be renegotiated?"
    pros = asked.index("Have you explained both the pros and the cons to the customer?")
    assert pros > margin + 2


def test_the_discovery_plan_comes_right_after_an_unknown_agenda() -> None:
    screen = Screen({"How sure are you": ["3"], "How will you find out": ["lunch"]}, end_after=30)
    got = run(EN, screen, fit_only(EN))
    asked = screen.asked
    certainty = asked.index("How sure are you of their personal agenda?")
    assert asked[certainty + 1] == "How will you find out what drives them?"
    assert got["agenda.1.discovery_plan"] == "lunch"


# --- 4. back one question; the summary with change one ------------------------------------


def test_back_asks_the_previous_question_again_with_its_answer_as_default() -> None:
    screen = Screen({"Deal name": ["Acme"], "Customer": ["Acme BV", "Globex"], "Deal value": ["<"]})
    got = run(EN, screen)
    assert "Customer (account) [Acme BV]: Globex" in screen.lines
    assert screen.asked[:4] == [
        "Deal name *:",
        "Customer (account):",
        "Deal value:",
        "Customer (account) [Acme BV]:",
    ]
    assert got["deal.account"] == "Globex"


def test_back_on_the_first_question_says_there_is_nothing_before_it() -> None:
    screen = Screen({"Naam van de deal": ["<", "Acme"]}, end_after=2)
    run(NL, screen)
    assert (
        "  ! Hier kun je niet verder terug; in het overzicht aan het eind kun je elk antwoord "
        "nog wijzigen." in screen.lines
    )


def test_back_to_the_margin_and_a_new_margin_drops_its_follow_up() -> None:
    answers = complete(EN, {"deal.name": "Acme"})
    before = {k: v for k, v in answers.items() if not k.startswith(("benefit.", "signals."))}
    screen = Screen({"Our margin on this deal": ["2", "1"], "Why is this deal": ["<"]})
    done = run_review(EN, before, io=screen)
    assert "  number [Thin]: 1" in screen.lines
    assert done["benefit.margin"] == "healthy"
    assert done.get("benefit.strategic_reason") is None
    assert screen.asked.count("Why is this deal worth it for us anyway?") == 1


def test_back_and_change_one_are_explained_in_the_help() -> None:
    screen = Screen({"Stage": ["?", "1"]}, end_after=4)
    run(EN, screen, {"deal.name": "Acme"})
    assert "< to go back one question" in screen.text
    assert "< goes back one question" in screen.lines[0]  # the welcome line


def test_the_answers_are_summarised_before_the_advice() -> None:
    answers = complete(
        EN, {"deal.name": "Acme", "benefit.margin": "thin", "benefit.strategic_reason": "x"}
    )
    screen = Screen()
    done = run_review(EN, answers, io=screen)
    assert done == answers
    text = screen.text
    assert "Your answers" in text
    assert text.index("Your answers") < text.index("Thanks, that's everything.")
    assert "   1. Deal name: Acme" in screen.lines
    assert any(line.endswith(". Our margin on this deal: Thin") for line in screen.lines)
    margin = int(summary_number(screen.lines, "Our margin"))
    assert summary_number(screen.lines, "Why is this deal") == str(margin + 1)


def test_change_one_asks_again_saves_and_shows_the_summary_again() -> None:
    answers = complete(EN, {"deal.name": "Acme", "deal.stage": "proposal"})
    saved: list[Answers] = []
    screen = Screen(
        {
            "Type a number to change": [lambda lines: summary_number(lines, "Stage"), ""],
            "Stage": ["3"],
        }
    )
    done = run_review(EN, answers, io=screen, on_answer=saved.append)
    assert done["deal.stage"] == "negotiation"
    assert saved[-1]["deal.stage"] == "negotiation"  # saved like every answer
    assert "  number [Proposal]: 3" in screen.lines
    assert screen.text.count("Your answers") == 2
    assert any(line.endswith(". Stage: Negotiation") for line in screen.lines)


def test_change_one_asks_follow_ups_that_now_apply_and_clears_those_that_no_longer_do() -> None:
    answers = complete(
        EN,
        {"deal.name": "Acme", "benefit.margin": "thin", "benefit.strategic_reason": "a lighthouse"},
    )

    def margin(lines: list[str]) -> str:
        return summary_number(lines, "Our margin on this deal")

    saved: list[Answers] = []
    screen = Screen(
        {
            "Type a number to change": [margin, margin, ""],
            "Our margin on this deal": ["1", "3"],  # healthy, then below cost
            "Can the price": ["2"],
        }
    )
    done = run_review(EN, answers, io=screen, on_answer=saved.append)
    # Healthy: the reason no longer applies, is cleared and saved blank.
    assert saved[0]["benefit.margin"] == "healthy"
    assert saved[0]["benefit.strategic_reason"] is None
    # Below cost: the reason is asked again with the earlier text offered, then renegotiable.
    assert "Why is this deal worth it for us anyway? [a lighthouse]: " in screen.lines
    assert done["benefit.margin"] == "below_cost"
    assert done["benefit.strategic_reason"] == "a lighthouse"
    assert done["benefit.renegotiable"] == "no"
    assert screen.text.count("Your answers") == 3


def test_end_of_input_at_the_summary_goes_on_to_the_advice() -> None:
    answers = complete(EN, {"deal.name": "Acme"})
    screen = Screen(end_after=0)  # input already closed: every question is answered
    assert run_review(EN, answers, io=screen) == answers


def test_back_at_add_a_decision_maker_asks_the_last_question_again() -> None:
    screen = Screen(
        {"Add another decision-maker?": ["<", "n"], "Who is this decision-maker?": ["Anna", ""]},
        end_after=60,
    )
    run(EN, screen, fit_only(EN))
    add = screen.asked.index("Add another decision-maker? [y/N]:")
    assert screen.asked[add + 1] != "Add another decision-maker? [y/N]:"
    assert screen.asked.count("Add another decision-maker? [y/N]:") == 2


# --- 5. help per interest; 6. the personal-agenda label ------------------------------------------


@pytest.mark.parametrize("bank", [EN, NL], ids=["en", "nl"])
def test_help_on_the_interests_question_explains_every_interest(bank: QuestionBank) -> None:
    label = bank.question("agenda.1.interests").label
    screen = Screen({label: ["?", "2"]}, end_after=6)
    run(bank, screen, fit_only(bank))
    lines = screen.lines
    for n, interest in enumerate(bank.interests.values(), 1):
        assert f"  {n}) {interest.label}: {interest.help}" in lines
    assert len(bank.interests) == 9


def test_the_personal_agenda_interest_has_an_unambiguous_label_and_the_same_id() -> None:
    assert EN.interests["personal_agenda"].label == (
        "A private agenda (a colleague, a favour, their boss)"
    )
    assert NL.interests["personal_agenda"].label == "Eigen agenda (collega, wederdienst, de baas)"
    for bank in (EN, NL):
        values = bank.question("agenda.1.interests").option_values
        assert "personal_agenda" in values


# --- 7. every terminal message localised ----------------------------------------------------------


def test_every_terminal_message_has_a_dutch_text() -> None:
    tables = ui_strings("terminal")
    assert set(tables["nl"]) == set(tables["en"])
    same = [k for k in tables["en"] if tables["en"][k] == tables["nl"][k] and k not in {"yes"}]
    assert same == [], same


def _chat(tmp_path: Path, *args: str, stdin: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp_path / 'dealcoach.db'}")
    env.pop("DEALCOACH_LANG", None)
    return subprocess.run(
        [str(Path(sys.executable).with_name("dealcoach")), "chat", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
    )


def test_pause_and_resume_speak_dutch_in_a_dutch_session(tmp_path: Path) -> None:
    paused = _chat(tmp_path, "--lang", "nl", stdin="Acme\n")
    assert paused.returncode == 130
    assert paused.stderr.strip() == (
        "dealcoach: review gepauzeerd; je antwoorden zijn bewaard. "
        "Ga verder met `dealcoach chat --resume`."
    )
    resumed = _chat(tmp_path, "--resume", stdin="\n" * 80)
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stderr.startswith("Verder met review ")
    assert "Resuming" not in resumed.stderr


@pytest.mark.parametrize(("bank", "shown"), [(EN, "120,000"), (NL, "120.000")], ids=["en", "nl"])
def test_amounts_in_the_summary_are_written_the_local_way(bank: QuestionBank, shown: str) -> None:
    screen = Screen()
    run(bank, screen, complete(bank, {"deal.name": "Acme", "deal.value": 120000.0}))
    label = bank.question("deal.value").label
    assert f"   3. {label}: {shown}" in screen.lines


def test_going_back_into_the_previous_round_shows_its_title_but_not_its_intro_again() -> None:
    screen = Screen(
        {"Is the customer comparing offers?": ["2", "2"], "Who is this": ["<", "Anna"]},
        end_after=4,
    )
    before: Answers = {q.id: None for q in EN.questions_in("fit")}
    del before["fit.offers_compared"]
    run(EN, screen, before | {"deal.name": "Acme"})
    assert "  number [No]: 2" in screen.lines
    intro = EN.round_info("fit").intro
    assert screen.lines.count(EN.round_info("fit").title) == 2  # the start, and back into it
    assert screen.lines.count(intro) == 1


def test_no_review_to_resume_is_said_in_the_configured_language(tmp_path: Path) -> None:
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp_path / 'dealcoach.db'}")
    env["DEALCOACH_LANG"] = "nl"
    result = subprocess.run(
        [str(Path(sys.executable).with_name("dealcoach")), "chat", "--resume", "--user", "U9"],
        input="",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "dealcoach: geen onafgemaakte review om te hervatten voor U9; "
        "begin er een met `dealcoach chat`"
    )
