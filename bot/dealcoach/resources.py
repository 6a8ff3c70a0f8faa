"""Where the shipped content lives.

`prompts/` and `migrations/` sit at the top of the repository (DESIGN.md) and are copied
into the wheel under `dealcoach/_content/`. An installed wheel finds them next to this
module; a source checkout or an editable install finds them at the repository root.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def _locate(name: str) -> Path:
    shipped = _PACKAGE_DIR / "_content" / name
    if shipped.is_dir():
        return shipped
    in_repo = _PACKAGE_DIR.parents[1] / name
    if in_repo.is_dir():
        return in_repo
    raise FileNotFoundError(
        f"dealcoach content folder {name!r} not found (looked in {shipped} and {in_repo})"
    )


@cache
def prompts_dir() -> Path:
    return _locate("prompts")


@cache
def migrations_dir() -> Path:
    return _locate("migrations")
