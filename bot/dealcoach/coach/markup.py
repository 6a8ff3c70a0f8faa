"""Escapers and the Jinja2 environment the advice templates render in.

One set of templates renders three flavors: `text` (terminal, nothing escaped), `slack`
(mrkdwn: `&`, `<`, `>` escaped so `<!channel>` pings nobody) and `teams` (markdown and
HTML-ish characters escaped). The escaper is the environment's `finalize`, so every
`{{ value }}` is escaped while the template's own text is not; `strong` marks a value bold
in the flavor's syntax and is not escaped twice. The environment is sandboxed and uses
`StrictUndefined`; user text is only ever a value, never template source.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import jinja2
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

Flavor = Literal["text", "slack", "teams"]
FLAVORS: tuple[Flavor, ...] = ("text", "slack", "teams")


def escape_text(value: str) -> str:
    return value


def escape_slack(value: str) -> str:
    """Slack mrkdwn: the three characters Slack asks apps to escape."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_TEAMS_INLINE = re.compile(r"([\\`*_~\[\]()#|])")
_TEAMS_LINE_START = re.compile(r"(?m)^(\s*)([-+>]|\d+\.)")


def escape_teams(value: str) -> str:
    """Teams markdown (Adaptive Card TextBlock / message): inline marks, list and quote
    starts at the beginning of a line, and `& < >` so nothing reads as HTML."""
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    value = _TEAMS_INLINE.sub(r"\\\1", value)
    return _TEAMS_LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), value)


ESCAPERS: dict[Flavor, Callable[[str], str]] = {
    "text": escape_text,
    "slack": escape_slack,
    "teams": escape_teams,
}
_STRONG: dict[Flavor, tuple[str, str]] = {
    "text": ("", ""),
    "slack": ("*", "*"),
    "teams": ("**", "**"),
}


def _to_str(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def make_env(flavor: Flavor, folder: Path | None = None) -> SandboxedEnvironment:
    """A sandboxed environment whose `{{ }}` output is escaped for `flavor`."""
    if flavor not in ESCAPERS:
        raise ValueError(f"unknown flavor {flavor!r} (allowed: {', '.join(FLAVORS)})")
    escaper = ESCAPERS[flavor]
    before, after = _STRONG[flavor]

    def finalize(value: object) -> str:
        if isinstance(value, Markup):  # already escaped by a filter below
            return str(value)
        return escaper(_to_str(value))

    def strong(value: object) -> Markup:
        text = escaper(_to_str(value))
        if not text.strip():
            return Markup(text)
        return Markup(f"{before}{text}{after}")

    def escape(value: object) -> Markup:
        return Markup(escaper(_to_str(value)))

    env = SandboxedEnvironment(
        loader=jinja2.FileSystemLoader(str(folder)) if folder is not None else None,
        # Templates are read once per process (like the question bank): no stat() of every
        # template file on every render. A wording change takes a restart.
        auto_reload=False,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        finalize=finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["strong"] = strong
    env.filters["esc"] = escape
    env.globals["flavor"] = flavor
    return env


def tidy(text: str) -> str:
    """Trim trailing spaces and collapse runs of blank lines that templates leave behind."""
    out: list[str] = []
    for line in (line.rstrip() for line in text.strip().splitlines()):
        if not line and out and not out[-1]:
            continue
        out.append(line)
    return "\n".join(out)
