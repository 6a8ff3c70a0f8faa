"""`dealcoach chat`: a deal review in the terminal, on the same engine and database.

The prompting is `dealcoach.terminal`, the saving `dealcoach.terminal_review`, the CRM pick
and *Save to CRM* `dealcoach.crm_terminal`; this module puts them on the command line: it
reads an answers file (`--answers`), opens the review on services of its own (`ChatReview`)
and prints the advice (or `--json`).

After the advice (issue 15), an interactive run offers *Add to plan*: the advice's moves
numbered, the rep picks some and gives each an owner and a date (`terminal_review.offer_plan`).
`--add-to-plan 1,2` does the same without prompts (owner us, due a week from now), for
`--answers` runs and scripts; with `--json` its lines go to stderr.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Self

import click
from pydantic import ValidationError

from dealcoach.cli.services import open_services
from dealcoach.cli.settings import load_settings
from dealcoach.coach import Answers, load_bank, validate_answers
from dealcoach.config import Settings, get_settings
from dealcoach.crm_terminal import chat_offer_save, chat_pick
from dealcoach.errors import InputError, InvalidAnswer, InvalidAnswers
from dealcoach.terminal import ConsoleIO, ReviewInterrupted, message, read_answers_file, run_review
from dealcoach.terminal_review import TerminalReview, add_moves, offer_plan, parse_numbers

# An answers file's problems name at most this many keys (the rest are counted).
_SHOWN_ANSWER_ERRORS = 3


class ChatReview(TerminalReview):
    """The review `dealcoach chat` holds, on services of its own: built from the settings
    (through `bootstrap`) when it opens, closed with it."""

    @classmethod
    def open(
        cls,
        settings: Settings,
        *,
        user_id: str | None = None,
        locale: str | None = None,
        resume: bool = False,
    ) -> Self:
        """Start a new draft, or (`resume`) pick up this user's latest unfinished one."""
        services = open_services(settings)
        try:
            return cls.start(services, user_id=user_id, locale=locale, resume=resume)
        except BaseException:
            services.close()
            raise

    def close(self) -> None:
        self.services.close()


@click.command("chat")
@click.option(
    "--answers",
    "answers_file",
    type=click.Path(dir_okay=True, path_type=Path),
    metavar="FILE",
    help="Run without prompts from a YAML or JSON file keyed by question id.",
)
@click.option(
    "--json", "as_json", is_flag=True, help='Print {"assessment": {...}, "advice": "..."}.'
)
@click.option(
    "--lang",
    type=click.Choice(["en", "nl"]),
    default=None,
    help="Language of questions and advice (default: DEALCOACH_LANG, else en).",
)
@click.option("--user", "user_id", metavar="ID", help="Who is reviewing (default: you).")
@click.option(
    "--resume", is_flag=True, help="Continue your latest unfinished review (saved at every step)."
)
@click.option(
    "--add-to-plan",
    "plan_moves",
    metavar="NUMBERS",
    help="Add these moves of the advice (e.g. 1,2; numbered as the advice lists them, "
    "then its later ones) to the deal's close plan, without asking.",
)
def chat_command(
    answers_file: Path | None,
    as_json: bool,
    lang: str | None,
    user_id: str | None,
    resume: bool,
    plan_moves: str | None,
) -> None:
    """Hold a deal review in the terminal and print the coaching advice."""
    locale = lang or _chat_default_lang()
    moves = None if plan_moves is None else _plan_numbers(plan_moves, locale)
    answers = None if answers_file is None else _read_answers(answers_file, locale)
    # The review log: a draft saved at every answer, completed at the end.
    review = ChatReview.open(
        load_settings(), user_id=user_id, locale=None if resume else locale, resume=resume
    )
    try:
        if answers is not None:
            review.save(answers)
        else:
            bank = load_bank(review.locale)
            # With --json the prompts go to stderr, so stdout holds only the JSON.
            io = ConsoleIO(out=sys.stderr if as_json else sys.stdout)
            if resume:
                click.echo(message(review.locale, "resuming", id=review.review_id), err=True)
            # With a CRM: pick the deal first; its values become the defaults (issue 17).
            crm_defaults = {} if resume else chat_pick(review, io)
            try:
                run_review(
                    bank, review.answers, io=io, on_answer=review.save, defaults=crm_defaults
                )
            except ReviewInterrupted as exc:
                if not exc.answers and isinstance(exc.__context__, EOFError):
                    # Input ended before the first answer: there is nothing to pause or resume.
                    click.echo(message(review.locale, "not_started"), err=True)
                    return
                review.save(exc.answers)
                click.echo(message(review.locale, "paused"), err=True)
                sys.exit(130)
        done = review.complete()
        assessment, advice = done.assessment, done.advice_text
        if as_json:
            payload = {"assessment": assessment.model_dump(mode="json"), "advice": advice}
            click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        else:
            click.echo("\n" + advice, nl=False)
        if moves is not None:  # --add-to-plan: no questions asked
            for line in add_moves(review.services, review.actor, done, moves):
                click.echo(line, err=as_json)
        elif answers is None and not as_json:
            # Interactive: Save to CRM? (a review picked from the CRM only), Add to plan?
            chat_offer_save(review.services, user_id, done.review_id, review.locale)
            offer_plan(review.services, review.actor, done, ConsoleIO())
    finally:
        review.close()


def _plan_numbers(raw: str, locale: str) -> list[int]:
    """`--add-to-plan 1,2`: the numbers (checked against the advice once it is there)."""
    numbers = parse_numbers(raw, 10**6)
    if numbers is None:
        raise InputError(message(locale, "offer_plan_bad_numbers"))
    return numbers


def _read_answers(path: Path, locale: str) -> Answers:
    """`--answers FILE`, checked against the question bank in `locale`; any problem is one
    InputError line naming the file."""
    bank = load_bank(locale)
    raw = read_answers_file(path)
    try:
        return validate_answers(bank, raw, require_complete=True)
    except InvalidAnswers as exc:
        raise InputError(f"{path}: {_answer_errors(exc.errors)}") from None
    except InvalidAnswer as exc:
        raise InputError(f"{path}: {_answer_errors({exc.question_id: exc.reason})}") from None
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from None


def _answer_errors(errors: dict[str, str]) -> str:
    """An answers file's problems in one short line: the first few offending keys (cut to 60
    characters) and why, never the values (a foreign file's text stays out of the error)."""
    shown = []
    for qid, problem in list(errors.items())[:_SHOWN_ANSWER_ERRORS]:
        key = qid if len(qid) <= 60 else qid[:59] + "…"
        reason = re.sub(r"""(['"]).*?\1""", "…", problem)
        shown.append(f"{key}: {reason}")
    more = len(errors) - len(shown)
    return "; ".join(shown) + (f" (and {more} more)" if more > 0 else "")


def _chat_default_lang() -> str:
    """DEALCOACH_LANG when set and valid; `en` otherwise (chat needs no other setting, so a
    bad value elsewhere in the environment does not stop it here)."""
    try:
        return get_settings().dealcoach_lang
    except ValidationError:
        return "en"
