"""The Slack adapter's own interface wording (buttons, titles, short replies), en + nl.

The words live in `prompts/<locale>/slack.yaml` (see `dealcoach.ui_text`); coaching content
(questions, advice) comes from `prompts/` through `coach`. `t(locale, key, **values)`
formats with `str.format`; values that come from users must be escaped by the caller
before they go into mrkdwn.
"""

from __future__ import annotations

from dealcoach.ui_text import translate


def t(locale: str | None, key: str, **values: object) -> str:
    return translate("slack", locale, key, **values)
