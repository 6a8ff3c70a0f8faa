"""The offline Adaptive Card check is real: it accepts a good 1.5 card and names what is
wrong with a bad one (so the card tests that rely on it can fail)."""

from __future__ import annotations

from tests.teams.card_schema import assert_valid_card, card_problems, load_schema


def _card(**extra: object) -> dict[str, object]:
    return {"type": "AdaptiveCard", "version": "1.5", "body": [], **extra}


def test_the_schema_is_the_official_adaptive_card_schema() -> None:
    schema = load_schema("1.5")
    assert schema["id"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    for definition in ("AdaptiveCard", "Input.Text", "Input.ChoiceSet", "Action.Execute"):
        assert definition in schema["definitions"]


def test_a_valid_card_passes() -> None:
    assert_valid_card(
        _card(
            body=[
                {"type": "TextBlock", "text": "hi", "wrap": True},
                {"type": "Input.Text", "id": "deal.name", "label": "Deal", "isRequired": True,
                 "errorMessage": "Deal"},
            ],
            actions=[{"type": "Action.Execute", "verb": "v", "title": "Go", "data": {"a": 1}}],
        )
    )


def test_an_input_without_id_is_refused() -> None:
    assert card_problems(_card(body=[{"type": "Input.Text", "label": "x"}]), "1.5")


def test_an_unknown_property_or_element_is_refused() -> None:
    assert card_problems(_card(body=[{"type": "TextBlock", "text": "x", "colour": "red"}]), "1.5")
    assert card_problems(_card(body=[{"type": "Carousel", "pages": []}]), "1.5")


def test_a_card_declaring_another_version_is_refused() -> None:
    assert any("version" in p for p in card_problems({**_card(), "version": "1.6"}, "1.5"))


def test_an_element_newer_than_the_declared_version_is_refused() -> None:
    # Action.Execute arrived in 1.4: a card that claims 1.3 may not use it.
    problems = card_problems(
        {"type": "AdaptiveCard", "version": "1.3", "body": [],
         "actions": [{"type": "Action.Execute", "verb": "v", "title": "Go"}]},
        "1.3",
        schema_version="1.5",
    )
    assert any("Action.Execute needs Adaptive Cards 1.4" in p for p in problems)
