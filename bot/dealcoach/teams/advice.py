"""The advice as an Adaptive Card, from the same `RenderedAdvice` (flavor "teams") that the
Slack adapter turns into blocks: verdict, the rounds, next steps, and the same three buttons.
"""

from __future__ import annotations

from collections.abc import Sequence

from dealcoach.coach.advice import RenderedAdvice
from dealcoach.teams import cards
from dealcoach.teams.cards import Card, Element
from dealcoach.teams.crm_cards import save_actions

# Container styles of the verdict by recommendation (Adaptive Cards 1.2+ container styles).
_STYLE = {
    "pursue": "good",
    "strengthen": "warning",
    "renegotiate": "warning",
    "walk_away": "attention",
}
_NEXT_STEPS_TITLE = {"en": "Next steps", "nl": "Volgende stappen"}


def advice_card(
    rendered: RenderedAdvice,
    *,
    review_id: str,
    locale: str,
    recommendation: str | None = None,
    with_actions: bool = True,
    header_md: str | None = None,
    plan_action: Element | None = None,
    outcome_inputs: Sequence[Element] = (),
) -> Card:
    """`plan_action`: *Add to plan* (first of the buttons); `outcome_inputs`: the loss
    reason under *Record outcome* (both issue 15, see `plan_cards`)."""
    sections: list[tuple[str | None, str]] = []
    if header_md:
        sections.append((None, header_md))
    has_next = False
    for section in rendered.sections:
        if section.id == "verdict":
            continue
        has_next = has_next or section.id in {"next_steps", "actions"}
        sections.append((section.title or None, section.body))
    if not has_next and rendered.next_steps:
        body = "\n".join(f"{n}. {step}" for n, step in enumerate(rendered.next_steps[:3], 1))
        sections.append((_NEXT_STEPS_TITLE.get(locale, _NEXT_STEPS_TITLE["en"]), body))
    return cards.sections_card(
        sections,
        title_md=rendered.title,
        subtitle_md=rendered.verdict,
        # The same buttons as Slack, and *Save to CRM* with a CRM (issue 17).
        actions=[
            *([plan_action] if plan_action is not None else []),
            *cards.advice_actions(review_id, locale, outcome_inputs=outcome_inputs),
            *save_actions(review_id, locale),
        ]
        if with_actions else None,
        fallback=rendered.fallback,
        emphasis=_STYLE.get(recommendation or ""),
    )
