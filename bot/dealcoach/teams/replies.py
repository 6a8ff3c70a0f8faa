"""How a turn answers: the `Reply` of a card action, invoke response bodies, and the one-line
wording of a refusal.

A card action (`Action.Execute` invoke or a legacy `Action.Submit` message) returns a `Reply`;
`routing` turns it into the invoke response or the messages that Teams expects. Pure: the
activities that carry these are built in `activities` (the Agents SDK's types).
"""

from __future__ import annotations

from dataclasses import dataclass

from dealcoach.coach.markup import escape_teams
from dealcoach.coach.plan_text import text as plan_text
from dealcoach.errors import DealcoachError, Forbidden
from dealcoach.services.plans import PlanInvalid, PlanRefused
from dealcoach.teams import cards
from dealcoach.teams.cards import Card, Element
from dealcoach.teams.payload import BadCard
from dealcoach.teams.strings import t

MESSAGE_TYPE = "application/vnd.microsoft.activity.message"
ERROR_TYPE = "application/vnd.microsoft.error"
MAX_PLAN_TEXT = 300  # {max} in plan.yaml's invalid.too_long / invalid.reason_text

@dataclass
class Reply:
    """The outcome of a card action: a card to show in place, a short message, or both
    (`new_card`: posted as a new message instead of replacing the clicked card)."""

    card: Card | None = None
    message: str | None = None
    new_card: Card | None = None


def invoke_body(reply: Reply) -> Element:
    """The invoke response body for a card action: the card shown in place of the clicked
    one, else a message."""
    if reply.card is not None:
        return {"statusCode": 200, "type": cards.CONTENT_TYPE, "value": reply.card}
    return {"statusCode": 200, "type": MESSAGE_TYPE, "value": reply.message or ""}


def error_body(status: int, message: str) -> Element:
    """An invoke response body refusing the action (Universal Actions' error shape)."""
    return {"statusCode": status, "type": ERROR_TYPE,
            "value": {"code": "BadRequest", "message": message}}


def apology_body(locale: str) -> Element:
    """The invoke response body of a turn that failed unexpectedly."""
    return {"statusCode": 200, "type": cards.CONTENT_TYPE,
            "value": cards.message_card(t(locale, "error.apology"), color="Attention")}


def user_message(err: DealcoachError, locale: str) -> str:
    """A refusal in one line of the user's language (never a stack trace)."""
    if isinstance(err, PlanRefused | PlanInvalid):  # close plans, loss reasons (issue 15)
        kind = "refused" if isinstance(err, PlanRefused) else "invalid"
        try:
            return plan_text(locale, f"{kind}.{err.key}", max=MAX_PLAN_TEXT)
        except KeyError:  # a key the wording does not have (yet): the service's own words
            return escape_teams(str(err))
    if isinstance(err, Forbidden):
        return t(locale, "error.not_yours")
    if isinstance(err, BadCard):
        return t(locale, "error.bad_card")
    return escape_teams(str(err))  # NotFound, Conflict, InputError: already one line


def refusal_card(err: DealcoachError, locale: str) -> Card:
    """A refused card action as the card shown in place of the clicked one."""
    return cards.message_card(user_message(err, locale), color="Attention")
