"""The CRM's buttons on our cards (issue 17), shaped like `slack/crm_blocks.py`: the first
step's *Deal in HubSpot/Salesforce* picker and the advice card's *Save to CRM*.

Whether this turn's tenant has a CRM is looked up once per turn (`crm.prepare`) into
`current_provider`, so the synchronous card builders know whether to add the buttons without
a database call of their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar

from dealcoach.crm import CrmDealSummary
from dealcoach.crm_text import crm_name
from dealcoach.crm_text import t as ct
from dealcoach.teams import cards
from dealcoach.teams.cards import Card, Element

VERB_LIST = "dealcoach.crm_list"
VERB_PICK = "dealcoach.crm_pick"
VERB_SAVE = "dealcoach.crm_save"
VERBS = (VERB_LIST, VERB_PICK, VERB_SAVE)
DEAL_INPUT = "crm.deal"
MAX_CHOICES = 50

current_provider: ContextVar[str | None] = ContextVar("dealcoach_teams_crm", default=None)


def save_actions(review_id: str, locale: str) -> list[Element]:
    """*Save to CRM* for the advice card (none without a CRM)."""
    if current_provider.get() is None:
        return []
    data = {"review_id": review_id, "nonce": ""}
    return [cards.execute(ct(locale, "save.button"), VERB_SAVE, data)]


def decorate_step(card: Card, *, review_id: str, locale: str, first_step: bool,
                  deals: Sequence[CrmDealSummary] | None = None,
                  selected: str | None = None) -> Card:
    """The first step's card with the CRM picker: a button that lists the deals, or (with
    `deals`) the choice set of deals and *Fill in*."""
    provider = current_provider.get()
    if provider is None or not first_step:
        return card
    name = crm_name(provider)
    data = {"review_id": review_id, "nonce": ""}
    # Idempotent: a card decorated before (by `review_cards.step_card`) is decorated afresh.
    actions = [a for a in card.get("actions") or [] if a.get("verb") not in VERBS]
    body = [b for b in card.get("body") or [] if b.get("id") != DEAL_INPUT]
    if deals is None:
        actions.append(cards.execute(ct(locale, "pick.label", crm=name), VERB_LIST, data))
    else:
        choice: Element = {
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
