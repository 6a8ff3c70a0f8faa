"""The one welcome per chat: a claim by primary key, race-free across replicas."""

from __future__ import annotations

from dealcoach.store.models import ConversationGreeting
from dealcoach.store.types import insert_for
from dealcoach.store.uow import UnitOfWork


def claim_greeting(uow: UnitOfWork, platform: str, conversation_id: str) -> bool:
    """True exactly once per (platform, conversation): the caller that inserted the row greets;
    every later (or concurrent) caller gets False."""
    statement = (
        insert_for(uow.session, ConversationGreeting)
        .values(platform=platform, conversation_id=conversation_id[:255])
        .on_conflict_do_nothing(index_elements=["platform", "conversation_id"])
        .returning(ConversationGreeting.platform)
    )
    # RETURNING, not rowcount: an ORM-enabled insert's rowcount is not reliable on psycopg.
    return uow.session.execute(statement).first() is not None
