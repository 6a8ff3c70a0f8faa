"""The CRM link in Teams (issue 17), shaped like `slack/listeners/crm.py`.

- `crm`, `crm connect hubspot TOKEN`, `crm connect salesforce USER PASS+TOKEN KEY SECRET
  [LOGIN_URL]`, `crm disconnect` in the personal chat (admins: DEALCOACH_ADMINS).
- The first step's card gets *Deal in HubSpot/Salesforce*; it shows the step again with a
  choice set of the CRM's open deals (the 50 most recent; `Data.Query` type-ahead needs
  Adaptive Cards 1.6, and the cards promise 1.5) and a ✓ button, which prefills name,
  account, amount and stage and offers the deal's contacts as decision-makers.
- The advice card gets *Save to CRM* (one note per review; saving again updates it).
A CRM that fails is one line on the card; the review goes on.

The tenant's CRM is looked up once per turn (`prepare`, from `TeamsBot.remember`) into
`current_provider`, so the synchronous card builders know whether to add the buttons.
"""

from __future__ import annotations

import time
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from dealcoach.coach.bank import load_bank
from dealcoach.coach.markup import escape_teams
from dealcoach.crm import CrmError
from dealcoach.crm_text import crm_name
from dealcoach.crm_text import t as ct
from dealcoach.errors import DealcoachError
from dealcoach.services.actors import Actor
from dealcoach.services.crm import credentials_from_words, crm_services, reason_text
from dealcoach.teams import cards

if TYPE_CHECKING:
    from dealcoach.teams.bot import Reply, TeamsBot

VERB_LIST = "dealcoach.crm_list"
VERB_PICK = "dealcoach.crm_pick"
VERB_SAVE = "dealcoach.crm_save"
VERBS = (VERB_LIST, VERB_PICK, VERB_SAVE)
DEAL_INPUT = "crm.deal"
MAX_CHOICES = 50
PROVIDER_TTL = 30.0

current_provider: ContextVar[str | None] = ContextVar("dealcoach_teams_crm", default=None)
_providers: dict[str, tuple[float, str | None]] = {}


def is_command(text: str | None) -> bool:
    words = (text or "").split()
    return bool(words) and words[0].lower() == "crm"


def save_actions(review_id: str, locale: str) -> list[dict[str, Any]]:
    """*Save to CRM* for the advice card (none without a CRM)."""
    if current_provider.get() is None:
        return []
    data = {"review_id": review_id, "nonce": ""}
    return [cards.execute(ct(locale, "save.button"), VERB_SAVE, data)]


def decorate_step(card: dict[str, Any], *, review_id: str, locale: str, first_step: bool,
                  deals: list[Any] | None = None, selected: str | None = None) -> dict[str, Any]:
    """The first step's card with the CRM picker: a button that lists the deals, or (with
    `deals`) the choice set of deals and *Fill in*."""
    provider = current_provider.get()
    if provider is None or not first_step:
        return card
    name = crm_name(provider)
    data = {"review_id": review_id, "nonce": ""}
    # Idempotent: a card decorated before (by TeamsBot._step_card) is decorated afresh.
    actions = [a for a in card.get("actions") or [] if a.get("verb") not in VERBS]
    body = [b for b in card.get("body") or [] if b.get("id") != DEAL_INPUT]
    if deals is None:
        actions.append(cards.execute(ct(locale, "pick.label", crm=name), VERB_LIST, data))
    else:
        choice: dict[str, Any] = {
            "type": "Input.ChoiceSet",
            "id": DEAL_INPUT,
            "label": ct(locale, "pick.label", crm=name),
            "placeholder": ct(locale, "pick.placeholder"),
            "style": "compact",
            "choices": [
                {"title": (f"{d.name} · {d.account}" if d.account else d.name)[:200],
                 "value": d.id}
                for d in deals[:MAX_CHOICES]
            ],
        }
        if selected:
            choice["value"] = selected
        body.insert(1, choice)
        actions.append(cards.execute(ct(locale, "pick.label", crm=name) + " ✓", VERB_PICK, data))
    return {**card, "body": body, "actions": actions}


