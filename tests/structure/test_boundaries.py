"""The layers of docs/ARCHITECTURE.md, held by the imports themselves.

Every module of `bot/dealcoach` is parsed (not imported), and each `import`/`from … import`
— at the top, inside a function or under `if TYPE_CHECKING:` alike — is checked against the
table in docs/ARCHITECTURE.md ("What each layer may import"). A new import across a
forbidden boundary fails here with the file, line and rule it breaks.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "bot" / "dealcoach"


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, e.g. "dealcoach.slack.flow"
    target: str  # what it imports, e.g. "dealcoach.coach.machine"
    line: int

    @property
    def where(self) -> str:
        return f"{self.module.replace('.', '/')}.py:{self.line} imports {self.target}"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> Iterator[Import]:
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    tree = ast.parse(path.read_text("utf-8"), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            for alias in node.names:
                # `from dealcoach.coach import machine` imports the module dealcoach.coach.machine
                yield Import(module, f"{prefix}.{alias.name}", node.lineno)


def all_imports() -> list[Import]:
    return [imp for path in sorted(PACKAGE.rglob("*.py")) for imp in _imports(path)]


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _layer(module: str) -> str:
    """`dealcoach.slack.listeners.views` → `slack`; a top-level module is its own layer."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


# Layer → the dealcoach layers it may import (itself always). Third-party imports are free
# except SQLAlchemy (below). Top-level helper modules every layer may use: errors (the one
# hierarchy), resources (where prompts/ and migrations/ are), ui_text / crm_text /
# commands (interface words from prompts/), public_url (the public-URL rules), http_limits
# (bounded request bodies, shared by web.py and the Teams endpoint).
NEUTRAL = {
    "errors", "resources", "ui_text", "crm_text", "commands", "public_url", "config", "http_limits",
}
MAY_IMPORT: dict[str, set[str]] = {
    "coach": {"errors", "resources"},
    "crm": {"errors"},
    "store": {"coach", "errors", "resources"},
    "services": {"coach", "store", "crm", "digest"} | NEUTRAL,
    "digest": {"coach", "store", "services"} | NEUTRAL,
    "slack": {"services", "digest", "coach", "crm"} | NEUTRAL,
    "teams": {"services", "digest", "coach", "crm"} | NEUTRAL,
}
# Exceptions, each with its reason (docs/ARCHITECTURE.md says the same).
ALLOWED: dict[tuple[str, str], str] = {
    # slack_sdk's OAuth installation/state stores build their tables on our metadata, so
    # Alembic owns them; the Slack adapter hands that metadata to the SDK.
    ("dealcoach.slack.oauth", "dealcoach.store.models"): "slack_sdk OAuth stores",
}
# Never, whatever the table says.
FORBIDDEN: list[tuple[str, str, str]] = [
    ("dealcoach.slack", "dealcoach.coach.machine", "the service decides the step"),
    ("dealcoach.teams", "dealcoach.coach.machine", "the service decides the step"),
    ("dealcoach.slack", "dealcoach.teams", "adapters never import each other"),
    ("dealcoach.teams", "dealcoach.slack", "adapters never import each other"),
]
# SQLAlchemy is the store's. observability counts statements with SQLAlchemy events (no
# SQL of its own); slack/oauth hands the engine to slack_sdk's stores.
SQLALCHEMY_ALLOWED = {"dealcoach.observability", "dealcoach.slack.oauth"}


def _is_ours(target: str) -> bool:
    return _within(target, "dealcoach")


def test_no_layer_imports_across_a_forbidden_boundary() -> None:
    problems: list[str] = []
    for imp in all_imports():
        if not _is_ours(imp.target) or _layer(imp.target).startswith("__"):
            continue  # (the package root itself: `from dealcoach import __version__`)
        source, target = _layer(imp.module), _layer(imp.target)
        if source == target or (imp.module, imp.target) in ALLOWED:
            continue
        if any(_within(imp.module, s) and _within(imp.target, t) for s, t, _ in FORBIDDEN):
            continue  # reported by the next test, with its reason
        allowed = MAY_IMPORT.get(source)
        if allowed is not None and target not in allowed:
            problems.append(f"{imp.where} — {source}/ may import only {sorted(allowed)}")
    assert not problems, "\n".join(problems)


def test_adapters_never_import_each_other_or_the_state_machine() -> None:
    problems = [
        f"{imp.where} — {reason}"
        for imp in all_imports()
        for source, target, reason in FORBIDDEN
        if _within(imp.module, source) and _within(imp.target, target)
    ]
    assert not problems, "\n".join(problems)


def test_nothing_below_the_composition_root_imports_it() -> None:
    """bootstrap/web/cli build everything; nothing they build imports them back."""
    roots = ("dealcoach.bootstrap", "dealcoach.web", "dealcoach.cli")
    problems = [
        imp.where
        for imp in all_imports()
        if any(_within(imp.target, r) for r in roots)
        and _layer(imp.module) in MAY_IMPORT
    ]
    assert not problems, "\n".join(problems)


def test_sql_lives_only_in_store() -> None:
    problems: list[str] = []
    for imp in all_imports():
        if (
            _within(imp.target, "sqlalchemy")
            and _layer(imp.module) != "store"
            and imp.module not in SQLALCHEMY_ALLOWED
        ):
            problems.append(imp.where)
    assert not problems, "SQLAlchemy outside store/:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    ("module", "target", "broken"),
    [
        ("dealcoach.coach.advice", "dealcoach.store.models", True),
        ("dealcoach.slack.flow", "dealcoach.coach.machine", True),
        ("dealcoach.teams.cards", "dealcoach.slack.limits", True),
        ("dealcoach.services.reviews", "dealcoach.slack.app", True),
        ("dealcoach.digest.render", "dealcoach.teams.cards", True),
        ("dealcoach.slack.flow", "dealcoach.services.reviews", False),
        ("dealcoach.slack.oauth", "dealcoach.store.models", False),
    ],
)
def test_the_rules_catch_what_they_should(module: str, target: str, broken: bool) -> None:
    """The checker itself: a known-bad import is caught, a known-good one is not."""
    source, layer = _layer(module), _layer(target)
    forbidden = any(_within(module, s) and _within(target, t) for s, t, _ in FORBIDDEN)
    outside_table = (
        source != layer
        and (module, target) not in ALLOWED
        and layer not in MAY_IMPORT.get(source, {layer})
    )
    assert (forbidden or outside_table) is broken
