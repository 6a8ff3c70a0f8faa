"""Issue #11, the Teams items: hostile input to `POST /api/messages` over real HTTP into the
live app, replies recorded by loopback Connector stand-ins.

- item 2: a `serviceUrl` is accepted only on an allow-listed Bot Connector host and, with a
  token, only when it is the token's `serviceurl` claim; an anonymous request never replaces
  a stored conversation reference; a stored reference off the allow-list is never sent to.
- item 8: any token that fails validation is a 401 (`alg: none`, no `kid`), an activity
  lacking what the protocol requires is a 400, and neither leaves a traceback.
- item 9: the body is capped at 1 MiB (413), with or without a Content-Length.
- item 13: an outcome on a draft is refused; the draft stays a draft.

(Item 3, anonymous mode next to credentials, is in `test_anonymous_mode.py`.)

JWT mode needs no network: tokens are signed with a key made here, and the SDK's key lookup
(`JwtTokenValidator._jwk_client_manager`) and MSAL's outbound token are replaced for the test,
so nothing ever calls Microsoft.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

pytest.importorskip("microsoft_agents.hosting.fastapi", reason="needs the dealcoach[teams] extra")

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select
from tests.slack.harness import LiveServer
from tests.teams.conftest import make_settings
from tests.teams.connector_stub import ConnectorStub
from tests.teams.harness import TeamsUser
from tests.teams.test_review_http import BASE, run_review

from dealcoach.services.actors import Actor
from dealcoach.store import Store
from dealcoach.store.models import Person, Review
from dealcoach.teams import cards

CLIENT_ID = "00000000-0000-0000-0000-00000000c0de"
CREDENTIALS = {
    "teams_client_id": CLIENT_ID,
    "teams_client_secret": "s3cr3t-value-for-tests",
    "teams_tenant_id": "00000000-0000-0000-0000-0000000000aa",
    "teams_allow_anonymous": False,
}
BOT_TOKEN = "outbound-bot-token-for-tests"
KID = "test-key-1"
_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture
def elsewhere() -> Iterator[ConnectorStub]:
    """A second Connector stand-in on another loopback address: the host an attacker names."""
    stub = ConnectorStub(host="127.0.0.2").start()
    try:
        yield stub
    finally:
        stub.stop()


@pytest.fixture
def serve(migrated_url: str) -> Iterator[Callable[..., LiveServer]]:
    """`serve(**settings)`: the real app (Slack + Teams) on loopback with those settings."""
    from dealcoach.bootstrap import build_services
    from dealcoach.web import create_app

    started: list[tuple[LiveServer, Any]] = []

    def start(**extra: Any) -> LiveServer:
        settings = make_settings(migrated_url, **extra)
        services = build_services(settings, migrate_sqlite=False)
        server = LiveServer(lambda: create_app(settings, services)).start()
        started.append((server, services))
        return server

    yield start
    for server, services in started:
        server.stop()
        services.close()


@pytest.fixture
def no_microsoft(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tokens signed by `_KEY` verify; the bot's outbound token is `BOT_TOKEN`; any attempt
    to reach Microsoft's key sets or login fails the test."""
    from microsoft_agents.authentication.msal import MsalAuth
    from microsoft_agents.hosting.core.authorization.jwt import JwtTokenValidator

    public = jwt.PyJWK.from_json(json.dumps({
        **json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(_KEY.public_key())),
        "kid": KID, "alg": "RS256", "use": "sig",
    }))

    async def signing_key(jwks_uri: str, header: dict[str, Any]) -> jwt.PyJWK:
        if header["kid"] != KID:
            raise jwt.PyJWKClientError("unknown key id")
        return public

    async def access_token(self: Any, resource_url: str, scopes: list[str],
                           force_refresh: bool = False) -> str:
        return BOT_TOKEN

    def no_network(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the test tried to reach Microsoft")

    monkeypatch.setattr(JwtTokenValidator._jwk_client_manager, "get_signing_key", signing_key)
    monkeypatch.setattr(MsalAuth, "get_access_token", access_token)
    monkeypatch.setattr(jwt.PyJWKClient, "fetch_data", no_network)


def token(service_url: str, **claims: Any) -> str:
    """A Bot Framework channel token for the bot, naming `service_url`."""
    now = int(time.time())
    payload = {"iss": "https://api.botframework.com", "aud": CLIENT_ID, "nbf": now - 10,
               "exp": now + 600, "serviceurl": service_url, **claims}
    payload = {name: value for name, value in payload.items() if value is not None}
    return jwt.encode(payload, _KEY, algorithm="RS256", headers={"kid": KID})


def unsigned(payload: dict[str, Any], header: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part(payload)}."


def stored_reference(url: str, user_id: str) -> dict[str, Any] | None:
    store = Store(url)
    try:
        with store.unit_of_work() as uow:
            person = uow.session.scalars(select(Person).where(Person.user_id == user_id)).one()
            ref = person.teams_conversation_ref
            return dict(ref) if ref is not None else None
    finally:
        store.dispose()


def review_statuses(url: str) -> list[str]:
    store = Store(url)
    try:
        with store.unit_of_work() as uow:
            return list(uow.session.scalars(select(Review.status).order_by(Review.id)))
    finally:
        store.dispose()


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [f"{r.name}: {r.getMessage()}" for r in caplog.records
            if r.exc_info or "Traceback" in r.getMessage()]


# --- item 2: serviceUrl ----------------------------------------------------------------------


def test_a_service_url_off_the_allow_list_is_refused_and_nothing_is_sent_or_stored(
    serve: Callable[..., LiveServer], connector: ConnectorStub, elsewhere: ConnectorStub,
    migrated_url: str,
) -> None:
    live = serve()  # anonymous; only 127.0.0.1 (the real stand-in) is a Bot Connector host
    rita = TeamsUser(live.url, connector)
    rita.say("hi")
    before = stored_reference(migrated_url, "aad-rita")
    assert before is not None and before["serviceUrl"] == connector.url

    spoofed = rita.activity("message", text="history", serviceUrl=elsewhere.url)
    response = rita.post(spoofed)

    assert response.status_code == 403, response.text
    assert "serviceUrl" in response.json()["error"]
    time.sleep(0.3)  # anything the app would still send after answering
    assert elsewhere.calls == []
    assert stored_reference(migrated_url, "aad-rita") == before


@pytest.mark.parametrize("service_url", [
    "https://evil.example/teams/",
    "https://smba.trafficmanager.net.evil.example/",
    "https://botframework.com.evil.example/",
    "https://user@smba.trafficmanager.net/",
    "http://smba.trafficmanager.net/emea/",  # https only, except a listed loopback host
    "javascript:alert(1)",
])
def test_the_default_allow_list_takes_only_microsofts_connector_hosts(service_url: str) -> None:
    from dealcoach.config import Settings
    from dealcoach.teams.security import ServiceUrlPolicy

    default = Settings(_env_file=None)
    policy = ServiceUrlPolicy(default.teams_service_url_host_list)
    assert policy.allows("https://smba.trafficmanager.net/emea/")
    assert policy.allows("https://europe.webchat.botframework.com/")
    assert not policy.allows(service_url)


def test_an_anonymous_request_never_replaces_a_stored_reference(
    serve: Callable[..., LiveServer], connector: ConnectorStub, elsewhere: ConnectorStub,
    migrated_url: str,
) -> None:
    # Both stand-ins are allowed hosts here: the allow-list alone would not stop this.
    live = serve(teams_service_url_hosts="127.0.0.1,127.0.0.2")
    mark = TeamsUser(live.url, connector, aad_id="aad-mark", user_id="29:mark", name="Mark")
    mark.say("hi")
    before = stored_reference(migrated_url, "aad-mark")
    assert before is not None and before["serviceUrl"] == connector.url

    impostor = TeamsUser(live.url, elsewhere, aad_id="aad-mark", user_id="29:mark",
                         name="Mark", conversation_id="a:personal-impostor")
    impostor.say("hi")

    assert stored_reference(migrated_url, "aad-mark") == before


def test_a_stored_reference_off_the_allow_list_is_never_sent_to(
    serve: Callable[..., LiveServer], connector: ConnectorStub, elsewhere: ConnectorStub,
    migrated_url: str,
) -> None:
    """A reference stored before the checks existed cannot redirect a rep's Share."""
    from dealcoach.services.people import PeopleService
    from dealcoach.services.reporting import cli_add

    live = serve()
    rita = TeamsUser(live.url, connector)
    advice, _ = run_review(rita, BASE)
    store = Store(migrated_url)
    try:
        mark = Actor("teams", "tenant-1", "aad-mark", display_name="Mark")
        poisoned = {"serviceUrl": elsewhere.url, "channelId": "msteams",
                    "conversation": {"id": "a:personal-aad-mark"},
                    "user": {"id": "29:mark"}, "bot": {"id": "28:dealcoach-bot"}}
        PeopleService(store).remember_conversation(mark, poisoned)
        store.run(cli_add, "tenant-1", "aad-mark", ["aad-rita"])
    finally:
        store.dispose()

    body = rita.submit(advice, cards.VERB_SHARE, {})

    assert body["statusCode"] == 200 and "cannot reach" in str(body["value"]), body
    assert elsewhere.calls == []


def test_with_a_token_the_service_url_must_be_the_one_the_token_names(
    serve: Callable[..., LiveServer], connector: ConnectorStub, elsewhere: ConnectorStub,
    migrated_url: str, no_microsoft: None,
) -> None:
    live = serve(**CREDENTIALS, teams_service_url_hosts="127.0.0.1,127.0.0.2")
    rita = TeamsUser(live.url, connector)
    rita.headers = {"Authorization": f"Bearer {token(connector.url)}"}
    rita.say("hi")  # the real channel: accepted, answered with the bot's token
    assert [c.authorization for c in connector.messages()] == [f"Bearer {BOT_TOKEN}"]
    before = stored_reference(migrated_url, "aad-rita")
    assert before is not None and before["serviceUrl"] == connector.url

    # A genuine token replayed with another (even allow-listed) serviceUrl.
    response = rita.post(rita.activity("message", text="history", serviceUrl=elsewhere.url))
    # A token without the claim.
    rita.headers = {"Authorization": f"Bearer {token(connector.url, serviceurl=None)}"}
    unclaimed = rita.post(rita.activity("message", text="history"))

    assert response.status_code == 403, response.text
    assert unclaimed.status_code == 403, unclaimed.text
    time.sleep(0.3)
    assert elsewhere.calls == []  # neither a reply nor the bot's bearer token went there
    assert stored_reference(migrated_url, "aad-rita") == before


def test_with_a_token_the_allow_list_still_applies(
    serve: Callable[..., LiveServer], connector: ConnectorStub, elsewhere: ConnectorStub,
    no_microsoft: None,
) -> None:
    live = serve(**CREDENTIALS)  # only 127.0.0.1 allowed
    rita = TeamsUser(live.url, elsewhere)
    rita.headers = {"Authorization": f"Bearer {token(elsewhere.url)}"}
    response = rita.post(rita.activity("message", text="hi"))
    assert response.status_code == 403, response.text
    time.sleep(0.3)
    assert elsewhere.calls == []


# --- item 8: bad tokens and incomplete activities ---------------------------------------------


@pytest.mark.parametrize("mode", ["credentials", "anonymous"])
@pytest.mark.parametrize("bad", [
    unsigned({"aud": CLIENT_ID, "serviceurl": "x"}, {"alg": "none", "typ": "JWT"}),
    unsigned({"aud": CLIENT_ID}, {"alg": "RS256", "typ": "JWT"}),  # no kid
    unsigned({"aud": CLIENT_ID}, {"alg": "HS256", "kid": KID}),
    "a.b.c",
    "x y",
], ids=["alg-none", "no-kid", "hs256", "garbage", "two-parts"])
def test_any_token_that_fails_validation_is_a_401_without_a_traceback(
    serve: Callable[..., LiveServer], connector: ConnectorStub, no_microsoft: None,
    caplog: pytest.LogCaptureFixture, mode: str, bad: str,
) -> None:
    live = serve(**CREDENTIALS) if mode == "credentials" else serve()
    rita = TeamsUser(live.url, connector, headers={"Authorization": f"Bearer {bad}"})
    with caplog.at_level(logging.INFO):
        response = rita.post(rita.activity("message", text="hi"))
    assert response.status_code == 401, response.text
    assert connector.calls == []
    assert tracebacks(caplog) == []


def test_a_token_signed_by_another_key_is_a_401(
    serve: Callable[..., LiveServer], connector: ConnectorStub, no_microsoft: None,
) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode({"aud": CLIENT_ID, "serviceurl": connector.url,
                         "iss": "https://api.botframework.com"}, other, algorithm="RS256",
                        headers={"kid": KID})
    live = serve(**CREDENTIALS)
    rita = TeamsUser(live.url, connector, headers={"Authorization": f"Bearer {forged}"})
    assert rita.post(rita.activity("message", text="hi")).status_code == 401
    assert connector.calls == []


@pytest.mark.parametrize("field,value", [
    ("serviceUrl", None), ("from", None), ("channelId", None), ("recipient", None),
    ("conversation", None), ("type", None),
    ("from", {"name": "no id"}), ("recipient", {"name": "no id"}), ("serviceUrl", ""),
])
def test_an_activity_lacking_what_the_protocol_requires_is_a_400(
    serve: Callable[..., LiveServer], connector: ConnectorStub,
    caplog: pytest.LogCaptureFixture, field: str, value: Any,
) -> None:
    live = serve()
    rita = TeamsUser(live.url, connector)
    activity = rita.activity("message", text="hi")
    if value is None:
        del activity[field]
    else:
        activity[field] = value
    with caplog.at_level(logging.INFO):
        response = rita.post(activity)
    assert response.status_code == 400, response.text
    assert field in response.json()["error"]
    time.sleep(0.2)
    assert connector.calls == []
    assert tracebacks(caplog) == []


@pytest.mark.parametrize("extra", [
    {"timestamp": "not a time SECRET-TEXT"},
    {"channelId": "msteams:one", "entities": [{"type": "ProductInfo", "id": "two"}]},
], ids=["bad-timestamp", "sub-channel-conflict"])
def test_an_activity_the_sdk_cannot_parse_is_a_400_without_a_traceback(
    serve: Callable[..., LiveServer], connector: ConnectorStub,
    caplog: pytest.LogCaptureFixture, extra: dict[str, Any],
) -> None:
    live = serve()
    rita = TeamsUser(live.url, connector)
    with caplog.at_level(logging.INFO):
        response = rita.post(rita.activity("message", text="hi SECRET-TEXT", **extra))
    assert response.status_code == 400, response.text
    time.sleep(0.2)
    assert connector.calls == []
    assert tracebacks(caplog) == []
    assert "SECRET-TEXT" not in caplog.text


# --- item 9: body size -------------------------------------------------------------------------


def test_a_body_over_one_mib_is_a_413_with_or_without_a_content_length(
    serve: Callable[..., LiveServer], connector: ConnectorStub,
) -> None:
    live = serve()
    rita = TeamsUser(live.url, connector)
    big = json.dumps(rita.activity("message", text="hi")).encode()
    big = big[:-1] + b" " * (2 * 1024 * 1024) + b"}"  # a valid activity, 2 MiB of padding

    declared = httpx.post(f"{live.url}/api/messages", content=big,
                          headers={"Content-Type": "application/json"}, timeout=30)

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(big), 64 * 1024):
            yield big[start:start + 64 * 1024]

    streamed = httpx.post(f"{live.url}/api/messages", content=chunks(),
                          headers={"Content-Type": "application/json"}, timeout=30)

    assert declared.status_code == 413, declared.text
    assert streamed.status_code == 413, streamed.text
    time.sleep(0.2)
    assert connector.calls == []
    rita.say("hi")  # an ordinary activity still gets through
    assert connector.messages()


# --- item 13: outcome on a draft ---------------------------------------------------------------


def test_an_outcome_on_a_draft_is_refused_and_the_draft_stays_a_draft(
    serve: Callable[..., LiveServer], connector: ConnectorStub, migrated_url: str,
) -> None:
    live = serve()
    rita = TeamsUser(live.url, connector)
    rita.say("review Initech")  # a draft holding only the deal name
    assert review_statuses(migrated_url) == ["draft"]
    review_id = _review_id(rita.last_card())

    body = rita.invoke(cards.VERB_OUTCOME, {"review_id": review_id,
                                            cards.OUTCOME_INPUT: "won"})

    assert body["statusCode"] == 200 and body["type"] != cards.CONTENT_TYPE, body
    assert "Finish the review first" in body["value"]
    assert review_statuses(migrated_url) == ["draft"]


def _review_id(card: dict[str, Any]) -> str:
    from tests.teams.harness import walk

    for node in walk(card):
        data = node.get("data") if node.get("type") == "Action.Execute" else None
        if isinstance(data, dict) and data.get("review_id"):
            return str(data["review_id"])
    raise AssertionError("no review id on the card")
