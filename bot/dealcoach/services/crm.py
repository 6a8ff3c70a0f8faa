"""CRM link (issue 17): connect a workspace's CRM, pick a review's deal from it (prefill),
save the advice back as one note per review.

Read first, write only when the rep asks. A CRM that is down, revoked or rate-limited never
stops a review: `search`/`pick` raise `CrmError` (the adapters tell the rep in one line and
go on without prefill); `save` retries with backoff (honouring Retry-After) and returns a
`SaveResult` saying what happened. Credentials are encrypted before they reach the store and
decrypted only into the client that uses them; nothing here logs them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dealcoach.config import Settings
from dealcoach.crm import PROVIDERS, CrmClient, CrmContact, CrmDeal, CrmDealSummary, make_client
from dealcoach.crm.base import CrmAuthError, CrmError, CrmNotFound, CrmRateLimited
from dealcoach.crm.secrets import decrypt, encrypt
from dealcoach.crm_text import crm_name, t
from dealcoach.errors import ConfigError, Conflict, Forbidden, InputError, NotFound
from dealcoach.services.actors import Actor
from dealcoach.store import crm as crm_store
from dealcoach.store.uow import Store, UnitOfWork

log = logging.getLogger("dealcoach.crm")

# Standard pipeline stages of both CRMs → deal.stage (DESIGN.md values); keys case-folded.
DEFAULT_STAGE_MAP: dict[str, str] = {
    # HubSpot's default sales pipeline (internal stage ids)
    "appointmentscheduled": "discovery",
    "qualifiedtobuy": "discovery",
    "presentationscheduled": "proposal",
    "decisionmakerboughtin": "negotiation",
    "contractsent": "closing",
    "closedwon": "closing",
    "closedlost": "closing",
    # Salesforce's standard Opportunity stages
    "prospecting": "discovery",
    "qualification": "discovery",
    "needs analysis": "discovery",
    "value proposition": "proposal",
    "id. decision makers": "proposal",
    "perception analysis": "proposal",
    "proposal/price quote": "proposal",
    "negotiation/review": "negotiation",
    "closed won": "closing",
    "closed lost": "closing",
}
STAGES = ("discovery", "proposal", "negotiation", "closing")
MAX_CONTACTS = 6  # decision-makers offered (agenda.1..6.who, the bank's maximum)
SAVE_ATTEMPTS = 3
CLIENT_TTL = 600.0  # seconds a CRM client (and a Salesforce session) is reused


def parse_stage_map(raw: str) -> dict[str, str]:
    """`DEALCOACH_CRM_STAGE_MAP`: `stage=value,stage=value` or a JSON object."""
    text = raw.strip()
    if not text:
        return {}
    pairs: dict[str, Any]
    if text.startswith("{"):
        try:
            pairs = json.loads(text)
        except json.JSONDecodeError as err:
            raise ConfigError(f"DEALCOACH_CRM_STAGE_MAP is not valid JSON ({err.msg})") from None
    else:
        pairs = {}
        for part in text.split(","):
            key, sep, value = part.partition("=")
            if not sep:
                raise ConfigError(f"DEALCOACH_CRM_STAGE_MAP: {part.strip()!r} has no '='")
            pairs[key] = value
    out: dict[str, str] = {}
    for key, value in pairs.items():
        if str(value).strip() not in STAGES:
            allowed = ", ".join(STAGES)
            raise ConfigError(
                f"DEALCOACH_CRM_STAGE_MAP: {key!r} maps to {value!r}; use one of {allowed}"
            )
        out[str(key).strip().casefold()] = str(value).strip()
    return out


@dataclass(frozen=True)
class PickResult:
    deal: CrmDeal
    prefill: dict[str, Any]  # deal.name, deal.account, deal.value, deal.stage (not saved)
    contacts: tuple[CrmContact, ...]  # saved as agenda.N.who
    provider: str


@dataclass(frozen=True)
class SaveResult:
    ok: bool
    created: bool = False
    note_ref: str | None = None
    provider: str | None = None
    deal_name: str | None = None
    reason: str | None = None  # CrmError.kind, `busy`, `no_deal` when not ok
    attempts: int = 0

    def message(self, locale: str | None) -> str:
        crm = crm_name(self.provider)
        deal = self.deal_name or "-"
        if self.ok:
            return t(locale, "save.created" if self.created else "save.updated", crm=crm, deal=deal)
        if self.reason in ("busy", "no_deal", "draft", "not_connected"):
            key = {"busy": "save.busy", "no_deal": "save.no_deal", "draft": "save.draft",
                   "not_connected": "save.not_connected"}[self.reason]
            return t(locale, key, crm=crm)
        return t(locale, "save.failed", crm=crm, reason=reason_text(locale, self.reason))


def reason_text(locale: str | None, kind: str | None) -> str:
    key = f"reason.{kind}" if kind in ("unavailable", "auth", "rate_limited", "not_found") else (
        "reason.other"
    )
    return t(locale, key)


@dataclass
class CrmService:
    store: Store
    settings: Settings
    sleep: Callable[[float], None] = time.sleep
    client_factory: Callable[..., CrmClient] = field(default=make_client)
    _clients: dict[str, tuple[float, CrmClient]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    # --- keys and clients ------------------------------------------------------------------

    def _key(self) -> str | None:
        key = self.settings.dealcoach_secret_key
        return key.get_secret_value() if key is not None else None

    def stage_map(self) -> dict[str, str]:
        return {**DEFAULT_STAGE_MAP, **parse_stage_map(self.settings.dealcoach_crm_stage_map)}

    def require_key(self) -> None:
        """Refuse to start when a CRM is connected and DEALCOACH_SECRET_KEY is missing."""
        if self._key():
            return
        if self.store.run(lambda uow: crm_store.any_connection(uow.session)):
            raise ConfigError(
                "DEALCOACH_SECRET_KEY is not set, but a CRM is connected: its credentials "
                "cannot be read without it"
            )

    def _client(self, provider: str, credentials: dict[str, Any]) -> CrmClient:
        return self.client_factory(
            provider, credentials, hubspot_url=self.settings.dealcoach_hubspot_url
        )

    def _client_for(self, row: crm_store.ConnectionRow) -> CrmClient:
        """The client for a stored connection, reused for CLIENT_TTL seconds (keyed by the
        ciphertext, so a reconnect makes a new one): Salesforce signs in once, not per
        keystroke of the deal search."""
        now = time.monotonic()
        with self._lock:
            hit = self._clients.get(row.credentials)
            if hit is not None and now - hit[0] < CLIENT_TTL:
                return hit[1]
        client = self._client(row.provider, decrypt(self._key(), row.credentials))
        with self._lock:
            if len(self._clients) >= 256:
                self._clients.clear()
            self._clients[row.credentials] = (now, client)
        return client

    def _connection(self, uow: UnitOfWork, platform: str, workspace: str) -> Any:
        return crm_store.connection_for(uow.session, platform, workspace)

    def provider_for(self, platform: str, workspace: str) -> str | None:
        row = self.store.run(self._connection, platform, workspace)
        return row.provider if row is not None else None

    def client_for(self, platform: str, workspace: str) -> CrmClient | None:
        row = self.store.run(self._connection, platform, workspace)
        if row is None:
            return None
        return self._client_for(row)

    # --- connect / disconnect --------------------------------------------------------------

    def connect(
        self,
        platform: str,
        workspace: str,
        provider: str,
        credentials: dict[str, Any],
        *,
        connected_by: str | None = None,
        check: bool = True,
        workspace_name: str | None = None,
    ) -> None:
        """Check the credentials with one call, then store them encrypted (replacing any)."""
        if provider not in PROVIDERS:
            raise InputError(f"unknown CRM {provider!r}: hubspot or salesforce")
        _require_fields(provider, credentials)
        token = encrypt(self._key(), credentials)  # no key: refused before any call
        if check:
            self._client(provider, credentials).check()

        def write(uow: UnitOfWork) -> None:
            ws = uow.workspaces.get_or_create(platform, workspace, name=workspace_name)
            crm_store.set_connection(uow.session, ws.id, provider, token, connected_by)

        self.store.run(write)
        log.info("crm connected", extra={"provider": provider, "platform": platform})

    def disconnect(self, platform: str, workspace: str) -> bool:
        def remove(uow: UnitOfWork) -> bool:
            ws = crm_store.workspace_id(uow.session, platform, workspace)
            return ws is not None and crm_store.delete_connection(uow.session, ws)

        removed = self.store.run(remove)
        if removed:
            log.info("crm disconnected", extra={"platform": platform})
        return removed

    # --- pick the deal ---------------------------------------------------------------------

    def search(self, actor: Actor, query: str, limit: int = 20) -> list[CrmDealSummary]:
        client = self.client_for(actor.platform, actor.workspace_id)
        if client is None:
            return []
        return client.search_deals(query, limit)

    def pick(
        self, actor: Actor, review_id: int, deal_id: str, *, save_contacts: bool = True
    ) -> PickResult:
        """Read the deal and its contacts; link the review to it and offer the contacts as
        decision-makers (agenda.N.who; with `save_contacts=False` they only come back, for
        the terminal to offer as defaults). The deal.* values come back as `prefill` for the
        step on screen (saved when the rep submits it)."""
        row = self.store.run(self._connection, actor.platform, actor.workspace_id)
        if row is None:
            raise Conflict(t(actor.locale, "save.not_connected"))
        client = self._client_for(row)
        deal = client.get_deal(deal_id)
        prefill: dict[str, Any] = {"deal.name": deal.name[:200]}
        if deal.account:
            prefill["deal.account"] = deal.account[:200]
        if deal.amount is not None:
            prefill["deal.value"] = deal.amount
        stage = self.stage_map().get((deal.stage or "").strip().casefold())
        if stage:
            prefill["deal.stage"] = stage
        contacts = deal.contacts[:MAX_CONTACTS]

        def link(uow: UnitOfWork) -> None:
            from dealcoach.services.reviews import save_answers

            review = _owned(uow, actor, review_id)
            previous = crm_store.get_link(uow.session, review.id)
            answers: dict[str, Any] = {
                f"agenda.{n}.who": c.label[:200] for n, c in enumerate(contacts, start=1)
            }
            if previous is not None:  # contacts of a deal picked before, not typed over
                current = uow.reviews.answers(review.id)
                for n, old in enumerate(previous.contacts, start=1):
                    key = f"agenda.{n}.who"
                    if key not in answers and current.get(key) == old.get("label"):
                        answers[key] = None
            if answers and review.status == "draft" and save_contacts:
                save_answers(uow, actor, review_id, answers)
            crm_store.set_link(
                uow.session,
                review.id,
                row.provider,
                deal.id,
                [{"name": c.name, "title": c.title, "label": c.label} for c in contacts],
            )

        self.store.run(link)
        return PickResult(deal=deal, prefill=prefill, contacts=contacts, provider=row.provider)

    # --- save to the CRM -------------------------------------------------------------------

    def note_text(self, source: crm_store.NoteSource) -> tuple[str, str]:
        locale = source.locale
        rec = source.recommendation or "-"
        subject = t(locale, "note.subject", recommendation=rec)
        lines = [t(locale, "note.verdict", recommendation=rec, quadrant=source.quadrant or "-")]
        if source.flags:
            lines.append(t(locale, "note.flags", flags=", ".join(source.flags)))
        actions = [a for a in source.data.get("actions") or [] if isinstance(a, dict)][:3]
        if actions:
            lines.append(t(locale, "note.actions"))
            for n, action in enumerate(actions, start=1):
                why = f" ({action['why']})" if action.get("why") else ""
                lines.append(f"{n}. {action.get('text', '')}{why}")
        link = t(locale, "note.link", review=source.review_id)
        base = self.settings.dealcoach_public_url
        lines.append(f"{link} {base.rstrip('/')}" if base else link)
        return subject, "\n".join(lines)

    def save(self, actor: Actor, review_id: int) -> SaveResult:
        """Save the review's advice as a note on its CRM deal: created once, updated after.

        Retried with backoff (Retry-After when the CRM sends one); a refused token is not
        retried. The claim on the link row keeps two clicks from creating two notes."""

        def claim(uow: UnitOfWork) -> tuple[Any, Any, Any, bool]:
            _owned(uow, actor, review_id)
            conn = self._connection(uow, actor.platform, actor.workspace_id)
            link = crm_store.get_link_or_inherited(uow.session, review_id)
            source = crm_store.note_source(uow.session, review_id)
            claimed = (
                conn is not None
                and link is not None
                and source is not None
                and source.status == "completed"
                and crm_store.claim_save(uow.session, review_id)
            )
            return conn, link, source, claimed

        conn, link, source, claimed = self.store.run(claim)
        provider = conn.provider if conn is not None else None
        if conn is None:
            return SaveResult(False, provider=provider, reason="not_connected")
        if link is None:
            return SaveResult(False, provider=provider, reason="no_deal")
        if source is None or source.status != "completed":
            return SaveResult(False, provider=provider, reason="draft")
        if not claimed:
            return SaveResult(False, provider=provider, reason="busy")
        note_ref: str | None = None
        error: CrmError | None = None
        attempts = 0
        try:
            client = self._client_for(conn)
            subject, body = self.note_text(source)
            for attempt in range(1, SAVE_ATTEMPTS + 1):
                attempts = attempt
                try:
                    note_ref = client.save_note(link.deal_ref, subject, body, link.note_ref)
                    error = None
                    break
                except CrmNotFound as exc:
                    if link.note_ref:  # the note was deleted in the CRM: write a new one
                        link = crm_store.LinkRow(**{**link.__dict__, "note_ref": None})
                        error = exc
                        continue
                    error = exc
                    break
                except CrmAuthError as exc:
                    error = exc
                    break
                except CrmError as exc:
                    error = exc
                    if attempt < SAVE_ATTEMPTS:
                        self.sleep(_backoff(exc, attempt))
        finally:
            self.store.run(
                lambda uow: crm_store.finish_save(uow.session, review_id, note_ref)
            )
        if note_ref is None:
            kind = error.kind if error is not None else "other"
            log.warning("crm save failed", extra={"provider": conn.provider, "kind": kind})
            return SaveResult(
                False, provider=conn.provider, reason=kind, attempts=attempts,
                deal_name=source.deal_name,
            )
        return SaveResult(
            True,
            created=note_ref != link.note_ref,
            note_ref=note_ref,
            provider=conn.provider,
            deal_name=source.deal_name,
            attempts=attempts,
        )

    def latest_review(self, actor: Actor) -> int | None:
        """The actor's latest completed review picked from the CRM (`crm save` without id)."""

        def read(uow: UnitOfWork) -> int | None:
            person = uow.people.find_by_platform(actor.platform, actor.workspace_id, actor.user_id)
            return crm_store.latest_linked_review(uow.session, person.id) if person else None

        return self.store.run(read)

    def link_for(self, actor: Actor, review_id: int) -> crm_store.LinkRow | None:
        def read(uow: UnitOfWork) -> crm_store.LinkRow | None:
            _owned(uow, actor, review_id)
            return crm_store.get_link_or_inherited(uow.session, review_id)

        return self.store.run(read)


