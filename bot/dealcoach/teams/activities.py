"""The Agents SDK activities that carry our answers: a message with an Adaptive Card, and
the response to an `adaptiveCard/action` invoke."""

from __future__ import annotations

from microsoft_agents.activity import Activity, ActivityTypes, Attachment, InvokeResponse
from microsoft_agents.hosting.core import TurnContext

from dealcoach.teams import cards
from dealcoach.teams.cards import Card, Element


def card_attachment(card: Card) -> Attachment:
    return Attachment(content_type=cards.CONTENT_TYPE, content=card)


def card_activity(card: Card, **extra: object) -> Activity:
    """A message carrying one Adaptive Card."""
    return Activity(type=ActivityTypes.message, attachments=[card_attachment(card)], **extra)


def invoke_response(body: Element, status: int = 200) -> Activity:
    return Activity(type=ActivityTypes.invoke_response,
                    value=InvokeResponse(status=status, body=body))


async def send_invoke(context: TurnContext, body: Element) -> None:
    """Answer the invoke this turn is about."""
    await context.send_activity(invoke_response(body))
