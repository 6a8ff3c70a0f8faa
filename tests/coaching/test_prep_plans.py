"""1:1 prep lists the rep's overdue close-plan steps (issue 16 with issue 15's plans)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dealcoach.digest.coaching import render_prep
from dealcoach.services.coaching import CoachingService
from dealcoach.services.plans import PlanService
from dealcoach.store import Store

from .seed import MANAGER, REP, actor, seed_team

# A Wednesday noon (UTC): steps due before this are overdue on the rep's calendar too.
NOW = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


def test_prep_lists_overdue_plan_steps_escaped_in_every_flavour(store: Store) -> None:
    seed_team(store.url)
    plans = PlanService(store)
    rep = actor(REP)
    deal_id = plans.find_deal(rep, "Acme renewal")
    assert deal_id is not None
    past = NOW - timedelta(days=9)
    plans.add_step(rep, deal_id, "Send the <!channel> security answers", due_on=past.date(),
                   now=past - timedelta(days=1))
    plans.add_step(rep, deal_id, "Sign the order form", owner_kind="customer",
                   owner_name="Dana", due_on=(NOW + timedelta(days=5)).date(), now=past)
    done = plans.add_step(rep, deal_id, "Book the kick-off", due_on=past.date(), now=past)
    plans.mark_done(rep, done.step.step_id, now=past)

    prep = CoachingService(store).prep(actor(MANAGER), REP, now=NOW)
    assert len(prep.overdue_steps) == 1  # not the future step, not the done one
    assert prep.overdue_steps[0].startswith("Acme renewal: Send the <!channel> security answers")

    slack = render_prep(prep, "slack").text
    assert "&lt;!channel&gt;" in slack and "<!channel>" not in slack
    assert "Overdue plan steps" in render_prep(prep, "text").text
    assert "No plan step is overdue" not in render_prep(prep, "text").text

    dutch = render_prep(CoachingService(store).prep(actor(MANAGER, locale="nl"), REP, now=NOW),
                        "text").text
    assert "Achterstallige planstappen" in dutch and "security answers" in dutch


def test_prep_without_overdue_steps_says_so(store: Store) -> None:
    seed_team(store.url)
    text = render_prep(CoachingService(store).prep(actor(MANAGER), REP, now=NOW), "text").text
    assert "No plan step is overdue." in text
