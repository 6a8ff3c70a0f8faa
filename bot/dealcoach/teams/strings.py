# ruff: noqa: E501  (one message a line reads better than wrapped strings)
"""The Teams adapter's own interface wording (buttons, titles, short replies), en + nl.

Coaching content (questions, advice) comes from `prompts/` through `coach`; these are only
the words around it. `t(locale, key, **values)` formats with `str.format`; values that come
from users must be escaped (`coach.markup.escape_teams`) before they go into a TextBlock.
"""

from __future__ import annotations

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "card.title": "Deal review",
        "card.step": "Step {n} · {round}",
        "card.next": "Next",
        "card.finish": "Get advice",
        "card.add_person": "Add a decision-maker",
        "card.person": "Decision-maker {n}",
        "card.saved": "Your answers are saved after every step: write **dealcoach** to pick up where you left off.",
        "card.fix": "Please check the fields marked below.",
        "card.stale": "That card was out of date; here is where your review stands now.",
        "round.fit": "Business fit",
        "round.agenda": "Decision-makers",
        "round.benefit": "Mutual benefit",
        "round.signals": "Signals",
        "resume.text": "You have an unfinished review of **{deal}**. Pick up where you left off below.",
        "resume.unnamed": "an unnamed deal",
        "advice.update": "Update review",
        "advice.outcome": "Record outcome",
        "advice.outcome_pick": "Outcome",
        "advice.outcome_save": "Save outcome",
        "advice.share": "Share with my manager",
        "advice.review_id": "Review {review}",
        "outcome.won": "Won",
        "outcome.lost": "Lost",
        "outcome.walked_away": "Walked away",
        "outcome.recorded": "Outcome recorded for review {review}: {outcome}.",
        "share.sent": "Shared with your manager.",
        "share.none": "No manager is set for you yet. Ask an admin to add you to a team (`team add`).",
        "share.unreachable": "Your manager has not opened dealcoach in Teams yet, so I cannot reach them here.",
        "share.header": "{user} shared a deal review",
        "history.none": "You have no reviews yet. Write **dealcoach** to start one.",
        "history.header": "Your last reviews",
        "history.draft": "draft",
        "lang.set": "Language set to English.",
        "lang.usage": "Usage: **lang en** or **lang nl**.",
        "digest.title": "Weekly digest",
        "digest.usage": "Usage: **digest**, **digest last**, **digest this** or **digest 2026-W47**.",
        "nudge.start": "Start review",
        "team.forbidden": "Only dealcoach admins (the ids in DEALCOACH_ADMINS) can change teams.",
        "team.usage": "Usage: **team add** @manager @member…, **team remove** @member…, **team list**. Instead of a mention: an id, or `slack:U123` / `teams:<id>` for someone on another platform.",
        "team.unknown_mention": "I could not tell who {name} is; use their id instead.",
        "error.apology": "Sorry, something went wrong on our side. Your answers so far are saved; write **dealcoach** to continue.",
        "error.not_yours": "That review belongs to someone else.",
        "error.bad_card": "That card could not be read. Write **dealcoach** to continue your review.",
        "unknown": "I did not understand that. Write **help** to see what I can do.",
        "welcome": "Hi! I am dealcoach, a coach for your deals. Write **dealcoach** to review a deal, or **help** for everything I can do.",
        "help.title": "dealcoach — a coach for your deals",
        "help.body": (
            "- **dealcoach** or **review** *deal name* — review a deal step by step and get advice\n"
            "- **history** — your last reviews\n"
            "- **digest** [last|this|2026-W47] — your team's weekly digest (managers; others: your own reviews)\n"
            "- **pause** / **resume** — turn weekly review reminders off or on\n"
            "- **team** — who reports to whom (**team add** / **team remove**: admins)\n"
            "- **lang en** / **lang nl** — the language I use with you\n"
            "- **help** — this message"
        ),
    },
    "nl": {
        "card.title": "Dealreview",
        "card.step": "Stap {n} · {round}",
        "card.next": "Volgende",
        "card.finish": "Advies ophalen",
        "card.add_person": "Beslisser toevoegen",
        "card.person": "Beslisser {n}",
        "card.saved": "Je antwoorden worden na elke stap bewaard: schrijf **dealcoach** om verder te gaan waar je was.",
        "card.fix": "Controleer de gemarkeerde velden hieronder.",
        "card.stale": "Die kaart was verouderd; hier staat je review nu.",
        "round.fit": "Zakelijke fit",
        "round.agenda": "Beslissers",
        "round.benefit": "Wederzijds voordeel",
        "round.signals": "Signalen",
        "resume.text": "Je hebt een onafgemaakte review van **{deal}**. Ga hieronder verder waar je was.",
        "resume.unnamed": "een naamloze deal",
        "advice.update": "Review bijwerken",
        "advice.outcome": "Uitkomst vastleggen",
        "advice.outcome_pick": "Uitkomst",
        "advice.outcome_save": "Uitkomst bewaren",
        "advice.share": "Delen met mijn manager",
        "advice.review_id": "Review {review}",
        "outcome.won": "Gewonnen",
        "outcome.lost": "Verloren",
        "outcome.walked_away": "Afgehaakt",
        "outcome.recorded": "Uitkomst vastgelegd voor review {review}: {outcome}.",
        "share.sent": "Gedeeld met je manager.",
        "share.none": "Je hebt nog geen manager in dealcoach. Vraag een beheerder je aan een team toe te voegen (`team add`).",
        "share.unreachable": "Je manager heeft dealcoach in Teams nog niet geopend, dus ik kan hem of haar hier niet bereiken.",
        "share.header": "{user} deelde een dealreview",
        "history.none": "Je hebt nog geen reviews. Schrijf **dealcoach** om er een te starten.",
        "history.header": "Je laatste reviews",
        "history.draft": "concept",
        "lang.set": "Taal ingesteld op Nederlands.",
        "lang.usage": "Gebruik: **lang en** of **lang nl**.",
        "digest.title": "Weekoverzicht",
        "digest.usage": "Gebruik: **digest**, **digest last**, **digest this** of **digest 2026-W47**.",
        "nudge.start": "Review starten",
        "team.forbidden": "Alleen dealcoach-beheerders (de ids in DEALCOACH_ADMINS) kunnen teams wijzigen.",
        "team.usage": "Gebruik: **team add** @manager @lid…, **team remove** @lid…, **team list**. In plaats van een vermelding: een id, of `slack:U123` / `teams:<id>` voor iemand op een ander platform.",
        "team.unknown_mention": "Ik kon niet zien wie {name} is; gebruik hun id.",
        "error.apology": "Sorry, er ging bij ons iets mis. Je antwoorden tot nu toe zijn bewaard; schrijf **dealcoach** om verder te gaan.",
        "error.not_yours": "Die review is van iemand anders.",
        "error.bad_card": "Die kaart kon ik niet lezen. Schrijf **dealcoach** om verder te gaan met je review.",
        "unknown": "Dat begreep ik niet. Schrijf **help** om te zien wat ik kan.",
        "welcome": "Hoi! Ik ben dealcoach, een coach voor je deals. Schrijf **dealcoach** om een deal te reviewen, of **help** voor alles wat ik kan.",
        "help.title": "dealcoach — een coach voor je deals",
        "help.body": (
            "- **dealcoach** of **review** *dealnaam* — review een deal stap voor stap en krijg advies\n"
            "- **history** — je laatste reviews\n"
            "- **digest** [last|this|2026-W47] — het weekoverzicht van je team (managers; anderen: je eigen reviews)\n"
            "- **pause** / **resume** — wekelijkse reviewherinneringen uit of aan\n"
            "- **team** — wie aan wie rapporteert (**team add** / **team remove**: beheerders)\n"
            "- **lang en** / **lang nl** — de taal die ik met je spreek\n"
            "- **help** — dit bericht"
        ),
    },
}


def t(locale: str | None, key: str, **values: object) -> str:
    table = STRINGS.get(locale or "en", STRINGS["en"])
    text = table.get(key) or STRINGS["en"][key]
    return text.format(**values) if values else text
