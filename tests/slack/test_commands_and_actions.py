"""Sub-commands (help, history, lang), App Home and the advice message's buttons."""

from __future__ import annotations

import json

import pytest
from tests.slack.conftest import make_services
from tests.slack.driver import SCENARIOS, USER, ReviewDriver, sent_view, validate_view
from tests.slack.harness import SlackSender
from tests.slack.mock_web_api import MockSlackWebApi

from dealcoach.config import Settings
from dealcoach.slack.listeners.commands import parse_command


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ("review", "")),
        ("help", ("help", "")),
        ("history", ("history", "")),
        ("history 3", ("history", "3")),
        ("lang nl", ("lang", "nl")),
        ("Acme renewal", ("review", "Acme renewal")),
        ("history of Acme", ("review", "history of Acme")),  # not the sub-command's form
        ("help desk rollout", ("review", "help desk rollout")),
        # Escaped command text (manifest should_escape: true) comes back as typed.
        ("Smith &amp; Sons &lt;EU&gt;", ("review", "Smith & Sons <EU>")),
        ("<@U0123ABC|ann> renewal", ("review", "@ann renewal")),
        ("<!channel> deal", ("review", "@channel deal")),
        ("<https://acme.example|Acme> expansion", ("review", "Acme expansion")),
    ],
)
def test_only_exact_sub_command_forms_are_reserved(text: str, expected: tuple[str, str]) -> None:
    assert parse_command(text) == expected


def _complete_one(slack: SlackSender, api: MockSlackWebApi, scenario: str = "pursue") -> str:
    driver = ReviewDriver(slack, api)
    driver.start("Acme renewal")
    driver.run(SCENARIOS[scenario])
    api.wait_for("chat.postMessage", 1)
    return driver.review_id


def test_history_lists_the_last_reviews_ephemerally(
    slack: SlackSender, slack_api: MockSlackWebApi
) -> None:
    slack.command("history")
    empty = slack_api.wait_for("response_url", 1)[-1]
    assert "no reviews yet" in empty.params["text"]
    review_id = _complete_one(slack, slack_api, "walk_away")
    slack.command("history")
    listing = slack_api.wait_for("response_url", 2)[-1]
    assert listing.params["response_type"] == "ephemeral"
    assert "Acme renewal" in listing.params["text"] and review_id in listing.params["text"]
    assert "Walk away" in listing.params["text"]


def test_lang_is_stored_per_person_and_used_for_the_next_review(
    slack: SlackSender, slack_api: MockSlackWebApi
) -> None:
    slack.command("lang nl")
    reply = slack_api.wait_for("response_url", 1)[-1]
    assert reply.params["text"] == "Taal ingesteld op Nederlands."
    slack.command("Acme")
    view = sent_view(slack_api.wait_for("views.update", 1)[-1])
    assert view["title"]["text"] == "Dealreview"
    slack.command("lang xx")
    usage = slack_api.wait_for("response_url", 2)[-1]
    assert "/dealcoach lang" in usage.params["text"]


def test_default_language_comes_from_the_slack_locale(
    slack: SlackSender, slack_api: MockSlackWebApi
) -> None:
    slack_api.set_user("U0DUTCH", locale="nl-NL")
    resp = slack.command("help", user="U0DUTCH")
    assert "een coach voor je deals" in resp.json()["text"]
    info = slack_api.calls_to("users.info")[-1]
    assert info.params["user"] == "U0DUTCH" and info.params["include_locale"] in ("1", "true")
    assert "a coach for your deals" in slack.command("help").json()["text"]


def test_app_home_shows_the_last_reviews(slack: SlackSender, slack_api: MockSlackWebApi) -> None:
    review_id = _complete_one(slack, slack_api)
    resp = slack.event("app_home_opened")
    assert resp.status_code == 200
    # Completing the review refreshes the Home tab too, so there may be two publishes.
    publish = slack_api.wait_for("views.publish", 1)[-1]
    assert publish.params["user_id"] == USER
    view = publish.json_param("view")
    validate_view(view)
    assert review_id in json.dumps(view)


def test_update_review_reopens_a_prefilled_draft_in_a_modal(
    slack: SlackSender, slack_api: MockSlackWebApi
) -> None:
    review_id = _complete_one(slack, slack_api)
    before = len(slack_api.calls_to("views.update"))
    resp = slack.message_action("advice_update", value=review_id)
    assert resp.status_code == 200
    opened = slack_api.wait_for("views.open", 2)[-1]
    assert opened.params["trigger_id"]
    view = sent_view(slack_api.wait_for("views.update", before + 1)[-1])
    assert view["private_metadata"] != review_id  # a new draft
    account = next(b for b in view["blocks"] if b.get("block_id") == "deal.account")
    assert account["element"]["initial_value"] == "Acme Corp"


def test_record_outcome_confirms_ephemerally(
    slack: SlackSender, slack_api: MockSlackWebApi
) -> None:
    review_id = _complete_one(slack, slack_api)
    slack.message_action("advice_outcome", selected=f"won|{review_id}")
    reply = slack_api.wait_for("response_url", 1)[-1]
    assert reply.params["text"] == f"Outcome recorded for review {review_id}: Won."


def test_share_without_a_manager_says_none_is_set(
    slack: SlackSender, slack_api: MockSlackWebApi
) -> None:
    review_id = _complete_one(slack, slack_api)
    slack.message_action("advice_share", value=review_id)
    reply = slack_api.wait_for("response_url", 1)[-1]
    assert "No manager is set" in reply.params["text"]


def test_share_with_a_manager_posts_the_advice_to_them(
    slack: SlackSender, slack_api: MockSlackWebApi, settings: Settings
) -> None:
    review_id = _complete_one(slack, slack_api)

    def assign(uow: object) -> None:
        ws = uow.workspaces.find("slack", "T0ACME")  # type: ignore[attr-defined]
        member = uow.people.get_or_create(ws, USER)  # type: ignore[attr-defined]
        manager = uow.people.get_or_create(ws, "U0MANAGER")  # type: ignore[attr-defined]
        uow.reporting.assign(manager, member)  # type: ignore[attr-defined]

    services = make_services(settings)
    services.store.run(assign)
    services.close()
    slack.message_action("advice_share", value=review_id)
    reply = slack_api.wait_for("response_url", 1)[-1]
    assert "<@U0MANAGER>" in reply.params["text"]
    shared = [
        c for c in slack_api.calls_to("chat.postMessage") if c.params.get("channel") == "U0MANAGER"
    ]
    assert len(shared) == 1
    assert "actions" not in [b["type"] for b in shared[0].json_param("blocks")]


def test_another_users_advice_buttons_are_refused(
    slack: SlackSender, slack_api: MockSlackWebApi
) -> None:
    review_id = _complete_one(slack, slack_api)
    slack.message_action("advice_outcome", selected=f"lost|{review_id}", user="U0OTHER")
    reply = slack_api.wait_for("response_url", 1)[-1]
    assert "someone else" in reply.params["text"]
