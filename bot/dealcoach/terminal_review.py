"""`dealcoach chat` on the store: every answer is saved to the draft as soon as it is
given (a SIGKILL mid-step loses nothing typed), an interrupted review resumes with
`--resume`, the finished one is completed with its assessment and advice.

The terminal adapter, beside `terminal.py` (which keeps the prompting, `run_review`): this
class is its persistence. `save` is the per-answer callback (`on_answer`; only what changed
is written), `complete` finishes the review. It works on the services it is given; the
command line builds them (through `bootstrap`) and closes them.

After the advice (issue 15): `offer_plan` is *Add to plan* in the terminal — the advice's
moves numbered, the rep picks numbers, then for each the owner (us, or one of the named
decision-makers; Enter = us) and the due date (Enter = a week from now, on a workday);
`add_moves` is the same without prompts (`dealcoach chat --add-to-plan 1,2`). Both go
through `services.plans.add_from_action`; `plan_error` words the plan service's refusals in
the terminal's language (`prompts/<locale>/plan.yaml`), shared with `dealcoach plan`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Self

from dealcoach.coach.answers import Answers, AnswerValue
from dealcoach.coach.plan_text import format_date
from dealcoach.coach.plan_text import text as plan_text
from dealcoach.errors import DealcoachError, NotFound
from dealcoach.services.actors import Actor
from dealcoach.services.container import Services
from dealcoach.services.plans import PlanInvalid, PlanRefused, StepChange
from dealcoach.services.reviews import CompletedReview, PlanCandidate, ReviewView
from dealcoach.store.models import MAX_STEP_TEXT
from dealcoach.terminal import PromptIO, message
from dealcoach.ui_text import translate


class TerminalReview:
    def __init__(self, services: Services, actor: Actor, view: ReviewView) -> None:
        self.services = services
        self.actor = actor
        self.view = view
        self._saved: Answers = dict(view.answers)

    @classmethod
    def start(
        cls,
        services: Services,
        *,
        user_id: str | None = None,
        locale: str | None = None,
        resume: bool = False,
    ) -> Self:
        """Start a new draft, or (`resume`) pick up this user's latest unfinished one."""
        actor = Actor.local(user_id, locale=locale)
        if resume:
            view = services.reviews.find_draft(actor)
            if view is None:
                # The draft's language is unknown here: the configured one (DEALCOACH_LANG).
                raise NotFound(
                    translate(
                        "terminal",
                        locale or services.settings.dealcoach_lang,
                        "no_draft",
                        user=actor.user_id,
                    )
                )
        else:
            view = services.reviews.start(actor, locale=locale)
        return cls(services, actor, view)

    @property
    def review_id(self) -> int:
        return self.view.review_id

    @property
    def locale(self) -> str:
        return self.view.locale

    @property
    def answers(self) -> Answers:
        """The answers saved so far (a resumed draft's, or none)."""
        return dict(self.view.answers)

    def save(self, answers: Mapping[str, AnswerValue]) -> None:
        """Per-answer (or per-step) callback: store what changed since the last save."""
        changed = {k: v for k, v in answers.items() if k not in self._saved or self._saved[k] != v}
        if not changed:
            return
        self.view = self.services.reviews.save_answers(self.actor, self.review_id, changed)
        self._saved.update(changed)

    def complete(self) -> CompletedReview:
        return self.services.reviews.complete(
            self.actor, self.review_id, idempotency_key=f"cli:{self.review_id}"
        )


# --- *Add to plan* after the advice (issue 15) ------------------------------------------------


class PlanError(DealcoachError):
    """A plan refusal or bad plan input, worded in the terminal's language (exit status 2)."""

    exit_code = 2


def plan_error(exc: DealcoachError, locale: str) -> str:
    """The plan service's refusal or complaint in `locale` (its own English otherwise)."""
    if isinstance(exc, PlanInvalid):
        return plan_text(locale, f"invalid.{exc.key}", max=MAX_STEP_TEXT)
    if isinstance(exc, PlanRefused):
        return plan_text(locale, f"refused.{exc.key}")
    if isinstance(exc, NotFound):
        return plan_text(locale, "refused.not_found")
    return str(exc)


def change_message(change: StepChange, locale: str) -> str:
    """`Added to the plan of Acme, due Tue 9 Jun.` / `That step is already in the plan …`"""
    key = "plan.added" if change.changed else "plan.already"
    return plan_text(
        locale, key, deal=change.deal_name, due=format_date(change.step.due_on, locale)
    )


def parse_numbers(raw: str, count: int) -> list[int] | None:
    """`1,3` / `1 3` → [1, 3] (each from 1 to `count`, in order, once); None if not that."""
    parts = [p for p in re.split(r"[\s,;]+", raw.strip()) if p]
    if not parts or not all(p.isdigit() for p in parts):
        return None
    numbers = list(dict.fromkeys(int(p) for p in parts))
    if not all(1 <= n <= count for n in numbers):
        return None
    return numbers


