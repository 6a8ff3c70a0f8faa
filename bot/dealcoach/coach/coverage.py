"""How well the rep covers the buying committee (issue 15). Pure: answers in, a summary out.

Roles are the buying-influence option values of `agenda.N.role` in `prompts/questions.yaml`
(`other` is no role to cover). `coverage(answers)` counts the named decision-makers, whose
agenda is confirmed, which roles someone fills, which are missing, and who is against our
offer; `coverage_line(...)` says it in one line, e.g. "3 of 5 agendas confirmed · no economic
buyer named · no champion yet · 1 against (Gerard)", in the reader's language.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from dealcoach.coach.bank import QuestionBank, load_bank
from dealcoach.coach.machine import named_people
from dealcoach.coach.markup import Flavor
from dealcoach.coach.plan_text import escape, join, text
from dealcoach.coach.planner import person_short_name

# The roles to cover, in the order the line names them (option values of agenda.N.role).
ROLES: tuple[str, ...] = ("economic_buyer", "champion", "user", "technical")


@dataclass(frozen=True)
class Coverage:
    roles_covered: frozenset[str]
    missing: tuple[str, ...]  # roles nobody named fills, in ROLES order
    against: tuple[str, ...]  # short names of the people against our offer
    confirmed: int  # named decision-makers whose agenda is confirmed
    named: int  # decision-makers named


def coverage(answers: Mapping[str, object], bank: QuestionBank | None = None) -> Coverage:
    bank = bank or load_bank("en")
    people = named_people(answers, bank.max_people)
    roles = {answers.get(f"agenda.{n}.role") for n in people}
    covered = frozenset(r for r in ROLES if r in roles)
    return Coverage(
        roles_covered=covered,
        missing=tuple(r for r in ROLES if r not in covered),
        against=tuple(
            person_short_name(bank, answers, n)
            for n in people
            if answers.get(f"agenda.{n}.stance") == "against"
        ),
        confirmed=sum(1 for n in people if answers.get(f"agenda.{n}.certainty") == "confirmed"),
        named=len(people),
    )


def coverage_line(cov: Coverage, locale: str | None, flavor: Flavor = "text") -> str:
    """One line (names escaped for `flavor`)."""
    if cov.named == 0:
        return text(locale, "coverage.none")
    key = "coverage.confirmed_one" if cov.named == 1 else "coverage.confirmed"
    parts = [text(locale, key, confirmed=cov.confirmed, named=cov.named)]
    if "economic_buyer" in cov.missing:
        parts.append(text(locale, "coverage.no_economic_buyer"))
    others = [text(locale, f"role.{r}") for r in cov.missing if r != "economic_buyer"]
    if others:
        parts.append(text(locale, "coverage.missing", roles=join(others, locale, "coverage.or")))
    if cov.against:
        names = join([escape(n, flavor) for n in cov.against], locale)
        parts.append(text(locale, "coverage.against", count=len(cov.against), names=names))
    return text(locale, "coverage.separator").join(parts)
