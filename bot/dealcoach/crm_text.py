# ruff: noqa: E501  (wording: one sentence a line, as in the prompts YAML files)
"""Wording of the CRM link (issue 17) for Slack, Teams and the terminal.

Read from `prompts/<locale>/crm.yaml` (through `ui_text`, every locale with the same keys)
when that file exists; until then from the tables below, which hold the same keys.
"""

from __future__ import annotations

from dealcoach.resources import prompts_dir
from dealcoach.ui_text import translate

_BUILTIN: dict[str, dict[str, str]] = {
    "en": {
        "pick.label": "Deal in {crm}",
        "pick.placeholder": "Search your open deals",
        "pick.hint": "Pick a deal to fill in its name, account, amount, stage and people, or type one below.",
        "pick.none": "No open deal matches. Type the deal yourself.",
        "pick.unavailable": "{crm} is not answering right now: type the deal yourself.",
        "pick.done": "Filled in from {crm}: {deal}.",
        "pick.contacts": "Decision-makers offered from {crm}: {names}.",
        "pick.failed": "{crm} could not be read ({reason}); the review goes on without it.",
        "save.button": "Save to CRM",
        "save.created": "Saved to {crm} as a note on {deal}.",
        "save.updated": "Updated the note on {deal} in {crm}.",
        "save.busy": "A save to {crm} is already running for this review.",
        "save.failed": "Could not save to {crm} ({reason}). Nothing is lost: try again later.",
        "save.no_deal": "This review was not picked from {crm}: there is no deal to save it to.",
        "save.draft": "Finish the review first; then it can be saved to {crm}.",
        "save.not_connected": "No CRM is connected in this workspace.",
        "connect.done": "{crm} is connected. Reviews can now start from a {crm} deal.",
        "connect.usage": "Usage: crm connect hubspot TOKEN | crm connect salesforce USERNAME PASSWORD+SECURITY_TOKEN CONSUMER_KEY CONSUMER_SECRET [LOGIN_URL]",
        "connect.admins": "Only workspace admins can connect or disconnect a CRM.",
        "connect.failed": "{crm} refused the connection ({reason}). Nothing was stored.",
        "disconnect.done": "The CRM is disconnected and its credentials are deleted.",
        "disconnect.none": "No CRM was connected.",
        "status.connected": "Connected CRM: {crm}.",
        "status.none": "No CRM is connected. An admin can write: crm connect hubspot|salesforce …",
        "note.subject": "Deal review: {recommendation}",
        "note.verdict": "Recommendation: {recommendation}. Quadrant: {quadrant}.",
        "note.flags": "Flags: {flags}",
        "note.actions": "Next actions:",
        "note.link": "Review {review} in dealcoach.",
        "terminal.pick": "Pick the deal from {crm}: a number, words to search, or Enter to type it yourself.",
        "reason.unavailable": "not reachable",
        "reason.auth": "access refused: reconnect the CRM",
        "reason.rate_limited": "rate-limited",
        "reason.not_found": "deal not found",
        "reason.other": "error",
    },
    "nl": {
        "pick.label": "Deal in {crm}",
        "pick.placeholder": "Zoek in je open deals",
        "pick.hint": "Kies een deal om naam, klant, bedrag, fase en personen in te vullen, of typ hem hieronder.",
        "pick.none": "Geen open deal gevonden. Typ de deal zelf.",
        "pick.unavailable": "{crm} reageert nu niet: typ de deal zelf.",
        "pick.done": "Ingevuld uit {crm}: {deal}.",
        "pick.contacts": "Beslissers uit {crm}: {names}.",
        "pick.failed": "{crm} kon niet worden gelezen ({reason}); de review gaat zonder verder.",
        "save.button": "Opslaan in CRM",
        "save.created": "Opgeslagen in {crm} als notitie bij {deal}.",
        "save.updated": "De notitie bij {deal} in {crm} is bijgewerkt.",
        "save.busy": "Deze review wordt al opgeslagen in {crm}.",
        "save.failed": "Opslaan in {crm} is niet gelukt ({reason}). Er gaat niets verloren: probeer het later opnieuw.",
        "save.no_deal": "Deze review komt niet uit {crm}: er is geen deal om hem bij op te slaan.",
        "save.draft": "Rond eerst de review af; daarna kun je hem opslaan in {crm}.",
        "save.not_connected": "Er is geen CRM gekoppeld in deze werkruimte.",
        "connect.done": "{crm} is gekoppeld. Reviews kunnen nu starten vanuit een deal in {crm}.",
        "connect.usage": "Gebruik: crm connect hubspot TOKEN | crm connect salesforce GEBRUIKERSNAAM WACHTWOORD+BEVEILIGINGSTOKEN CONSUMER_KEY CONSUMER_SECRET [LOGIN_URL]",
        "connect.admins": "Alleen beheerders van de werkruimte kunnen een CRM koppelen of ontkoppelen.",
        "connect.failed": "{crm} weigerde de koppeling ({reason}). Er is niets opgeslagen.",
        "disconnect.done": "Het CRM is ontkoppeld en de inloggegevens zijn verwijderd.",
        "disconnect.none": "Er was geen CRM gekoppeld.",
        "status.connected": "Gekoppeld CRM: {crm}.",
        "status.none": "Er is geen CRM gekoppeld. Een beheerder kan schrijven: crm connect hubspot|salesforce …",
        "note.subject": "Dealreview: {recommendation}",
        "note.verdict": "Advies: {recommendation}. Kwadrant: {quadrant}.",
        "note.flags": "Signalen: {flags}",
        "note.actions": "Volgende acties:",
        "note.link": "Review {review} in dealcoach.",
        "terminal.pick": "Kies de deal uit {crm}: een nummer, woorden om te zoeken, of Enter om hem zelf te typen.",
        "reason.unavailable": "niet bereikbaar",
        "reason.auth": "toegang geweigerd: koppel het CRM opnieuw",
        "reason.rate_limited": "te veel verzoeken",
        "reason.not_found": "deal niet gevonden",
        "reason.other": "fout",
    },
}

CRM_NAMES = {"hubspot": "HubSpot", "salesforce": "Salesforce"}


def crm_name(provider: str | None) -> str:
    return CRM_NAMES.get(provider or "", "CRM")


def t(locale: str | None, key: str, **values: object) -> str:
    if (prompts_dir() / "en" / "crm.yaml").exists():
        return translate("crm", locale, key, **values)
    table = _BUILTIN.get(locale or "en") or _BUILTIN["en"]
    template = table.get(key) or _BUILTIN["en"][key]
    return template.format(**values) if values else template
