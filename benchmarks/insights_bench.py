"""Insights benchmark: "what predicts a win" over a big review log, on SQLite and PostgreSQL.

    python -m benchmarks.insights_bench [--reviews 1000000] [--reps 2000] [--managers 200]
                                        [--databases sqlite postgresql] [--url postgresql+psycopg://…]
                                        [--write BENCHMARKS.md]

Seeds each database with `INSERT … SELECT` over a number series (PostgreSQL
`generate_series`, SQLite a recursive CTE): one workspace, `--managers` managers, `--reps`
reps spread evenly over them, 25 deals a rep (60 % closed: won, lost, walked away),
`--reviews` completed reviews over 52 weeks, each with the six answers the key features read
(`agenda.1.role`/`certainty`, `agenda.2.role`/`champion_access`/`champion_sells`,
`benefit.customer_ready`: 6 × `--reviews` answer rows) and ~0.6 flags, a loss reason on most;
then ANALYZE. Deterministic (a multiplicative hash of the row number, the same on both
databases), so both hold the same history. Then times, in the same run and process:

- baseline: `SELECT person_id, COUNT(*) FROM review WHERE status = 'completed' GROUP BY
  person_id` — the simplest aggregate over the same table;
- everyone: `services.insights.insights(uow, None)` — `dealcoach insights` without `--team`
  (one statement: each closed deal's last review by an index probe, its key answers by index
  probes, the flags and the loss reasons GROUP BY);
- one team: `insights(uow, manager)` — `dealcoach insights --team M`;
- all teams: `team_insights(uow, every manager)` — the monthly digest section for all
  `--managers` managers at once (the same one statement).

Each step is the best of 3 (after one untimed run that warms the caches); reported as seconds
and as a ratio to the baseline. Goal: every insights step under 5 s at 1 M reviews on both
databases. PostgreSQL is skipped (and said so) when it cannot be reached. The SQLite file and
the PostgreSQL schema are removed at the end.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bot"))

from dealcoach.services.insights import insights, team_insights  # noqa: E402
from dealcoach.store import Store, migrate  # noqa: E402
from dealcoach.store import digests as digest_q  # noqa: E402
from dealcoach.store.uow import UnitOfWork  # noqa: E402

END = datetime(2026, 11, 16, tzinfo=UTC)
SECONDS_52_WEEKS = 52 * 7 * 24 * 3600
DEALS_PER_REP = 25
FLAGS = (
    "agenda_unknown",
    "champion_untested",
    "agenda_assumed",
    "customer_not_ready",
    "cons_not_explained",
    "competitor_relationship",
    "economic_buyer_missing",
    "new_decision_maker",
)
REASONS = ("price", "no_decision", "competitor", "timing", "fit", "other")
SECTION = "## Insights: what predicts a win over the review log (issue 15)"
GOAL_SECONDS = 5.0


# --- seeding (the same SQL on both databases, but for the series, casts and JSON) ---------------


@dataclass(frozen=True)
class Dialect:
    name: str
    big: str  # cast a number to 64-bit
    json: Callable[[str], str]  # a SQL text expression → the answer column's JSON value
    ts: Callable[[str], str]  # seconds before END → a timestamp value

    def series(self, n: int) -> str:
        """A FROM item with column g = 1..n."""
        if self.name == "postgresql":
            return f"generate_series(1::bigint, {n}) AS s(g)"
        return (
            f"(WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < {n}) "
            "SELECT g FROM s) AS s"
        )

    def h(self, expr: str) -> str:
        """A deterministic hash of an integer expression, 0 … 2^32 − 1."""
        return f"((({expr}){self.big} * 2654435761) % 4294967296)"

    @property
    def now(self) -> str:
        return "now()" if self.name == "postgresql" else "'2026-11-16 00:00:00.000000'"


POSTGRESQL = Dialect(
    "postgresql",
    big="::bigint",
    json=lambda e: f"('\"' || {e} || '\"')::jsonb",
    ts=lambda secs: f"TIMESTAMPTZ '{END.isoformat()}' - ({secs}) * interval '1 second'",
)
SQLITE = Dialect(
    "sqlite",
    big="",
    json=lambda e: f"'\"' || {e} || '\"'",
    ts=lambda secs: (
        f"strftime('%Y-%m-%d %H:%M:%S', '{END.strftime('%Y-%m-%d %H:%M:%S')}', "
        f"'-' || ({secs}) || ' seconds') || '.000000'"
    ),
)


def _pick(dialect: Dialect, key: str, values: tuple[str, ...], salt: int) -> str:
    """CASE over a hash: one of `values`, evenly (a value may repeat to weigh it)."""
    whens = " ".join(f"WHEN {i} THEN '{v}'" for i, v in enumerate(values))
    return f"CASE {dialect.h(f'{key} * 31 + {salt}')} % {len(values)} {whens} END"


def seed_sql(d: Dialect, *, reviews: int, reps: int, managers: int) -> list[str]:
    people = managers + reps
    deals = reps * DEALS_PER_REP
    outcome = _pick(
        d,
        "g",
        ("open", "open", "open", "open", "won", "won", "won", "lost", "lost", "walked_away"),
        1,
    )
    reason = (
        f"CASE {d.h('g * 31 + 7')} % 7 "
        + " ".join(f"WHEN {i} THEN '{r}'" for i, r in enumerate(REASONS))
        + " ELSE NULL END"
    )
    answers = {
        "agenda.1.role": ("economic_buyer", "economic_buyer", "user"),
        "agenda.1.certainty": ("confirmed", "assumed", "unknown"),
        "agenda.2.role": ("champion", "user", "technical"),
        "agenda.2.champion_access": ("yes", "no", "unknown"),
        "agenda.2.champion_sells": ("yes", "yes", "no", "unknown"),
        "benefit.customer_ready": ("yes", "yes", "doubtful", "no"),
    }
    # One row per (review, question), a review's answers next to each other (as a review's
    # answers are written together), the value picked by a hash per question.
    questions = " UNION ALL ".join(f"SELECT '{qid}' AS qid" for qid in answers)
    value = (
        "CASE q.qid "
        + " ".join(
            f"WHEN '{qid}' THEN {_pick(d, 'r.id', values, salt)}"
            for salt, (qid, values) in enumerate(answers.items(), start=20)
        )
        + " END"
    )
    answer_selects = (
        f"SELECT r.id, q.qid, {d.json(value)}, r.completed_at "
        f"FROM review r CROSS JOIN ({questions}) AS q ORDER BY r.id, q.qid"
    )
    flag_case = " ".join(f"WHEN {i} THEN '{f}'" for i, f in enumerate(FLAGS))
    return [
        "INSERT INTO workspace (id, platform, external_id, name, default_locale, timezone, "
        f"created_at) VALUES (1, 'slack', 'TBENCH', 'Bench', 'en', 'UTC', {d.now})",
        "INSERT INTO person (id, workspace_id, user_id, display_name, locale, timezone, role, "
        "nudges_paused, created_at, updated_at) "
        f"SELECT g, 1, 'U' || g, 'person ' || g, 'en', 'UTC', "
        f"CASE WHEN g <= {managers} THEN 'manager' ELSE 'rep' END, false, {d.now}, {d.now} "
        f"FROM {d.series(people)}",
        "INSERT INTO team_membership (id, workspace_id, manager_id, member_id, created_at) "
        f"SELECT g, 1, ((g - 1) % {managers}) + 1, {managers} + g, {d.now} FROM {d.series(reps)}",
        "INSERT INTO deal (id, workspace_id, owner_id, name, name_key, account, value, stage, "
        "outcome, created_at, updated_at) "
        f"SELECT g, 1, {managers} + ((g - 1) / {DEALS_PER_REP}) + 1, 'Deal ' || g, "
        f"'deal ' || g, 'Account ' || (g % 997), {d.h('g')} % 400000, 'closing', {outcome}, "
        f"{d.now}, {d.now} FROM {d.series(deals)}",
        "INSERT INTO review (id, workspace_id, person_id, deal_id, platform, status, locale, "
        "quadrant, recommendation, outcome_reason, started_at, updated_at, completed_at) "
        f"SELECT g, 1, {managers} + 1 + (x.d - 1) / {DEALS_PER_REP}, x.d, 'slack', "
        "'completed', 'en', 'win_win', 'pursue', x.reason, x.t, x.t, x.t FROM ("
        f"SELECT g, 1 + {d.h('g')} % {deals} AS d, {reason} AS reason, "
        f"{d.ts(d.h('g * 31 + 3') + f' % {SECONDS_52_WEEKS}')} AS t "
        f"FROM {d.series(reviews)}) AS x",
        "INSERT INTO review_flag (review_id, flag) "
        f"SELECT DISTINCT r.id, CASE {d.h('r.id * 7 + k.g')} % {len(FLAGS)} {flag_case} END "
        f"FROM review r CROSS JOIN {d.series(3).replace(' AS s', ' AS k')} "
        f"WHERE {d.h('r.id * 3 + k.g')} % 5 = 0",
        f"INSERT INTO answer (review_id, question_id, value, answered_at) {answer_selects}",
    ]


def seed(url: str, dialect: Dialect, *, reviews: int, reps: int, managers: int) -> float:
    started = time.perf_counter()
    statements = seed_sql(dialect, reviews=reviews, reps=reps, managers=managers)
    if dialect.name == "postgresql":
        import psycopg

        with psycopg.connect(_libpq(url), autocommit=True) as conn:
            for sql in statements:
                conn.execute(sql.encode())
            conn.execute(b"ANALYZE")
    else:
        lite = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            lite.execute("PRAGMA synchronous = OFF")
            for sql in statements:
                lite.execute(sql)
            lite.commit()
            lite.execute("ANALYZE")
            lite.commit()
        finally:
            lite.close()
    return time.perf_counter() - started


# --- the measured steps ------------------------------------------------------------------------


def _baseline(uow: UnitOfWork) -> int:
    rows = uow.session.connection().exec_driver_sql(
        "SELECT person_id, COUNT(*) FROM review WHERE status = 'completed' GROUP BY person_id"
    )
    return len(rows.all())


def _everyone(uow: UnitOfWork) -> int:
    return insights(uow, None).deals


def _one_team(uow: UnitOfWork) -> int:
    return insights(uow, 1).deals


def _all_teams(uow: UnitOfWork) -> int:
    managers = [(row.person_id, "en") for row in digest_q.managers(uow.session)]
    return sum(r.deals for r in team_insights(uow, managers).values())


STEPS: list[tuple[str, Callable[[UnitOfWork], int]]] = [
    ("baseline", _baseline),
    ("everyone", _everyone),
    ("one team", _one_team),
    ("all teams", _all_teams),
]


def measure(url: str, rounds: int = 3) -> dict[str, tuple[float, int]]:
    """{step: (best seconds, its result)}: one warm-up, then the best of `rounds`."""
    store = Store(url)
    out: dict[str, tuple[float, int]] = {}
    try:
        for name, fn in STEPS:
            result = store.run(fn)
            best = float("inf")
            for _ in range(rounds):
                started = time.perf_counter()
                result = store.run(fn)
                best = min(best, time.perf_counter() - started)
            out[name] = (best, result)
    finally:
        store.dispose()
    return out


# --- running -----------------------------------------------------------------------------------


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def run_sqlite(args: argparse.Namespace) -> tuple[float, dict[str, tuple[float, int]]]:
    with tempfile.TemporaryDirectory(prefix="insights-bench-") as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        migrate(url, "head")
        seed_s = seed(url, SQLITE, reviews=args.reviews, reps=args.reps, managers=args.managers)
        return seed_s, measure(url)


def run_postgresql(args: argparse.Namespace) -> tuple[float, dict[str, tuple[float, int]]] | str:
    try:
        import psycopg

        with psycopg.connect(_libpq(args.url), autocommit=True, connect_timeout=5) as conn:
            schema = f"bench_{uuid.uuid4().hex[:10]}"
            conn.execute(f'CREATE SCHEMA "{schema}"'.encode())
    except Exception as exc:  # not reachable: the SQLite numbers still stand
        return f"PostgreSQL not reachable ({type(exc).__name__}), skipped"
    sep = "&" if "?" in args.url else "?"
    url = f"{args.url}{sep}options={quote(f'-csearch_path={schema}')}"
    try:
        migrate(url, "head")
        seed_s = seed(url, POSTGRESQL, reviews=args.reviews, reps=args.reps, managers=args.managers)
        return seed_s, measure(url)
    finally:
        with psycopg.connect(_libpq(args.url), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'.encode())


def report(args: argparse.Namespace, results: dict[str, Any]) -> tuple[str, bool]:
    names = [n for n in ("sqlite", "postgresql") if n in results]
    ran = {n: r for n, r in results.items() if not isinstance(r, str)}
    header = (
        "| step | "
        + " | ".join(f"{'SQLite' if n == 'sqlite' else 'PostgreSQL'} time | ratio" for n in ran)
        + " |"
    )
    lines = [
        SECTION,
        "",
        f"`python -m benchmarks.insights_bench --reviews {args.reviews}` ({args.reps} reps, "
        f"{args.managers} managers, {DEALS_PER_REP} deals a rep of which 60 % closed, reviews "
        f"over 52 weeks with 6 key answers each and ~0.6 flags; one process, "
        f"{os.cpu_count()} CPUs, {time.strftime('%Y-%m-%d')}). Best of 3 after a warm-up; "
        "ratio = time / the baseline of the same database in the same run.",
        "",
    ]
    met = True
    if ran:
        lines += [header, "|---|" + "---:|---:|" * len(ran)]
        seed_row = "| seed (INSERT … SELECT, ANALYZE; not measured) | " + " | ".join(
            f"{ran[n][0]:.1f} s | –" for n in ran
        )
        lines.append(seed_row + " |")
        labels = {
            "baseline": "baseline: COUNT(*) GROUP BY person_id",
            "everyone": "`dealcoach insights` (everyone)",
            "one team": "`dealcoach insights --team M` (one team)",
            "all teams": f"monthly digest section, all {args.managers} teams at once",
        }
        for step, label in labels.items():
            cells = []
            for n in ran:
                seconds, _ = ran[n][1][step]
                base = ran[n][1]["baseline"][0]
                cells.append(
                    f"{seconds * 1000:.0f} ms | "
                    + ("1.0×" if step == "baseline" else f"{seconds / base:.1f}×")
                )
                if step != "baseline" and seconds >= GOAL_SECONDS:
                    met = False
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
        first = next(iter(ran.values()))[1]
        lines += [
            "",
            f"Closed deals counted: {first['everyone'][1]:,} (everyone), "
            f"{first['one team'][1]:,} (one team), {first['all teams'][1]:,} (summed over the "
            f"teams). Goal: every insights step < {GOAL_SECONDS:.0f} s at 1 M reviews: "
            f"{'met' if met else 'NOT met'}.",
        ]
    for n in names:
        if isinstance(results[n], str):
            lines += ["", results[n] + "."]
    lines += [
        "",
        "Notes: every step is one statement whatever the number of managers (on PostgreSQL "
        "after `SET LOCAL jit = off`): each closed deal's last review by one probe of the "
        "(deal_id, completed_at) index and its three key answers by probes of the (review_id, "
        "question_id) index, in materialised CTEs, then a UNION ALL of GROUP BYs: totals, key "
        "answers, flags, loss reasons. The cost follows the closed deals, not the length of "
        "the review log. Python reshapes a few "
        "dozen aggregated rows. Small run: `python -m benchmarks.insights_bench --reviews "
        "20000 --reps 200 --managers 20` (`python -m benchmarks --quick`).",
        "",
    ]
    return "\n".join(lines), met


def write_section(path: Path, text: str) -> None:
    """Replace this benchmark's section of BENCHMARKS.md (up to the next `## `), or append."""
    old = path.read_text("utf-8") if path.exists() else "# Benchmarks\n\n"
    start = old.find(SECTION)
    if start == -1:
        new = old.rstrip("\n") + "\n\n" + text
    else:
        nxt = old.find("\n## ", start + len(SECTION))
        new = old[:start] + text + (old[nxt + 1 :] if nxt != -1 else "")
    path.write_text(new, "utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--reviews", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=2000)
    parser.add_argument("--managers", type=int, default=200)
    parser.add_argument(
        "--databases", nargs="+", choices=("sqlite", "postgresql"), default=["sqlite", "postgresql"]
    )
    parser.add_argument(
        "--url",
        default=os.environ.get("DEALCOACH_BENCH_POSTGRES_URL")
        or os.environ.get("DEALCOACH_TEST_POSTGRES_URL")
        or "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    )
    parser.add_argument("--write", type=Path, help="Update this section of BENCHMARKS.md.")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {}
    for name in args.databases:
        print(f"{name}: seeding {args.reviews:,} reviews …", file=sys.stderr, flush=True)
        results[name] = run_sqlite(args) if name == "sqlite" else run_postgresql(args)
    text, met = report(args, results)
    print(text)
    if args.write:
        write_section(args.write, text)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
