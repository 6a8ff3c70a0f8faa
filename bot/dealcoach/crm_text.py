"""Wording of the CRM link (issue 17) for Slack, Teams and the terminal:
`prompts/<locale>/crm.yaml`, read through `ui_text` (every locale with the same keys)."""

from __future__ import annotations

from dealcoach.ui_text import translate

CRM_NAMES = {"hubspot": "HubSpot", "salesforce": "Salesforce"}


def crm_name(provider: str | None) -> str:
    return CRM_NAMES.get(provider or "", "CRM")


def t(locale: str | None, key: str, **values: object) -> str:
    return translate("crm", locale, key, **values)