class TeamsCrm:
    def __init__(self, bot: TeamsBot) -> None:
        self.bot = bot

    @property
    def service(self) -> Any:
        return crm_services(self.bot.services)

    async def prepare(self, actor: Actor) -> None:
        provider: str | None = None
        hit = _providers.get(actor.workspace_id)
        now = time.monotonic()
        if hit is not None and now - hit[0] < PROVIDER_TTL:
            provider = hit[1]
        else:
            try:
                provider = await self.service.provider_for("teams", actor.workspace_id)
            except DealcoachError:
                provider = None
            if len(_providers) > 10_000:
                _providers.clear()
            _providers[actor.workspace_id] = (now, provider)
        current_provider.set(provider)

    # --- chat command ---------------------------------------------------------------------

    async def command(self, actor: Actor, locale: str, text: str) -> str:
        words = text.split()[1:]
        verb = words[0].lower() if words else ""
        if verb == "save":
            result = await self.service.save_command(actor, words[1:])
            return str(result.message(locale))
        if verb not in ("connect", "disconnect"):
            provider = await self.service.provider_for("teams", actor.workspace_id)
            if provider:
                return ct(locale, "status.connected", crm=crm_name(provider))
            return ct(locale, "status.none")
        if not actor.is_admin:
            return ct(locale, "connect.admins")
        _providers.pop(actor.workspace_id, None)
        if verb == "disconnect":
            removed = await self.service.disconnect("teams", actor.workspace_id)
            return ct(locale, "disconnect.done" if removed else "disconnect.none")
        provider = words[1].lower() if len(words) > 1 else ""
        creds = credentials_from_words(provider, words[2:])
        if creds is None:
            return ct(locale, "connect.usage")
        try:
            await self.service.connect("teams", actor.workspace_id, provider, creds,
                                       connected_by=actor.user_id)
        except CrmError as exc:
            return ct(locale, "connect.failed", crm=crm_name(provider),
                      reason=reason_text(locale, exc.kind))
        return ct(locale, "connect.done", crm=crm_name(provider))

    # --- card actions ---------------------------------------------------------------------

    async def card_action(self, actor: Actor, locale: str, verb: str,
                          data: dict[str, Any]) -> Reply:
        from dealcoach.teams.bot import Reply, _review_id

        review_id = _review_id(data)
        if verb == VERB_SAVE:
            result = await self.service.save(actor, review_id)
            return Reply(message=result.message(locale))
        view = await self.bot.reviews.get(actor, review_id)
        step = view.next_step
        if view.status != "draft" or step is None:
            return Reply(message=ct(locale, "save.draft", crm=crm_name(current_provider.get())))
        name = crm_name(current_provider.get())
        typed = {q.id: data.get(q.id) for q in step.questions
                 if isinstance(data.get(q.id), str) and str(data.get(q.id)).strip()}
        if verb == VERB_LIST:
            try:
                deals = await self.service.search(actor, "", MAX_CHOICES)
            except CrmError as exc:
                notice = ct(view.locale, "pick.failed", crm=name,
                            reason=reason_text(view.locale, exc.kind))
                return Reply(card=self._card(view, step, typed, notice, None))
            if not deals:
                none = ct(view.locale, "pick.none")
                return Reply(card=self._card(view, step, typed, none, None))
            return Reply(card=self._card(view, step, typed, None, deals))
        # VERB_PICK: prefill from the chosen deal (typed values kept where the CRM has none)
        deal_id = str(data.get(DEAL_INPUT) or "").strip()
        if not deal_id:
            return Reply(card=self._card(view, step, typed, ct(view.locale, "pick.none"), None))
        try:
            picked = await self.service.pick(actor, review_id, deal_id)
        except CrmError as exc:
            notice = ct(view.locale, "pick.failed", crm=name,
                        reason=reason_text(view.locale, exc.kind))
            return Reply(card=self._card(view, step, typed, notice, None))
        prefill = {**typed, **{k: _text(v) for k, v in picked.prefill.items()}}
        notice = ct(view.locale, "pick.done", crm=crm_name(picked.provider),
                    deal=escape_teams(picked.deal.name))
        if picked.contacts:
            names = ", ".join(escape_teams(c.label) for c in picked.contacts)
            notice += " " + ct(view.locale, "pick.contacts", crm=crm_name(picked.provider),
                               names=names)
        view = await self.bot.reviews.get(actor, review_id)
        return Reply(card=self._card(view, view.next_step or step, prefill, notice, None))

    def _card(self, view: Any, step: Any, typed: dict[str, Any], notice: str | None,
              deals: list[Any] | None) -> dict[str, Any]:
        card: dict[str, Any] = self.bot._step_card(
            view, None, questions=list(step.questions), typed=typed, notice_md=notice,
            people=step.people,
        )
        first = step.round == load_bank(view.locale).rounds[0].id
        return decorate_step(card, review_id=str(view.review_id), locale=view.locale,
                             first_step=first, deals=deals)


def _text(value: Any) -> Any:
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    return value
