"""The CRM link in Teams (issue 17), shaped like `slack/listeners/crm.py`.

- `crm`, `crm connect hubspot TOKEN`, `crm connect salesforce USER PASS+TOKEN KEY SECRET
  [LOGIN_URL]`, `crm disconnect` in the personal chat (admins: DEALCOACH_ADMINS).
- The first step's card gets *Deal in HubSpot/Salesforce*; it shows the step again with a
  choice set of the CRM's open deals (the 50 most recent; `Data.Query` type-ahead needs
  Adaptive Cards 1.6, and the cards promise 1.5) and a ✓ button, which prefills name,
  account, amount and stage and offers the deal's contacts as decision-makers.
- The advice card gets *Save to CRM* (one note per review; saving again updates it).
A CRM that fails is one line on the card; the review goes on.

The tenant's CRM is looked up once per turn (`prepare`, from `routing`) into
`crm_cards.current_provider`, so the synchronous card builders know whether to add the
buttons (`crm_cards`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

from dealcoach.coach.markup import escape_teams
from dealcoach.crm import CrmDealSummary, CrmError
from dealcoach.crm_text import crm_name
from dealcoach.crm_text import t as ct
from dealcoach.errors import DealcoachError
from dealcoach.services.actors import Actor
from dealcoach.services.crm import (
    AsyncCrmService,
    credentials_from_words,
    crm_services,
    reason_text,
)
from dealcoach.services.reviews import ReviewView, StepToShow
from dealcoach.teams.cards import Card
from dealcoach.teams.context import TeamsDeps
from dealcoach.teams.crm_cards import (
    DEAL_INPUT,
    MAX_CHOICES,
    VERB_LIST,
    VERB_PICK,
    VERB_SAVE,
    VERBS,
    current_provider,
    decorate_step,
    save_actions,
)
from dealcoach.teams.payload import CardData, review_id
from dealcoach.teams.replies import Reply
from dealcoach.teams.review_cards import step_card

__all__ = [
    "DEAL_INPUT", "MAX_CHOICES", "VERBS", "VERB_LIST", "VERB_PICK", "VERB_SAVE", "card_action",
    "command", "current_provider", "decorate_step", "is_command", "prepare", "save_actions",
]

PROVIDER_TTL = 30.0

# tenant → (when looked up, its CRM provider or None): one lookup per tenant per PROVIDER_TTL.
_providers: dict[str, tuple[float, str | None]] = {}


def is_command(text: str | None) -> bool:
    words = (text or "").split()
    return bool(words) and words[0].lower() == "crm"


def _service(deps: TeamsDeps) -> AsyncCrmService:
    return crm_services(deps.services)


async def prepare(deps: TeamsDeps, actor: Actor) -> None:
    """This tenant's CRM, for the cards of this turn (`current_provider`)."""
    provider: str | None = None
    hit = _providers.get(actor.workspace_id)
    now = time.monotonic()
    if hit is not None and now - hit[0] < PROVIDER_TTL:
        provider = hit[1]
    else:
        try:
            provider = await _service(deps).provider_for("teams", actor.workspace_id)
        except DealcoachError:
            provider = None
        if len(_providers) > 10_000:
            _providers.clear()
        _providers[actor.workspace_id] = (now, provider)
    current_provider.set(provider)


# --- chat command -------------------------------------------------------------------------


async def command(deps: TeamsDeps, actor: Actor, locale: str, text: str) -> str:
    service = _service(deps)
    words = text.split()[1:]
    verb = words[0].lower() if words else ""
    if verb == "save":
        result = await service.save_command(actor, words[1:])
        return str(result.message(locale))
    if verb not in ("connect", "disconnect"):
        provider = await service.provider_for("teams", actor.workspace_id)
        if provider:
            return ct(locale, "status.connected", crm=crm_name(provider))
        return ct(locale, "status.none")
    if not actor.is_admin:
        return ct(locale, "connect.admins")
    _providers.pop(actor.workspace_id, None)
    if verb == "disconnect":
        removed = await service.disconnect("teams", actor.workspace_id)
        return ct(locale, "disconnect.done" if removed else "disconnect.none")
    provider = words[1].lower() if len(words) > 1 else ""
    creds = credentials_from_words(provider, words[2:])
    if creds is None:
        return ct(locale, "connect.usage")
    try:
        await service.connect("teams", actor.workspace_id, provider, creds,
                              connected_by=actor.user_id)
    except CrmError as exc:
        return ct(locale, "connect.failed", crm=crm_name(provider),
                  reason=reason_text(locale, exc.kind))
    return ct(locale, "connect.done", crm=crm_name(provider))


# --- card actions ---------------------------------------------------------------------------


async def card_action(deps: TeamsDeps, actor: Actor, locale: str, verb: str,
                      data: CardData) -> Reply:
    """*Save to CRM*, *Deal in <CRM>* (list the deals) and its ✓ (prefill from one)."""
    service = _service(deps)
    reviewed = review_id(data)
    if verb == VERB_SAVE:
        result = await service.save(actor, reviewed)
        return Reply(message=result.message(locale))
    view = await deps.reviews.get(actor, reviewed)
    show = view.show
    if view.status != "draft" or show is None:
        return Reply(message=ct(locale, "save.draft", crm=crm_name(current_provider.get())))
    name = crm_name(current_provider.get())
    typed = {q.id: data.get(q.id) for q in show.step.questions
             if isinstance(data.get(q.id), str) and str(data.get(q.id)).strip()}
    if verb == VERB_LIST:
        try:
            deals = await service.search(actor, "", MAX_CHOICES)
        except CrmError as exc:
            notice = ct(view.locale, "pick.failed", crm=name,
                        reason=reason_text(view.locale, exc.kind))
            return Reply(card=_card(view, show, typed, notice, None))
        if not deals:
            none = ct(view.locale, "pick.none")
            return Reply(card=_card(view, show, typed, none, None))
        return Reply(card=_card(view, show, typed, None, deals))
    # VERB_PICK: prefill from the chosen deal (typed values kept where the CRM has none)
    deal_id = str(data.get(DEAL_INPUT) or "").strip()
    if not deal_id:
        return Reply(card=_card(view, show, typed, ct(view.locale, "pick.none"), None))
    try:
        picked = await service.pick(actor, reviewed, deal_id)
    except CrmError as exc:
        notice = ct(view.locale, "pick.failed", crm=name,
                    reason=reason_text(view.locale, exc.kind))
        return Reply(card=_card(view, show, typed, notice, None))
    prefill = {**typed, **{k: _text(v) for k, v in picked.prefill.items()}}
    notice = ct(view.locale, "pick.done", crm=crm_name(picked.provider),
                deal=escape_teams(picked.deal.name))
    if picked.contacts:
        names = ", ".join(escape_teams(c.label) for c in picked.contacts)
        notice += " " + ct(view.locale, "pick.contacts", crm=crm_name(picked.provider),
                           names=names)
    view = await deps.reviews.get(actor, reviewed)
    return Reply(card=_card(view, view.show or show, prefill, notice, None))


def _card(view: ReviewView, show: StepToShow, typed: Mapping[str, object], notice: str | None,
          deals: Sequence[CrmDealSummary] | None) -> Card:
    """The step shown again with what was typed (or prefilled), a notice and, with `deals`,
    the CRM's deals to pick from."""
    card = step_card(view, show, typed=typed, notice_md=notice, again=True)
    return decorate_step(card, review_id=str(view.review_id), locale=view.locale,
                         first_step=show.is_first, deals=deals)


def _text(value: object) -> object:
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    return value
