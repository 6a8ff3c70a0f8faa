"""The Teams adapter's own interface wording (buttons, titles, short replies), en + nl.

The words live in `prompts/<locale>/teams.yaml` (see `dealcoach.ui_text`); coaching content
(questions, advice) comes from `prompts/` through `coach`. `t(locale, key, **values)`
formats with `str.format`; values that come from users must be escaped
(`coach.markup.escape_teams`) before they go into a TextBlock.
"""

from __future__ import annotations

from dealcoach.ui_text import translate


def t(locale: str | None, key: str, **values: object) -> str:
    return translate("teams", locale, key, **values)
