"""Benchmarks: `python -m benchmarks.<name>` (see BENCHMARKS.md)."""

import re as _re
from pathlib import Path as _Path


def replace_section(path: _Path, begin: str, end: str, body: str) -> None:
    """Put `begin + body + end` in place of the marked section of BENCHMARKS.md (or append)."""
    section = f"{begin}\n{body}\n{end}\n"
    old = path.read_text("utf-8") if path.exists() else "# Benchmarks\n\n"
    pattern = _re.compile(_re.escape(begin) + r".*?" + _re.escape(end) + r"\n?", _re.S)
    new = (
        pattern.sub(lambda _: section, old)
        if pattern.search(old)
        else old.rstrip() + "\n\n" + section
    )
    path.write_text(new, "utf-8")
