"""Facts about a chat itself (not a review): has the bot greeted it yet?"""

from __future__ import annotations

from dealcoach.store.greetings import claim_greeting
from dealcoach.store.uow import AsyncStore


class AsyncConversationService:
    def __init__(self, store: AsyncStore) -> None:
        self.store = store

    async def first_greeting(self, platform: str, conversation_id: str) -> bool:
        """True the first time only: greet then; every later install event stays quiet."""
        claimed: bool = await self.store.run(claim_greeting, platform, conversation_id)
        return claimed
