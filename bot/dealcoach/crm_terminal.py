"""The CRM link in `dealcoach chat` (issue 17): pick the deal from a numbered list with
search before the first question (its name, account, amount, stage and contacts become the
defaults, confirmed with Enter), and offer *Save to CRM* after the advice.

A CRM that fails is one line; the review goes on as if there were none.
"""

from __future__ import annotations

from dealcoach.coach.answers import Answers
from dealcoach.crm import CrmError
from dealcoach.crm_text import crm_name, t
from dealcoach.errors import DealcoachError
from dealcoach.services.actors import Actor
from dealcoach.services.container import Services
from dealcoach.services.crm import CrmService, crm_sync, reason_text
from dealcoach.terminal import ConsoleIO, PromptIO
from dealcoach.terminal_review import TerminalReview

LIST_SIZE = 20


def pick_deal(
    crm: CrmService, actor: Actor, review_id: int, locale: str, io: PromptIO
) -> Answers:
    """Defaults for the review from a deal the rep picks ({} without a CRM or a pick)."""
    provider = crm.provider_for(actor.platform, actor.workspace_id)
    if provider is None:
        return {}
    name = crm_name(provider)
    query = ""
    while True:
        try:
            deals = crm.search(actor, query, LIST_SIZE)
        except CrmError as exc:
            io.write(t(locale, "pick.failed", crm=name, reason=reason_text(locale, exc.kind)))
            return {}
        io.write(t(locale, "terminal.pick", crm=name))
        if not deals:
            io.write(t(locale, "pick.none"))
        for n, deal in enumerate(deals, start=1):
            io.write(f"  {n}. {deal.name}" + (f" · {deal.account}" if deal.account else ""))
        try:
            raw = io.read("> ").strip()
        except EOFError:
            return {}
        if not raw:
            return {}
        if raw.isdigit() and 1 <= int(raw) <= len(deals):
            chosen = deals[int(raw) - 1]
            break
        query = raw
    try:
        picked = crm.pick(actor, review_id, chosen.id, save_contacts=False)
    except CrmError as exc:
        io.write(t(locale, "pick.failed", crm=name, reason=reason_text(locale, exc.kind)))
        return {}
    defaults: Answers = dict(picked.prefill)
    value = defaults.get("deal.value")
    if isinstance(value, float) and value.is_integer():
        defaults["deal.value"] = int(value)
    for n, contact in enumerate(picked.contacts, start=1):
        defaults[f"agenda.{n}.who"] = contact.label
    io.write(t(locale, "pick.done", crm=name, deal=picked.deal.name))
    if picked.contacts:
        names = ", ".join(c.label for c in picked.contacts)
        io.write(t(locale, "pick.contacts", crm=name, names=names))
    return defaults


def offer_save(
    crm: CrmService, actor: Actor, review_id: int, locale: str, io: PromptIO
) -> None:
    """After the advice: *Save to CRM*? (only for a review picked from the CRM)."""
    if crm.link_for(actor, review_id) is None:
        return
    try:
        raw = io.read(t(locale, "save.button") + "? [y/N] ").strip().lower()
    except EOFError:
        return
    if raw not in ("y", "yes", "j", "ja"):
        return
    io.write(crm.save(actor, review_id).message(locale))


def chat_pick(review: TerminalReview, io: PromptIO) -> Answers:
    """`dealcoach chat`: the pick before the first question."""
    try:
        crm = crm_sync(review.services)
        return pick_deal(crm, review.actor, review.review_id, review.locale, io)
    except DealcoachError as exc:  # no key, no extra: one line, the review goes on
        io.write(str(exc))
        return {}


def chat_offer_save(services: Services, user_id: str | None, review_id: int, locale: str) -> None:
    """`dealcoach chat`: *Save to CRM*? after the advice (interactive runs only), on the
    services the command built."""
    io = ConsoleIO()
    try:
        offer_save(crm_sync(services), Actor.local(user_id), review_id, locale, io)
    except DealcoachError as exc:
        io.write(str(exc))