def add_moves(
    services: Services, actor: Actor, done: CompletedReview, numbers: Sequence[int]
) -> list[str]:
    """`dealcoach chat --add-to-plan 1,2`: these moves of the advice (numbered from 1, as
    `offer_plan` lists them) into the deal's plan, owner us, due a week from now; a line
    per move. A number not in the advice is an InputError (nothing is added)."""
    locale = done.locale
    candidates = done.plan_candidates
    if done.deal_id is None:
        raise PlanError(message(locale, "offer_plan_no_deal"))
    for number in numbers:
        if not 1 <= number <= len(candidates):
            raise PlanError(message(locale, "offer_plan_no_move", number=number, n=len(candidates)))
    lines = []
    for number in numbers:
        try:
            change = services.plans.add_from_action(
                actor, done.review_id, candidates[number - 1].index
            )
        except (PlanInvalid, PlanRefused, NotFound) as exc:
            raise PlanError(plan_error(exc, locale)) from None
        lines.append(change_message(change, locale))
    return lines


def offer_plan(services: Services, actor: Actor, done: CompletedReview, io: PromptIO) -> None:
    """After the advice: *Add to plan*? The moves numbered; the rep picks some (Enter skips),
    then each one's owner and date. End of input or Ctrl-C stops asking (what was added
    stays)."""
    if done.deal_id is None or not done.plan_candidates:
        return
    try:
        _offer_plan(services, actor, done, io)
    except (EOFError, KeyboardInterrupt):
        io.write("")


def _offer_plan(services: Services, actor: Actor, done: CompletedReview, io: PromptIO) -> None:
    locale = done.locale
    candidates = done.plan_candidates
    io.write("")
    io.write(message(locale, "offer_plan_title", deal=done.deal_name or ""))
    width = len(str(len(candidates)))
    for n, candidate in enumerate(candidates, 1):
        marks = ""
        if candidate.later:
            marks += " " + message(locale, "offer_plan_later")
        if candidate.in_plan:
            marks += " " + message(locale, "offer_plan_in_plan")
        io.write(f"  {n:>{width}}. {candidate.text}{marks}")
    while True:
        raw = io.read(message(locale, "offer_plan_prompt") + " ").strip()
        if not raw:
            return
        numbers = parse_numbers(raw, len(candidates))
        if numbers is not None:
            break
        io.write("  ! " + message(locale, "offer_plan_bad", n=len(candidates)))
    for number in numbers:
        candidate = candidates[number - 1]
        owner_kind, owner_name = _ask_owner(io, locale, candidate, done.owner_options)
        while True:
            default = message(locale, "offer_plan_due_default")
            due = io.read("  " + message(locale, "offer_plan_due", default=default) + " ").strip()
            try:
                change = services.plans.add_from_action(
                    actor,
                    done.review_id,
                    candidate.index,
                    owner_kind=owner_kind,
                    owner_name=owner_name,
                    due_on=due or None,
                )
            except PlanInvalid as exc:
                io.write("  ! " + plan_error(exc, locale))
                if exc.key in ("date", "date_past"):
                    continue  # the date again
                break
            except (PlanRefused, NotFound) as exc:
                io.write("  ! " + plan_error(exc, locale))
                return
            io.write("  " + change_message(change, locale))
            break


def _ask_owner(
    io: PromptIO, locale: str, candidate: PlanCandidate, names: Sequence[str]
) -> tuple[str, str | None]:
    """Who owns the step: `us` (1, the default) or one of the named decision-makers."""
    if not names:
        return "us", None
    choices = [plan_text(locale, "owner.us"), *names]
    step = candidate.text if len(candidate.text) <= 60 else candidate.text[:57] + "..."
    io.write(message(locale, "offer_plan_owner", step=step))
    width = len(str(len(choices)))
    for n, label in enumerate(choices, 1):
        io.write(f"  {n:>{width}}) {label}")
    us_words = {_plain(w) for w in message(locale, "plan_owner_us").split(",")}
    while True:
        raw = io.read(f"  {message(locale, 'choose')} [{choices[0]}]: ").strip()
        if not raw or _plain(raw) in us_words:
            return "us", None
        if raw.isdigit() and 1 <= int(raw) <= len(choices):
            n = int(raw)
            return ("us", None) if n == 1 else ("customer", names[n - 2])
        starts = [name for name in names if _plain(name).startswith(_plain(raw))]
        if len(starts) == 1:
            return "customer", starts[0]
        options = ", ".join(f"{n} {label}" for n, label in enumerate(choices, 1))
        io.write("  ! " + message(locale, "choice_hint", n=len(choices), options=options))


def _plain(text: str) -> str:
    """Case, accents and extra spaces do not matter when matching a name."""
    bare = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def owner_choice(raw: str | None, names: Sequence[str], locale: str) -> tuple[str, str | None]:
    """`--owner`: us (`us`, `we`, `wij`, … or nothing), else a decision-maker — one of the
    deal's named people when it matches (their spelling), else the name as typed."""
    if raw is None or not raw.strip():
        return "us", None
    typed = _plain(raw)
    us_words = {_plain(w) for w in message(locale, "plan_owner_us").split(",")}
    if typed in us_words or typed == _plain(plan_text(locale, "owner.us")):
        return "us", None
    exact = [n for n in names if _plain(n) == typed]
    starts = [n for n in names if _plain(n).startswith(typed)]
    if exact:
        return "customer", exact[0]
    if len(starts) == 1:
        return "customer", starts[0]
    return "customer", raw
