"""The buying committee in the terminal (issue 15): `dealcoach chat` offers another
decision-maker until the question bank's maximum (six), in one round, and asks a champion's
two tests right after the role — through the PromptIO seam, English and Dutch."""

from __future__ import annotations

import pytest
from tests.cli.test_terminal_ux import EN, NL, Screen, fit_only, run

from dealcoach.coach.bank import QuestionBank

ADD = {"en": "Add another decision-maker?", "nl": "Nog een beslisser toevoegen?"}
WHO = {"en": "Who is this decision-maker?", "nl": "Wie is deze beslisser?"}


@pytest.mark.parametrize("bank", [EN, NL], ids=["en", "nl"])
def test_another_decision_maker_is_offered_up_to_the_maximum(bank: QuestionBank) -> None:
    assert bank.max_people == 6
    names = [f"Person {n}" for n in range(1, 10)]
    yes = "y" if bank.locale == "en" else "j"
    screen = Screen({ADD[bank.locale]: [yes] * 10, WHO[bank.locale]: names}, end_after=400)
    answers = run(bank, screen, fit_only(bank))
    offers = [a for a in screen.asked if a.startswith(ADD[bank.locale])]
    assert len(offers) == bank.max_people - 1  # after persons 1..5; none after the sixth
    for n in range(1, bank.max_people + 1):
        assert answers[f"agenda.{n}.who"] == f"Person {n}"
    assert f"agenda.{bank.max_people + 1}.who" not in answers


@pytest.mark.parametrize("bank", [EN, NL], ids=["en", "nl"])
def test_a_champion_is_asked_both_tests(bank: QuestionBank) -> None:
    role = bank.question("agenda.1.role")
    champion = 1 + [o.value for o in role.options].index("champion")
    access = bank.question("agenda.1.champion_access").label
    sells = bank.question("agenda.1.champion_sells").label
    screen = Screen(
        {
            WHO[bank.locale]: ["Chris"],
            role.label: [str(champion)],
            access: ["2"],  # no
            sells: ["1"],  # yes
            ADD[bank.locale]: ["n"],
        },
        end_after=80,
    )
    answers = run(bank, screen, fit_only(bank))
    assert answers["agenda.1.role"] == "champion"
    assert answers["agenda.1.champion_access"] == "no"
    assert answers["agenda.1.champion_sells"] == "yes"
    at = screen.asked.index(role.label)
    assert access in screen.asked[at + 1 : at + 6]