def _backoff(exc: CrmError, attempt: int) -> float:
    if isinstance(exc, CrmRateLimited) and exc.retry_after is not None:
        return min(max(exc.retry_after, 0.0), 10.0)
    return min(0.5 * 2 ** (attempt - 1), 4.0)


def _owned(uow: UnitOfWork, actor: Actor, review_id: int) -> Any:
    review = uow.reviews.get(review_id)
    if review is None:
        raise NotFound(f"review {review_id} does not exist")
    person = uow.people.find_by_platform(actor.platform, actor.workspace_id, actor.user_id)
    if person is None or review.person_id != person.id:
        raise Forbidden("that review belongs to someone else")
    return review


def credentials_from_words(provider: str, args: list[str]) -> dict[str, str] | None:
    """Credentials typed in a chat command (`connect hubspot TOKEN`, `connect salesforce
    USERNAME PASSWORD+SECURITY_TOKEN CONSUMER_KEY CONSUMER_SECRET [LOGIN_URL]`); None when
    the words do not fit."""
    if provider == "hubspot" and len(args) == 1:
        return {"token": args[0]}
    if provider == "salesforce" and len(args) in (4, 5):
        creds = {
            "username": args[0],
            "password": args[1],  # password and security token typed together
            "security_token": "",
            "consumer_key": args[2],
            "consumer_secret": args[3],
        }
        if len(args) == 5:
            creds["login_url"] = args[4]
        return creds
    return None


