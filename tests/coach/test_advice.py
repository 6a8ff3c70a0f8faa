"""Advice: one model, the same templates for text, Slack and Teams, escaped per flavor."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest

from dealcoach.coach import (
    FLAVORS,
    AdviceModel,
    QuestionBank,
    assess,
    build_advice,
    escape_slack,
    escape_teams,
    load_bank,
    make_env,
    render_advice,
    render_text,
    validate_answers,
)
from dealcoach.coach.advice import PreviousReview
from dealcoach.coach.bank import QUADRANTS, RECOMMENDATIONS

Make = Callable[..., dict[str, Any]]


def model_for(bank: QuestionBank, raw: dict[str, Any], **kw: Any) -> AdviceModel:
    answers = validate_answers(bank, raw)
    return build_advice(bank, answers, assess(answers, bank.locale, bank=bank), **kw)


def test_the_text_advice_has_every_section(bank_en: QuestionBank, win_win: Make) -> None:
    text = render_text(model_for(bank_en, win_win(agenda__1__certainty="unknown")))
    for heading in (
        "Deal review: Acme CRM rollout · Acme",
        "Round 1 · Business fit",
        "Round 2 · Decision-makers (DMU)",
        "Round 3 · Mutual benefit",
    ):
        assert heading in text
    assert "Win-win → Strengthen first" in text
    assert "Power and position, A story for at home" in text
    assert "What would a success here do for your position in the company?" in text
    # inverted pyramid: the verdict, then the moves, then the rounds
    assert text.index("Win-win →") < text.index("Your next") < text.index("Round 1")
    moves = text.split("Your next")[1].split("\n\n")[0]
    assert "1. " in moves and "4. " not in moves


def test_unknown_key_people_are_called_out(bank_en: QuestionBank, win_win: Make) -> None:
    model = model_for(bank_en, win_win(agenda__1__certainty="unknown"))
    assert model.key_people_unknown == ["Anna Peeters"]
    assert "personal win weighs the most" in render_text(model)


def test_walk_away_note_and_what_the_customer_must_hear(
    bank_en: QuestionBank, win_win: Make
) -> None:
    model = model_for(
        bank_en,
        win_win(
            benefit__customer_ready="no",
            benefit__pros_cons_explained="partly",
            fit__requirements_met="partly",
        ),
    )
    assert model.benefit.walk_away
    assert model.benefit.customer_must_hear == ["gaps", "readiness", "downsides"]
    text = render_text(model)
    assert "Saying no protects the customer" in text
    assert "Pros and cons: only partly explained." in text
    # after walk away only the moves that help to walk away well
    assert all(a.rule == "benefit.customer_not_served" for a in model.actions)


def test_the_dutch_advice_reads_dutch(bank_nl: QuestionBank, win_win: Make) -> None:
    text = render_text(model_for(bank_nl, win_win(fit__price_market_conform="no")), bank=bank_nl)
    assert "Dealreview: Acme CRM rollout" in text
    assert "Zakelijke ronde niet gehaald: onze prijs is niet marktconform" in text
    assert "Je volgende" in text
    assert "Beslissers (DMU)" in text


def test_user_text_is_never_evaluated_as_a_template(bank_en: QuestionBank, win_win: Make) -> None:
    model = model_for(
        bank_en,
        win_win(
            deal__name="{{ 7*7 }}",
            agenda__1__who="{% if true %}boss{% endif %}",
            agenda__1__new_in_role="yes",
        ),
    )
    for flavor in FLAVORS:
        out = render_advice(model, flavor).fallback
        assert "49" not in out
        if flavor != "teams":  # teams escapes the braces' neighbours, not the braces
            assert "{{ 7*7 }}" in out
            assert "{% if true %}boss{% endif %}" in out


def test_slack_escapes_user_text_so_nobody_is_pinged(bank_en: QuestionBank, win_win: Make) -> None:
    model = model_for(bank_en, win_win(deal__name="<!channel> & co", fit__need="a <b> c"))
    slack = render_advice(model, "slack")
    assert "<!channel>" not in slack.fallback
    assert "&lt;!channel&gt; &amp; co" in slack.title
    assert "*Win-win*" in slack.verdict  # template markup is kept
    assert "a &lt;b&gt; c" in slack.fallback


def test_teams_escapes_markdown_in_user_text(bank_en: QuestionBank, win_win: Make) -> None:
    model = model_for(bank_en, win_win(fit__need="**bold** [link](http://x) _it_ <b>"))
    teams = render_advice(model, "teams")
    assert r"\*\*bold\*\* \[link\]\(http://x\) \_it\_ &lt;b&gt;" in teams.fallback
    assert "**Win-win**" in teams.verdict


def test_text_flavor_leaves_user_text_alone(bank_en: QuestionBank, win_win: Make) -> None:
    model = model_for(bank_en, win_win(fit__need="R&D <team> *now*"))
    assert "Their need: R&D <team> *now*" in render_text(model)


def test_escapers() -> None:
    assert escape_slack("a & <b>") == "a &amp; &lt;b&gt;"
    assert escape_teams("- item\n1. x *y*") == "\\- item\n\\1. x \\*y\\*"


def test_the_environment_is_strict_and_sandboxed() -> None:
    import jinja2

    env = make_env("slack")
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ missing }}").render()
    with pytest.raises(jinja2.exceptions.SecurityError):
        env.from_string("{{ x.__class__.__mro__ }}").render(x="")
    assert (
        env.from_string("{{ v|strong }} {{ v }}").render(v="<&>") == "*&lt;&amp;&gt;* &lt;&amp;&gt;"
    )


def test_rendered_advice_has_sections_with_ids_and_next_steps(
    bank_en: QuestionBank, win_win: Make
) -> None:
    advice = render_advice(model_for(bank_en, win_win(signals__silent_after_invite="yes")), "slack")
    ids = [s.id for s in advice.sections]
    assert [i for i in ids if i != "later"] == [
        "verdict",
        "actions",
        "fit",
        "agenda",
        "benefit",
        "signals",
    ]
    assert all(s.title and s.body for s in advice.sections)
    assert advice.next_steps[0].startswith("Call Anna Peeters tomorrow morning")


def test_what_changed_since_the_previous_review(bank_en: QuestionBank, win_win: Make) -> None:
    before_raw = win_win(agenda__1__certainty="unknown", benefit__margin="thin")
    before = validate_answers(bank_en, before_raw)
    previous = PreviousReview(answers=before, assessment=assess(before, "en", bank=bank_en))
    model = model_for(bank_en, win_win(), previous=previous)
    assert model.changes is not None and model.changes.verdict_changed
    assert "Personal agendas unknown" in model.changes.flags_resolved
    text = render_text(model)
    assert "What changed since the last review" in text
    assert "Last time: Win-win → Strengthen first. Now: Win-win → Pursue." in text
    assert (
        "• Decision-maker 1 · How sure are you of their personal agenda?: Unknown → Confirmed"
        in (text)
    )
    assert "What changed" not in render_text(model_for(bank_en, win_win()))


def _model(
    bank: QuestionBank, quadrant: str, recommendation: str, base: AdviceModel
) -> AdviceModel:
    labels = bank.labels
    update: dict[str, Any] = {
        "quadrant": quadrant,
        "quadrant_label": labels.quadrants[quadrant],  # type: ignore[index]
        "recommendation": recommendation,
        "recommendation_label": labels.recommendations[recommendation],  # type: ignore[index]
    }
    sides = {"win_win": ("win", "win"), "win_lose": ("win", "lose"), "lose_win": ("lose", "win")}
    customer, us = sides.get(
        quadrant, ("lose", "lose") if quadrant == "lose_lose" else ("unclear",) * 2
    )
    benefit = base.benefit.model_copy(
        update={
            "customer_side": customer,
            "our_side": us,
            "walk_away": recommendation == "walk_away",
        }
    )
    update["benefit"] = benefit
    return base.model_copy(update=update)


@pytest.mark.parametrize("locale", ["en", "nl"])
def test_every_template_renders_for_every_quadrant_and_recommendation(
    locale: str, win_win: Make
) -> None:
    bank = load_bank(locale)
    full = model_for(
        bank,
        win_win(
            agenda__2__who="Bram",
            agenda__2__certainty="unknown",
            agenda__2__new_in_role="yes",
            benefit__pros_cons_explained="no",
        ),
    )
    before = validate_answers(bank, win_win(benefit__margin="thin"))
    full = full.model_copy(
        update={
            "changes": build_advice(
                bank,
                validate_answers(bank, win_win()),
                assess(validate_answers(bank, win_win()), locale, bank=bank),
                previous=PreviousReview(
                    answers=before, assessment=assess(before, locale, bank=bank)
                ),
            ).changes
        }
    )
    empty = model_for(bank, {"deal.name": "x"})
    for base, quadrant, recommendation, flavor in itertools.product(
        (full, empty), QUADRANTS, RECOMMENDATIONS, FLAVORS
    ):
        advice = render_advice(_model(bank, quadrant, recommendation, base), flavor, bank=bank)
        assert bank.labels.quadrants[quadrant].split(" ")[0] in advice.verdict  # type: ignore[index]
        assert {"verdict", "actions", "fit", "agenda", "benefit"} <= {s.id for s in advice.sections}
        assert ("changes" in {s.id for s in advice.sections}) == (base is full)
        assert "{{" not in advice.fallback and "{%" not in advice.fallback
