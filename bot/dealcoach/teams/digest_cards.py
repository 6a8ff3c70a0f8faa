"""Manager features as Adaptive Cards: the weekly digest and the review reminder.

Built from the digest module's Teams rendering (`RenderedDigest.teams`, `RenderedNudge
.teams_text`: Teams markdown, user text already escaped by the templates' escaper), in the
same card version as every other card of the adapter. Pure: no SDK, no I/O.
"""

from __future__ import annotations

import re
from typing import Any

from dealcoach.digest.chart import (
    chart_alt_text,
    chart_helps,
    data_uri,
    digest_image_png,
    mix_alt_text,
)
from dealcoach.digest.compose import DigestModel
from dealcoach.digest.nudges import NudgeModel, RenderedNudge
from dealcoach.digest.render import RenderedDigest
from dealcoach.teams import cards
from dealcoach.teams.coaching import open_review_actions
from dealcoach.teams.strings import t

_SLASH = re.compile(r"`/dealcoach ([^`]*)`")


def teams_wording(value: str) -> str:
    """The shared digest wording names Slack's `/dealcoach digest`; in Teams one writes
    `digest` to the bot."""
    return _SLASH.sub(lambda m: f"**{m.group(1)}**", value)


def chart_image(digest: DigestModel) -> dict[str, Any] | None:
    """The digest's charts (8-week trend and recommendation mix) as one card image with its
    alt text, when the window has at least two weeks with reviews (issue 16)."""
    if not chart_helps(digest.history):
        return None
    mix = digest.recommendation_history
    png = digest_image_png(digest.history, mix, digest.locale)
    alt = (
        chart_alt_text(digest.history, digest.locale)
        + " "
        + mix_alt_text(digest.history, mix, digest.locale)
    )
    return {
        "type": "Image",
        "url": data_uri(png),
        "altText": alt[:1000],
        "size": "Stretch",
        "separator": True,
    }


def digest_card(
    rendered: RenderedDigest,
    *,
    locale: str,
    note_md: str | None = None,
    digest: DigestModel | None = None,
) -> dict[str, Any]:
    """The digest: title, then one heading + markdown block per section, the charts (when
    `digest` is given and they help), *Open review* buttons, the footer."""
    teams = rendered.teams
    sections: list[tuple[str | None, str]] = []
    if note_md:
        sections.append((None, note_md))
    sections.extend((section.title or None, section.body) for section in teams.sections)
    card = cards.sections_card(
        sections,
        title_md=teams.title,
        fallback=rendered.title or t(locale, "digest.title"),
        actions=open_review_actions(rendered.extra) or None,  # *Open review* (issue 16)
    )
    image = chart_image(digest) if digest is not None else None
    if image is not None:
        card["body"].append(image)
    card["body"].append(
        cards.text(teams_wording(teams.footer), isSubtle=True, size="Small", separator=True)
    )
    return card


def nudge_card(nudge: NudgeModel, rendered: RenderedNudge) -> dict[str, Any]:
    """The reminder, with a button that starts a review of the stalest deal."""
    locale = nudge.recipient.locale
    actions: list[dict[str, Any]] = []
    if nudge.deals:
        actions.append(
            cards.execute(
                rendered.button or t(locale, "nudge.start"),
                cards.VERB_NUDGE,
                {"deal_name": nudge.deals[0].deal_name[:200]},
                style="positive",
            )
        )
    body = [
        cards.heading(rendered.title),
        cards.text(rendered.teams_text),
        cards.text(teams_wording(rendered.footer), isSubtle=True, size="Small"),
    ]
    return cards.card(body, actions or None, fallback=rendered.text)
