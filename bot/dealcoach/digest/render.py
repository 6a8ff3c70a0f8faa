"""Digest rendering: `DigestModel` → platform-neutral sections, in three text flavors.

The wording lives in `prompts/<locale>/digest/` (Jinja2 templates, one per section, plus
`strings.yaml` with the coaching themes and interface lines), rendered in the coach's
environments (`coach.markup.make_env`): every `{{ value }}` is escaped for the flavor (plain
text, Slack mrkdwn, Teams markdown), so a deal called `<!channel>` pings nobody. What a
message looks like on a platform — Block Kit and Slack's limits (`slack/digest_blocks.py`),
Adaptive Cards (`teams/digest_cards.py`) — is the adapter's: this module never imports
one. The 8-week trend is a text sparkline here; the adapters also show it as a chart
(digest/chart.py).

Issue 15: the `themes` section also counts the week's lost and walked-away deals per reason,
each of the riskiest deals gets its committee coverage line, and once a month the `insights`
section says what predicts a win (the sentences of `coach.insights`, wording in
`prompts/<locale>/plan.yaml`; the section's own lines in `prompts/<locale>/digest/insights.j2`).
The adapters lay it out like any other section.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
import yaml
from markupsafe import Markup

from dealcoach.coach.bank import LOCALES, load_bank
from dealcoach.coach.coverage import ROLES, Coverage, coverage_line
from dealcoach.coach.insights import FeatureInsight, Rate, insight_line
from dealcoach.coach.markup import ESCAPERS, Flavor, make_env, tidy
from dealcoach.coach.plan_text import text as plan_text
from dealcoach.digest.compose import DealCoverage, DigestModel, WinInsight
from dealcoach.digest.weeks import IsoWeek
from dealcoach.errors import ContentError
from dealcoach.resources import prompts_dir
from dealcoach.ui_text import translate

SECTIONS = (
    "summary",
    "risky",
    "walk_away",
    "worsened",
    "themes",
    "insights",
    "coaching",
    "reps",
    "mix",
    "trend",
)
SPARKS = "▁▂▃▄▅▆▇█"
_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,20}$")
_MONTHS = {
    "en": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
    "nl": ["jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec"],
}


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    body: str


@dataclass(frozen=True)
class RenderedSections:
    flavor: str
    title: str
    sections: tuple[Section, ...]
    footer: str


@dataclass(frozen=True)
class OpenReview:
    """A deal the digest names, with the review its *Open review* button opens."""

    review_id: int
    deal_name: str
    rep_name: str
    label: str  # the button's text in the manager's language (plain text)


@dataclass(frozen=True)
class RenderedDigest:
    """What a notifier gets: the plain text, and the sections per chat flavor (`slack`:
    mrkdwn, `teams`: markdown) for the adapter to lay out; `extra["open_reviews"]`: the
    reviews a team digest offers to open."""

    title: str
    text: str
    slack: RenderedSections
    teams: RenderedSections
    locale: str
    extra: dict[str, list[OpenReview]] = field(default_factory=dict)


# --- wording ----------------------------------------------------------------------------------


def digest_dir(locale: str) -> Path:
    return prompts_dir() / locale / "digest"


@lru_cache(maxsize=8)
def strings(locale: str) -> dict[str, Any]:
    path = digest_dir(locale) / "strings.yaml"
    try:
        data = yaml.safe_load(path.read_text("utf-8"))
    except FileNotFoundError:
        raise ContentError(str(path), "file is missing") from None
    except yaml.YAMLError as exc:
        raise ContentError(str(path), f"not valid YAML: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("text"), dict):
        raise ContentError(str(path), "expected `themes`, `text` and `quadrants_short` maps")
    return data


def text(locale: str, key: str, **values: object) -> str:
    """One interface line from `strings.yaml` (`text.<key>`), English as the fallback
    (for a key, and for a language we have no wording in)."""
    table = strings(locale if locale in LOCALES else "en")["text"]
    template = table.get(key) or strings("en")["text"][key]
    return str(template).format(**values) if values else str(template)


def theme(locale: str, flag: str) -> str:
    data = strings(locale)
    found = (data.get("themes") or {}).get(flag)
    return str(found) if found else str(data["theme_fallback"]).format(flag=flag)


def sparkline(values: Sequence[float | None]) -> str:
    """`▁▃█` for numbers, `·` for weeks without data."""
    known = [v for v in values if v is not None]
    if not known:
        return "·" * len(values)
    low, high = min(known), max(known)
    span = (high - low) or 1.0
    out = []
    for v in values:
        if v is None:
            out.append("·")
        elif high == low:
            out.append(SPARKS[3] if high else SPARKS[0])
        else:
            out.append(SPARKS[round((v - low) / span * (len(SPARKS) - 1))])
    return "".join(out)


def percent(value: float | None) -> str:
    return "–" if value is None else f"{round(value * 100)}%"


def money(value: float | None, locale: str) -> str:
    if value is None:
        return "–"
    if value >= 1_000_000:
        shown = f"{value / 1_000_000:.1f}".rstrip("0").rstrip(".") + "M"
    elif value >= 1_000:
        shown = f"{value / 1_000:.0f}k"
    else:
        shown = f"{value:.0f}"
    return shown.replace(".", ",") if locale == "nl" else shown


def delta(now: int, before: int) -> str:
    diff = now - before
    return f"+{diff}" if diff > 0 else (f"−{-diff}" if diff < 0 else "±0")


def day_text(day: date, locale: str) -> str:
    """`1 Dec 2025` / `1 dec 2025`."""
    months = _MONTHS.get(locale, _MONTHS["en"])
    return f"{day.day} {months[day.month - 1]} {day.year}"


def week_range(week: IsoWeek, locale: str) -> str:
    months = _MONTHS.get(locale, _MONTHS["en"])
    first, last = week.monday, week.monday + timedelta(days=6)
    if first.month == last.month:
        return f"{first.day}–{last.day} {months[last.month - 1]} {last.year}"
    return (
        f"{first.day} {months[first.month - 1]} – {last.day} {months[last.month - 1]} {last.year}"
    )


# --- templates ----------------------------------------------------------------------------------


@lru_cache(maxsize=16)
def _env(flavor: Flavor, locale: str) -> jinja2.Environment:
    env = make_env(flavor, digest_dir(locale))
    bank = load_bank(locale)
    escaper = ESCAPERS[flavor]
    short = strings(locale).get("quadrants_short") or {}

    def mention(user_id: object, name: object = None) -> Markup:
        uid = str(user_id or "")
        if flavor == "slack" and _SLACK_USER.match(uid):
            return Markup(f"<@{uid}>")
        return Markup(escaper(str(name or uid)))

    def option(question: str, value: str | None) -> str:
        if not value:
            return "–"
        try:
            return bank.option_label(question, value)
        except (KeyError, ValueError):
            return value

    def committee(cov: DealCoverage) -> str:
        """The coverage line (plain: the environment escapes it for the flavor)."""
        return coverage_line(
            Coverage(
                roles_covered=frozenset(ROLES) - set(cov.missing),
                missing=cov.missing,
                against=cov.against,
                confirmed=cov.confirmed,
                named=cov.named,
            ),
            locale,
            "text",
        )

    def win_line(line: WinInsight) -> Markup:
        """One "what predicts a win" sentence; flag labels escaped for the flavor by it."""
        item = FeatureInsight(
            line.kind,
            line.feature,
            Rate(line.won, line.deals),
            Rate(line.won_without, line.deals_without),
        )
        return Markup(insight_line(item, locale, bank.labels.flags, flavor))

    def reason(key: str | None) -> str:
        return plan_text(locale, f"reason.{key}" if key else "reason.none")

    env.filters["mention"] = mention
    env.filters["flag_label"] = lambda f: bank.labels.flags.get(str(f), str(f))
    env.globals.update(
        recommendation=lambda k: bank.labels.recommendations.get(k, k or "–"),
        quadrant=lambda k: bank.labels.quadrants.get(k, k or "–"),
        quadrant_short=lambda k: short.get(k, k),
        stage=lambda k: option("deal.stage", k),
        theme=lambda f: theme(locale, f),
        pct=percent,
        money=lambda v: money(v, locale),
        delta=delta,
        spark=sparkline,
        committee=committee,
        win_line=win_line,
        reason=reason,
        day=lambda d: day_text(d, locale),
    )
    return env


def _context(model: DigestModel) -> dict[str, Any]:
    week = IsoWeek.parse(model.week)
    context: dict[str, Any] = {name: getattr(model, name) for name in type(model).model_fields}
    context.update(
        week_number=week.week,
        week_range=week_range(week, model.locale),
        shares=[p.win_win_share for p in model.history],
    )
    return context


def render_sections(model: DigestModel, flavor: Flavor) -> RenderedSections:
    env = _env(flavor, model.locale)
    context = _context(model)
    out: list[Section] = []
    for name in ("header", *SECTIONS):
        try:
            module = env.get_template(f"{name}.j2").make_module(context)
        except jinja2.TemplateNotFound:
            raise ContentError(str(digest_dir(model.locale) / f"{name}.j2"), "missing") from None
        except jinja2.TemplateError as exc:
            path = str(digest_dir(model.locale) / f"{name}.j2")
            raise ContentError(path, f"template error: {exc}") from None
        out.append(Section(name, str(getattr(module, "title", "")).strip(), tidy(str(module))))
    footer = text(model.locale, "footer" if model.kind == "team" else "footer_self")
    return RenderedSections(
        flavor=flavor,
        title=out[0].body,
        sections=tuple(s for s in out[1:] if s.body),
        footer=footer,
    )


def plain_text(rendered: RenderedSections) -> str:
    parts = [rendered.title, "=" * min(len(rendered.title), 72)]
    for section in rendered.sections:
        parts.append("")
        if section.title:
            parts.extend([section.title, "-" * min(len(section.title), 72)])
        parts.append(section.body)
    parts.extend(["", rendered.footer.replace("`", "")])
    return "\n".join(parts) + "\n"


# *Open review* on a team digest (issue 16): a button per listed deal, the rep's manager only.
OPEN_REVIEWS_SHOWN = 5


def open_reviews(model: DigestModel) -> list[OpenReview]:
    """The reviews a team digest offers to open: riskiest, walk-aways, worsened, and those
    with a coaching note still open after a week (each once)."""
    if model.kind != "team":
        return []
    seen: set[int] = set()
    out: list[OpenReview] = []
    listed = [
        (d.review_id, d.deal_name, d.rep_name)
        for d in (*model.riskiest, *model.walk_away, *model.worsened)
    ]
    listed += [(f.review_id, f.deal_name, f.rep_name) for f in model.followups]
    for review_id, deal_name, rep_name in listed:
        if review_id in seen:
            continue
        seen.add(review_id)
        label = translate("coaching", model.locale, "open_review_deal", deal=deal_name)
        out.append(OpenReview(review_id, deal_name, rep_name, label))
    return out[:OPEN_REVIEWS_SHOWN]


def render_digest(model: DigestModel) -> RenderedDigest:
    """Every rendering a notifier may need, from the manager's locale's templates."""
    plain = render_sections(model, "text")
    return RenderedDigest(
        title=plain.title,
        text=plain_text(plain),
        slack=render_sections(model, "slack"),
        teams=render_sections(model, "teams"),
        locale=model.locale,
        extra={"open_reviews": open_reviews(model)},
    )
