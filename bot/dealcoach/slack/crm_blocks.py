"""Block Kit of the CRM link (issue 17): the deal picker on the review's first step and the
*Save to CRM* button on the advice.

Whether the workspace has a CRM is looked up once per request by the CRM middleware
(`listeners/crm.py`) and kept in `current_provider` for the request, so the view builders
stay synchronous and need no database.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from dealcoach.crm_text import crm_name
from dealcoach.crm_text import t as ct
from dealcoach.slack import limits

JSON = dict[str, Any]

BLOCK_PICK = "crm_deal"
ACTION_PICK = "crm_deal_pick"
BLOCK_NOTICE = "crm_notice"
ACTION_SAVE = "crm_save"

# The CRM of the workspace the current request comes from (None: none connected).
current_provider: ContextVar[str | None] = ContextVar("dealcoach_crm_provider", default=None)


def _plain(text: str, limit: int = 75) -> JSON:
    return {"type": "plain_text", "text": text[:limit] or " ", "emoji": True}


def picker_blocks(
    locale: str, provider: str, selected: tuple[str, str] | None = None, notice: str | None = None
) -> list[JSON]:
    """An external_select over the CRM's open deals (options served by the options listener),
    with a one-line hint or notice under it."""
    element: JSON = {
        "type": "external_select",
        "action_id": ACTION_PICK,
        "placeholder": _plain(ct(locale, "pick.placeholder")),
        "min_query_length": 0,
    }
    if selected is not None:
        element["initial_option"] = {"text": _plain(selected[1]), "value": selected[0][:150]}
    text = notice or ct(locale, "pick.hint")
    label = ct(locale, "pick.label", crm=crm_name(provider))
    return [
        {
            "type": "section",
            "block_id": f"{BLOCK_PICK}_label",
            "text": {"type": "mrkdwn", "text": f"*{label}*"},
        },
        {"type": "actions", "block_id": BLOCK_PICK, "elements": [element]},
        {
            "type": "context",
            "block_id": BLOCK_NOTICE,
            "elements": [{"type": "mrkdwn", "text": limits.clip(text, limits.CONTEXT_TEXT)}],
        },
    ]


def decorate_step(
    view: JSON,
    *,
    locale: str,
    first_step: bool,
    selected: tuple[str, str] | None = None,
    notice: str | None = None,
) -> JSON:
    """The review's first step with the CRM deal picker under its header (when the
    workspace has a CRM); any other view unchanged."""
    provider = current_provider.get()
    if not first_step or provider is None or view.get("type") != "modal":
        return view
    blocks = list(view.get("blocks") or [])
    if any(b.get("block_id") == BLOCK_PICK for b in blocks):
        return view
    extra = picker_blocks(locale, provider, selected, notice)
    if len(blocks) + len(extra) > 100:
        return view
    at = 1 if blocks and blocks[0].get("type") == "header" else 0
    return {**view, "blocks": [*blocks[:at], *extra, *blocks[at:]]}


def save_buttons(locale: str, review_id: str) -> list[JSON]:
    """The *Save to CRM* button for the advice's actions (none without a CRM)."""
    if current_provider.get() is None:
        return []
    return [
        {
            "type": "button",
            "action_id": ACTION_SAVE,
            "value": review_id,
            "text": _plain(ct(locale, "save.button")),
        }
    ]
