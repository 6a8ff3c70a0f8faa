"""The service objects the adapters work with, built from settings and the store.

`Services` is the one type an adapter (Slack, Teams, the terminal, the CLI) is handed: it
holds the sync store and review service it was built with and makes every other service
(and the async store, for the asyncio server) on first use, so a CLI command never opens an
async engine. It imports only config, services and store; `dealcoach.bootstrap` decides
*when* to build one (`build_services`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from dealcoach.config import Settings
from dealcoach.services.coaching import AsyncCoachingService, CoachingService
from dealcoach.services.conversations import AsyncConversationService
from dealcoach.services.digests import AsyncDigestService, DigestService
from dealcoach.services.insights import AsyncInsightsService, InsightsService
from dealcoach.services.people import AsyncPeopleService, PeopleService
from dealcoach.services.plans import AsyncPlanService, PlanService
from dealcoach.services.reporting import AsyncReportingService, ReportingService
from dealcoach.services.reviews import AsyncReviewService, ReviewService
from dealcoach.store.uow import AsyncStore, Store


@dataclass
class Services:
    settings: Settings
    store: Store
    reviews: ReviewService
    _closed: bool = field(default=False, repr=False)

    @cached_property
    def async_store(self) -> AsyncStore:
        return AsyncStore(self.settings.database_url)

    @cached_property
    def async_reviews(self) -> AsyncReviewService:
        return AsyncReviewService(self.async_store, default_locale=self.settings.dealcoach_lang)

    @cached_property
    def people(self) -> PeopleService:
        return PeopleService(self.store, default_locale=self.settings.dealcoach_lang)

    @cached_property
    def async_people(self) -> AsyncPeopleService:
        return AsyncPeopleService(self.async_store, default_locale=self.settings.dealcoach_lang)

    @cached_property
    def async_conversations(self) -> AsyncConversationService:
        return AsyncConversationService(self.async_store)

    # Managers: who reports to whom (admins: DEALCOACH_ADMINS and workspace admins) and the
    # digests (on demand, previews, App Home data, pausing reminders).
    @cached_property
    def reporting(self) -> ReportingService:
        return ReportingService(self.store, admins=self.settings.dealcoach_admins)

    @cached_property
    def async_reporting(self) -> AsyncReportingService:
        return AsyncReportingService(self.async_store, admins=self.settings.dealcoach_admins)

    @cached_property
    def digests(self) -> DigestService:
        return DigestService(
            self.store,
            default_locale=self.settings.dealcoach_lang,
            default_tz=self.settings.dealcoach_default_timezone,
        )

    @cached_property
    def async_digests(self) -> AsyncDigestService:
        return AsyncDigestService(self.async_store, default_locale=self.settings.dealcoach_lang)

    # Managers coach (issue 16): open a rep's review, coaching notes, 1:1 prep.
    @cached_property
    def coaching(self) -> CoachingService:
        return CoachingService(self.store, default_locale=self.settings.dealcoach_lang)

    @cached_property
    def async_coaching(self) -> AsyncCoachingService:
        return AsyncCoachingService(self.async_store, default_locale=self.settings.dealcoach_lang)

    @cached_property
    def plans(self) -> PlanService:
        return PlanService(self.store)

    @cached_property
    def async_plans(self) -> AsyncPlanService:
        return AsyncPlanService(self.async_store)

    @cached_property
    def insights(self) -> InsightsService:
        return InsightsService(self.store)

    @cached_property
    def async_insights(self) -> AsyncInsightsService:
        return AsyncInsightsService(self.async_store)

    def close(self) -> None:
        """Dispose of the sync engine (the async one: `await aclose()`)."""
        self.store.dispose()

    async def aclose(self) -> None:
        if "async_store" in self.__dict__:
            await self.async_store.dispose()
        self.store.dispose()
