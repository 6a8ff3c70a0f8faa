# ruff: noqa: E501  (a table of interface wording: one sentence a line reads best)
"""The Slack adapter's own interface wording (buttons, titles, short replies), en + nl.

Coaching content (questions, advice) comes from `prompts/` through `coach`; these are only
the words around it. `t(locale, key, **values)` formats with `str.format`; values that come
from users must be escaped by the caller before they go into mrkdwn.
"""

from __future__ import annotations

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "modal.title": "Deal review",
        "modal.loading": "Getting your review ready…",
        "modal.next": "Next",
        "modal.finish": "Get advice",
        "modal.cancel": "Close",
        "modal.step": "Step {n} · {round}",
        "modal.saved": "Your answers are saved after every step; close this and type `/dealcoach` to pick up where you left off.",
        "modal.add_person": "Add a decision-maker",
        "modal.person": "Decision-maker {n}",
        "modal.truncated": "(shortened to fit Slack)",
        "round.fit": "Business fit",
        "round.agenda": "Decision-makers",
        "round.benefit": "Mutual benefit",
        "round.signals": "Signals",
        "resume.title": "Open review",
        "resume.text": "You have an unfinished review of *{deal}* (started {when}). Pick up where you left off, or start a new one?",
        "resume.unnamed": "an unnamed deal",
        "resume.resume": "Resume",
        "resume.new": "Start new",
        "advice.update": "Update review",
        "advice.outcome": "Record outcome",
        "advice.share": "Share with my manager",
        "advice.review_id": "Review {review}",
        "outcome.won": "Won",
        "outcome.lost": "Lost",
        "outcome.walked_away": "Walked away",
        "outcome.recorded": "Outcome recorded for review {review}: {outcome}.",
        "share.sent": "Shared with <@{manager}>.",
        "share.none": "No manager is set for you yet. Ask an admin to run `dealcoach team add --manager <id> --member <your id>`.",
        "share.header": "<@{user}> shared a deal review",
        "history.none": "You have no reviews yet. Type `/dealcoach` to start one.",
        "history.header": "Your last reviews",
        "history.draft": "draft",
        "lang.set": "Language set to English.",
        "lang.usage": "Usage: `/dealcoach lang en` or `/dealcoach lang nl`.",
        "error.apology": "Sorry, something went wrong on our side (review {review}). Your answers so far are saved; type `/dealcoach` to continue.",
        "error.not_yours": "That review belongs to someone else.",
        "error.required": "Please fill this in: it is required.",
        "help": (
            "*dealcoach* — a coach for your deals.\n"
            "• `/dealcoach` or `/dealcoach <deal name>` — review a deal step by step and get advice\n"
            "• `/dealcoach history` — your last reviews\n"
            "• `/dealcoach lang en|nl` — the language I use with you\n"
            "• `/dealcoach help` — this message"
        ),
        "home.intro": "Type `/dealcoach` (or `/dealcoach Acme renewal`) to review a deal. Your last reviews:",
    },
    "nl": {
        "modal.title": "Dealreview",
        "modal.loading": "Je review wordt klaargezet…",
        "modal.next": "Volgende",
        "modal.finish": "Advies geven",
        "modal.cancel": "Sluiten",
        "modal.step": "Stap {n} · {round}",
        "modal.saved": "Je antwoorden worden na elke stap bewaard; sluit dit venster en typ `/dealcoach` om verder te gaan waar je was.",
        "modal.add_person": "Beslisser toevoegen",
        "modal.person": "Beslisser {n}",
        "modal.truncated": "(ingekort voor Slack)",
        "round.fit": "Zakelijke fit",
        "round.agenda": "Beslissers",
        "round.benefit": "Wederzijds voordeel",
        "round.signals": "Signalen",
        "resume.title": "Open review",
        "resume.text": "Je hebt een onafgemaakte review van *{deal}* (begonnen {when}). Verder gaan waar je was, of een nieuwe beginnen?",
        "resume.unnamed": "een naamloze deal",
        "resume.resume": "Verder gaan",
        "resume.new": "Nieuwe beginnen",
        "advice.update": "Review bijwerken",
        "advice.outcome": "Uitkomst vastleggen",
        "advice.share": "Delen met mijn manager",
        "advice.review_id": "Review {review}",
        "outcome.won": "Gewonnen",
        "outcome.lost": "Verloren",
        "outcome.walked_away": "Afgehaakt",
        "outcome.recorded": "Uitkomst vastgelegd voor review {review}: {outcome}.",
        "share.sent": "Gedeeld met <@{manager}>.",
        "share.none": "Er is nog geen manager voor je ingesteld. Vraag een beheerder om `dealcoach team add --manager <id> --member <jouw id>`.",
        "share.header": "<@{user}> deelt een dealreview",
        "history.none": "Je hebt nog geen reviews. Typ `/dealcoach` om te beginnen.",
        "history.header": "Je laatste reviews",
        "history.draft": "concept",
        "lang.set": "Taal ingesteld op Nederlands.",
        "lang.usage": "Gebruik: `/dealcoach lang en` of `/dealcoach lang nl`.",
        "error.apology": "Sorry, er ging bij ons iets mis (review {review}). Je antwoorden tot nu toe zijn bewaard; typ `/dealcoach` om verder te gaan.",
        "error.not_yours": "Die review is van iemand anders.",
        "error.required": "Vul dit in: het is verplicht.",
        "help": (
            "*dealcoach* — een coach voor je deals.\n"
            "• `/dealcoach` of `/dealcoach <dealnaam>` — review een deal stap voor stap en krijg advies\n"
            "• `/dealcoach history` — je laatste reviews\n"
            "• `/dealcoach lang en|nl` — de taal waarin ik met je praat\n"
            "• `/dealcoach help` — dit bericht"
        ),
        "home.intro": "Typ `/dealcoach` (of `/dealcoach Acme verlenging`) om een deal te reviewen. Je laatste reviews:",
    },
}


def t(locale: str | None, key: str, **values: object) -> str:
    table = STRINGS.get(locale or "en") or STRINGS["en"]
    template = table.get(key) or STRINGS["en"][key]
    return template.format(**values) if values else template
