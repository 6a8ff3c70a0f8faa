"""`dealcoach chat` on the store: every answer is saved to the draft as soon as it is
given (a SIGKILL mid-step loses nothing typed), an interrupted review resumes with
`--resume`, the finished one is completed with its assessment and advice.

The terminal adapter, beside `terminal.py` (which keeps the prompting, `run_review`): this
class is its persistence. `save` is the per-answer callback (`on_answer`; only what changed
is written), `complete` finishes the review. It works on the services it is given; the
command line builds them (through `bootstrap`) and closes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Self

from dealcoach.coach.answers import Answers, AnswerValue
from dealcoach.errors import NotFound
from dealcoach.services.actors import Actor
from dealcoach.services.container import Services
from dealcoach.services.reviews import CompletedReview, ReviewView
from dealcoach.ui_text import translate


class TerminalReview:
    def __init__(self, services: Services, actor: Actor, view: ReviewView) -> None:
        self.services = services
        self.actor = actor
        self.view = view
        self._saved: Answers = dict(view.answers)

    @classmethod
    def start(
        cls,
        services: Services,
        *,
        user_id: str | None = None,
        locale: str | None = None,
        resume: bool = False,
    ) -> Self:
        """Start a new draft, or (`resume`) pick up this user's latest unfinished one."""
        actor = Actor.local(user_id, locale=locale)
        if resume:
            view = services.reviews.find_draft(actor)
            if view is None:
                # The draft's language is unknown here: the configured one (DEALCOACH_LANG).
                raise NotFound(
                    translate(
                        "terminal",
                        locale or services.settings.dealcoach_lang,
                        "no_draft",
                        user=actor.user_id,
                    )
                )
        else:
            view = services.reviews.start(actor, locale=locale)
        return cls(services, actor, view)

    @property
    def review_id(self) -> int:
        return self.view.review_id

    @property
    def locale(self) -> str:
        return self.view.locale

    @property
    def answers(self) -> Answers:
        """The answers saved so far (a resumed draft's, or none)."""
        return dict(self.view.answers)

    def save(self, answers: Mapping[str, AnswerValue]) -> None:
        """Per-answer (or per-step) callback: store what changed since the last save."""
        changed = {k: v for k, v in answers.items() if k not in self._saved or self._saved[k] != v}
        if not changed:
            return
        self.view = self.services.reviews.save_answers(self.actor, self.review_id, changed)
        self._saved.update(changed)

    def complete(self) -> CompletedReview:
        return self.services.reviews.complete(
            self.actor, self.review_id, idempotency_key=f"cli:{self.review_id}"
        )