def _require_fields(provider: str, credentials: dict[str, Any]) -> None:
    if provider == "hubspot":
        needed = ["token"]
    elif credentials.get("private_key"):
        needed = ["username", "consumer_key", "private_key"]
    else:
        needed = ["username", "password", "consumer_key", "consumer_secret"]
    missing = [name for name in needed if not str(credentials.get(name) or "").strip()]
    if missing:
        raise InputError(f"{provider}: missing {', '.join(missing)}")


class AsyncCrmService:
    """The same service for the asyncio server: each call runs whole in a worker thread
    (the CRM client libraries are synchronous; so is this service's store)."""

    def __init__(self, sync: CrmService) -> None:
        self.sync = sync

    async def provider_for(self, platform: str, workspace: str) -> str | None:
        return await asyncio.to_thread(self.sync.provider_for, platform, workspace)

    async def search(self, actor: Actor, query: str, limit: int = 20) -> list[CrmDealSummary]:
        return await asyncio.to_thread(self.sync.search, actor, query, limit)

    async def pick(self, actor: Actor, review_id: int, deal_id: str) -> PickResult:
        return await asyncio.to_thread(self.sync.pick, actor, review_id, deal_id)

    async def save(self, actor: Actor, review_id: int) -> SaveResult:
        return await asyncio.to_thread(self.sync.save, actor, review_id)

    async def connect(self, *args: Any, **kwargs: Any) -> None:
        await asyncio.to_thread(self.sync.connect, *args, **kwargs)

    async def disconnect(self, platform: str, workspace: str) -> bool:
        return await asyncio.to_thread(self.sync.disconnect, platform, workspace)

    async def link_for(self, actor: Actor, review_id: int) -> crm_store.LinkRow | None:
        return await asyncio.to_thread(self.sync.link_for, actor, review_id)

    async def save_command(self, actor: Actor, words: list[str]) -> SaveResult:
        """`crm save [REVIEW_ID]`: the given review, else the latest one picked from the CRM."""
        if words and words[0].isdigit() and len(words[0]) <= 18:
            review_id: int | None = int(words[0])
        else:
            review_id = await asyncio.to_thread(self.sync.latest_review, actor)
        if review_id is None:
            provider = await self.provider_for(actor.platform, actor.workspace_id)
            return SaveResult(False, provider=provider,
                              reason="no_deal" if provider else "not_connected")
        return await self.save(actor, review_id)


def crm_services(services: Any) -> AsyncCrmService:
    """The CRM service of a `bootstrap.Services` (made on first use, on its sync store)."""
    cached = services.__dict__.get("crm_async")
    if cached is None:
        sync = services.__dict__.get("crm_sync") or CrmService(services.store, services.settings)
        cached = services.__dict__["crm_async"] = AsyncCrmService(sync)
        services.__dict__["crm_sync"] = sync
    return cached


def crm_sync(services: Any) -> CrmService:
    return crm_services(services).sync


def resolve_platform(store: Store, workspace: str, platform: str | None) -> str:
    """The platform of workspace `workspace` (`--platform` wins; else the one it is known on;
    else Slack)."""
    if platform:
        return platform

    found = store.run(lambda uow: crm_store.platforms_of(uow.session, workspace))
    if len(found) > 1:
        raise InputError(f"workspace {workspace} is known on {', '.join(found)}: add --platform")
    return found[0] if found else "slack"
