"""The Agents SDK wiring: auth configuration, connection manager, CloudAdapter, the
AgentApplication with its routes, and the FastAPI endpoint. Imported only when the
`dealcoach[teams]` extra is installed (see `dealcoach.teams.mount`).

Nothing is kept in process memory between turns (the SDK's turn state uses a MemoryStorage we
never write to): reviews live in the database, so any replica can answer any card.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pydantic
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from microsoft_agents.activity import (
    Activity,
    ChannelAccount,
    ConversationAccount,
    ConversationParameters,
    ConversationReference,
)
from microsoft_agents.hosting.core import (
    AgentApplication,
    AgentAuthConfiguration,
    AnonymousTokenProvider,
    ClaimsIdentity,
    ConnectionManager,
    Connections,
    MemoryStorage,
    RestChannelServiceClientFactory,
    TurnContext,
    TurnState,
)
from microsoft_agents.hosting.fastapi import CloudAdapter

from dealcoach.config import Settings
from dealcoach.errors import DeliveryError
from dealcoach.http_limits import read_body_within
from dealcoach.teams import ROUTE, routing, security
from dealcoach.teams.activities import card_activity
from dealcoach.teams.cards import Card
from dealcoach.teams.context import ConversationRef, TeamsDeps

if TYPE_CHECKING:
    from dealcoach.services.container import Services

log = logging.getLogger("dealcoach.teams")

TEAMS_CHANNEL = "msteams"
BOT_FRAMEWORK_AUDIENCE = "https://api.botframework.com"
# The largest activity /api/messages accepts (like /slack/events): a card submit carries one
# step's inputs (≤ 60 questions, text capped by the question bank), a message ≤ 28 KB of text.
MAX_TEAMS_BODY_BYTES = 1024 * 1024


def auth_configuration(settings: Settings) -> AgentAuthConfiguration:
    """JWT settings for inbound requests: validated whenever a client id is configured."""
    if settings.teams_client_id:
        secret = settings.teams_client_secret
        return AgentAuthConfiguration(
            client_id=settings.teams_client_id,
            tenant_id=settings.teams_tenant_id,
            client_secret=secret.get_secret_value() if secret else None,
            anonymous_allowed=settings.teams_allow_anonymous,
        )
    return AgentAuthConfiguration(anonymous_allowed=True)


def connection_manager(settings: Settings, config: AgentAuthConfiguration) -> Connections:
    """Outbound tokens: MSAL app-only tokens with credentials, none in anonymous mode."""
    connections = {"SERVICE_CONNECTION": config}
    if settings.teams_client_id:
        from microsoft_agents.authentication.msal import MsalConnectionManager

        return MsalConnectionManager(connections_configurations=connections)
    return ConnectionManager(
        provider_factory=lambda _config: AnonymousTokenProvider(),
        connections_configurations=connections,
    )


@dataclass
class TeamsRuntime:
    settings: Settings
    services: Services
    auth_config: AgentAuthConfiguration
    connections: Connections
    adapter: CloudAdapter
    agent: AgentApplication[TurnState]
    deps: TeamsDeps  # what the turn handlers (`routing`) work with
    service_urls: security.ServiceUrlPolicy

    @classmethod
    def create(cls, settings: Settings, services: Services) -> TeamsRuntime:
        config = auth_configuration(settings)
        manager = connection_manager(settings, config)
        adapter = CloudAdapter(connection_manager=manager)
        agent: AgentApplication[TurnState] = AgentApplication[TurnState](
            storage=MemoryStorage(),
            connection_manager=manager,
            start_typing_timer=False,
            remove_recipient_mention=True,
        )
        deps = TeamsDeps(settings, services)
        runtime = cls(settings, services, config, manager, adapter, agent, deps,
                      security.ServiceUrlPolicy(settings.teams_service_url_host_list))
        deps.sender = runtime  # shares and coaching notes go out through the runtime
        _quiet_activity_validation()
        routing.register(agent, deps)
        adapter.on_turn_error = routing.error_handler(deps)
        return runtime

    @property
    def app_id(self) -> str:
        return self.settings.teams_client_id or ""

    # --- HTTP ---------------------------------------------------------------------------

    def mount(self, app: FastAPI) -> None:
        runtime = self

        async def messages(request: Request) -> Response:
            return await runtime.handle(request)

        app.add_api_route(ROUTE, messages, methods=["POST"], name="teams_messages")

    async def handle(self, request: Request) -> Response:
        """Size cap (413) → token (401) → JSON and the Activity protocol (400) → the
        `serviceUrl` (403) → the SDK. Nothing is stored or sent for a refused request."""
        if not await read_body_within(request, MAX_TEAMS_BODY_BYTES):
            return JSONResponse({"error": "request body too large"}, status_code=413)
        identity = await security.authorize(request.headers.get("Authorization"),
                                            self.auth_config)
        if isinstance(identity, security.Refusal):
            return JSONResponse({"error": identity.message}, status_code=identity.status)
        try:
            body = json.loads(await request.body())
        except (json.JSONDecodeError, UnicodeDecodeError):
            return _bad_request("the body is not JSON")
        if not isinstance(body, dict):
            return _bad_request("the body is not a Bot Framework activity (a JSON object)")
        problem = security.protocol_problem(body)
        if problem is not None:
            return _bad_request(problem)
        try:
            Activity.model_validate(body)
        except pydantic.ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ())) or "activity"
            return _bad_request(f"not a Bot Framework activity: {where}: {first.get('msg')}")
        except Exception:  # the SDK's own consistency checks raise plain exceptions
            return _bad_request("not a Bot Framework activity")
        refused = self.check_service_url(body["serviceUrl"], identity)
        if refused is not None:
            return JSONResponse({"error": refused}, status_code=403)
        request.state.claims_identity = identity  # what the SDK's adapter reads
        response = await self.adapter.process(request, self.agent)
        return response if response is not None else Response(status_code=202)

    def check_service_url(self, service_url: str, identity: ClaimsIdentity) -> str | None:
        """Why this activity's `serviceUrl` is refused, or None: it must be on the allow-list
        and, for an authenticated request, the URL its token was issued for."""
        if not self.service_urls.allows(service_url):
            log.warning("Teams activity refused: serviceUrl host not allowed (%s)",
                        _host_of(service_url))
            return "serviceUrl is not a Bot Connector host this bot accepts"
        if not identity.allow_anonymous and not security.same_service_url(
            service_url, identity.get_claim_value("serviceurl")
        ):
            log.warning("Teams activity refused: serviceUrl does not match the token's claim")
            return "serviceUrl does not match the token's serviceurl claim"
        return None

    # --- proactive ----------------------------------------------------------------------

    async def send_card(self, reference: ConversationRef, card: Card) -> str | None:
        """Post an Adaptive Card into a stored conversation; returns the new activity id."""
        return await self.send_to_reference(reference, card_activity(card))

    async def send_to_reference(self, reference: ConversationRef,
                                activity: Activity) -> str | None:
        """Post `activity` into a stored conversation; returns the new activity id."""
        try:
            ref = ConversationReference.model_validate(reference)
        except pydantic.ValidationError as exc:
            raise DeliveryError(f"stored Teams conversation reference is unusable: {exc}") from None
        self._require_allowed(ref.service_url)
        sent: list[str | None] = []
        failed: list[Exception] = []

        async def callback(context: TurnContext) -> None:
            # A new message in the chat, not a reply to the synthetic continuation event.
            context.activity.id = None
            try:
                response = await context.send_activity(activity)
            except Exception as exc:
                # Kept here, not raised into the turn: the adapter's turn-error handler would
                # swallow it (and try to apologise in the very chat that just failed).
                failed.append(exc)
                return
            sent.append(response.id if response else None)

        try:
            await self.adapter.continue_conversation_with_claims(
                self._identity(), ref.get_continuation_activity(), callback,
                audience=BOT_FRAMEWORK_AUDIENCE,
            )
        except Exception as exc:  # the SDK raises plain exceptions for HTTP failures
            raise DeliveryError(f"Teams did not accept the message: {exc}") from exc
        if failed:
            raise DeliveryError(f"Teams did not accept the message: {failed[0]}") from failed[0]
        return sent[0] if sent else None

    async def create_personal_conversation(
        self, *, service_url: str, tenant_id: str | None, user_id: str, activity: Activity
    ) -> ConversationRef:
        """Open a 1:1 chat with `user_id` (someone who never wrote to the bot) and post
        `activity`; returns the new conversation's reference for next time."""
        self._require_allowed(service_url)
        params = ConversationParameters(
            is_group=False,
            agent=ChannelAccount(id=self.app_id or "dealcoach"),
            members=[ChannelAccount(id=user_id)],
            tenant_id=tenant_id,
            channel_data={"tenant": {"id": tenant_id}} if tenant_id else None,
        )
        identity = self._identity()
        factory = RestChannelServiceClientFactory(self.connections)
        try:
            client = await factory.create_connector_client(
                None, identity, service_url, BOT_FRAMEWORK_AUDIENCE,
                use_anonymous=identity.allow_anonymous,
            )
            try:
                created = await client.conversations.create_conversation(params)
            finally:
                await client.close()
        except Exception as exc:
            raise DeliveryError(f"Teams did not open a chat with {user_id}: {exc}") from exc
        reference = ConversationReference(
            channel_id=TEAMS_CHANNEL,
            service_url=service_url,
            conversation=ConversationAccount(id=created.id, tenant_id=tenant_id,
                                             conversation_type="personal"),
            user=ChannelAccount(id=user_id),
            agent=ChannelAccount(id=self.app_id or "dealcoach"),
        ).model_dump(mode="json", by_alias=True, exclude_none=True)
        await self.send_to_reference(reference, activity)
        return reference

    def _require_allowed(self, service_url: str | None) -> None:
        """Never send (with or without the bot's token) to a host off the allow-list, even
        when it comes from a stored reference."""
        if not self.service_urls.allows(service_url):
            raise DeliveryError(
                f"the stored Teams service URL (host {_host_of(service_url)}) is not an "
                "allowed Bot Connector host (TEAMS_SERVICE_URL_HOSTS)"
            )

    def _identity(self) -> ClaimsIdentity:
        """Who the bot is on outbound calls: its app id, or anonymous for local testing."""
        if self.app_id:
            return self.adapter.create_claims_identity(self.app_id)
        return ClaimsIdentity()


class _QuietActivityValidation(logging.Filter):
    """The SDK logs every `Activity` that fails validation at ERROR, with a traceback and the
    input (a stranger's message text). For `/api/messages` that is a 400 we answer ourselves:
    one warning line, no traceback, no input."""

    def filter(self, record: logging.LogRecord) -> bool:
        if str(record.msg).startswith("Validation error for Activity"):
            record.msg, record.args = "an invalid Activity was refused (400)", ()
            record.exc_info = record.exc_text = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def _quiet_activity_validation() -> None:
    logger = logging.getLogger("microsoft_agents.activity.activity")
    if not any(isinstance(f, _QuietActivityValidation) for f in logger.filters):
        logger.addFilter(_QuietActivityValidation())


def _bad_request(message: str) -> Response:
    return JSONResponse({"error": message}, status_code=400)


def _host_of(url: object) -> str:
    try:
        return repr((urlsplit(str(url)).hostname or "")[:100])
    except ValueError:
        return "'?'"
