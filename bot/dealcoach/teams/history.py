"""`history`: the person's last reviews as a card, each with *Update review* and, when a
manager coached it, *Open review* with the coaching thread (issue 16)."""

from __future__ import annotations

from dealcoach.coach.bank import load_bank
from dealcoach.coach.markup import escape_teams
from dealcoach.services.actors import Actor
from dealcoach.teams import cards, coaching
from dealcoach.teams.cards import Card, Element
from dealcoach.teams.context import TeamsDeps
from dealcoach.teams.strings import t

HISTORY_LENGTH = 10


async def history_card(deps: TeamsDeps, actor: Actor, locale: str) -> Card:
    rows: list[tuple[str, str, str]] = []
    actions: list[list[Element]] = []
    labels = {str(k): v for k, v in load_bank(locale).labels.recommendations.items()}
    items = await deps.reviews.history(actor, HISTORY_LENGTH)
    notes, openable = await deps.coaching.history_notes([i.review_id for i in items])
    for item in items:
        name = escape_teams(item.deal_name) if item.deal_name else t(locale, "resume.unnamed")
        when = (item.completed_at or item.updated_at).strftime("%Y-%m-%d")
        if item.status == "completed" and item.recommendation:
            status = labels.get(item.recommendation, item.recommendation)
        else:
            status = t(locale, "history.draft")
        if item.outcome and item.outcome != "open":
            status += f" · {t(locale, f'outcome.{item.outcome}')}"
        if item.review_id in notes:  # coaching notes on it (issue 16)
            count, still_open = notes[item.review_id]
            status += " · " + coaching.ct(locale, "history_notes", notes=count, open=still_open)
        rows.append((name, when, status))
        data = {"review_id": str(item.review_id), "nonce": ""}
        row = ([cards.execute(t(locale, "advice.update"), cards.VERB_UPDATE, data)]
               if item.status == "completed" else [])
        if item.review_id in openable:  # the review with its coaching thread (issue 16)
            row.append(cards.execute(coaching.ct(locale, "open_review"), coaching.VERB_OPEN,
                                     {"review_id": str(item.review_id)}))
        actions.append(row)
    return cards.history_card(rows, locale, actions)
