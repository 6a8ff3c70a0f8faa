"""Digest benchmark: every manager's digest of one week over a big review log, on PostgreSQL.

    python -m benchmarks.digest_bench [--reviews 1000000] [--reps 2000] [--managers 200]
                                      [--url postgresql+psycopg://…] [--write BENCHMARKS.md]

Seeds a fresh schema with `INSERT … SELECT generate_series` (one workspace, `--managers`
managers, `--reps` reps spread evenly over them, 25 deals a rep, `--reviews` completed
reviews spread over 52 weeks with a skewed recommendation/quadrant mix, ~0.6 flags a review),
runs ANALYZE, then times in the same run:

- baseline: `SELECT person_id, COUNT(*) FROM review WHERE status = 'completed' GROUP BY
  person_id` — the simplest aggregate over the same table;
- digests (cold: a fresh process, first templates compiled in the timed step):
  `compose_team_digests` for all managers of the last seeded week (the aggregate SQL
  of `store/digests.py`) and `render_digest` of each (text + Block Kit + Teams).

Reported: seconds for each, the digest/baseline ratio, and peak memory (Python heap peak by
tracemalloc during the digest step, and the process's max RSS). Goal (issue 5): all digests of
one week < 10 s and < 300 MB. `--reviews` keeps it small for CI. The schema is dropped at the
end (`--keep` leaves it).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
import tracemalloc
import uuid
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bot"))

from dealcoach.digest.compose import compose_team_digests, manager_rows  # noqa: E402
from dealcoach.digest.render import render_digest  # noqa: E402
from dealcoach.digest.weeks import IsoWeek  # noqa: E402
from dealcoach.slack.digest_blocks import digest_blocks  # noqa: E402
from dealcoach.store import Store, migrate  # noqa: E402

WEEK = IsoWeek(2026, 46)
FLAGS = (
    "agenda_unknown",
    "fit_unverified",
    "customer_not_ready",
    "cons_not_explained",
    "competitor_relationship",
    "below_cost_no_reason",
    "new_decision_maker",
    "silent_after_invite",
)
SECTION = "## Digest: all managers' digests of one week (issue 5)"


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def seed(url: str, *, reviews: int, reps: int, managers: int, deals_per_rep: int = 25) -> float:
    import psycopg

    end = WEEK.bounds(__import__("zoneinfo").ZoneInfo("UTC"))[1]
    started = time.perf_counter()
    flags = "ARRAY[" + ",".join(f"'{f}'" for f in FLAGS) + "]"
    people = managers + reps
    deals = reps * deals_per_rep
    sql = f"""
    INSERT INTO workspace (id, platform, external_id, name, default_locale, timezone, created_at)
    VALUES (1, 'slack', 'TBENCH', 'Bench', 'en', 'UTC', now());

    INSERT INTO person (id, workspace_id, user_id, display_name, locale, timezone, role,
                        nudges_paused, created_at, updated_at)
    SELECT g, 1, 'U' || lpad(g::text, 7, '0'), 'person ' || g,
           CASE WHEN g % 5 = 0 THEN 'nl' ELSE 'en' END, 'UTC',
           CASE WHEN g <= {managers} THEN 'manager' ELSE 'rep' END, false, now(), now()
    FROM generate_series(1, {people}) g;

    INSERT INTO team_membership (id, workspace_id, manager_id, member_id, created_at)
    SELECT g, 1, ((g - 1) % {managers}) + 1, {managers} + g, now()
    FROM generate_series(1, {reps}) g;

    INSERT INTO deal (id, workspace_id, owner_id, name, name_key, account, value, stage, outcome,
                      created_at, updated_at)
    SELECT g, 1, {managers} + ((g - 1) / {deals_per_rep}) + 1, 'Deal ' || g, 'deal ' || g,
           'Account ' || (g % 997), round((random() * 400000)::numeric, 0),
           (ARRAY['discovery','proposal','negotiation','closing'])[1 + (g % 4)], 'open',
           now(), now()
    FROM generate_series(1, {deals}) g;

    INSERT INTO review (id, workspace_id, person_id, deal_id, platform, status, locale,
                        quadrant, recommendation, started_at, updated_at, completed_at)
    SELECT g, 1, {managers} + 1 + (d - 1) / {deals_per_rep}, d, 'slack', 'completed', 'en',
           (ARRAY['win_win','win_win','win_win','win_lose','lose_win','lose_lose','unclear'])
             [1 + (h % 7)],
           (ARRAY['pursue','pursue','strengthen','strengthen','strengthen','renegotiate',
                  'walk_away'])[1 + ((h / 7) % 7)],
           t, t, t
    FROM (
      SELECT g, 1 + (hashint % {deals}) AS d, hashint AS h,
             TIMESTAMPTZ '{end.isoformat()}' - (random() * interval '364 days') AS t
      FROM (SELECT g, abs(hashtext(g::text)) AS hashint FROM generate_series(1, {reviews}) g) x
    ) s;

    INSERT INTO review_flag (review_id, flag)
    SELECT DISTINCT r.id, ({flags})[1 + ((abs(hashtext(r.id::text || '-' || k)) % {len(FLAGS)}))]
    FROM review r CROSS JOIN generate_series(1, 3) k
    WHERE abs(hashtext(r.id::text || ':' || k)) % 5 = 0;

    UPDATE deal d SET last_reviewed_at = m.t
    FROM (SELECT deal_id, max(completed_at) t FROM review GROUP BY deal_id) m
    WHERE m.deal_id = d.id;
    """
    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        conn.execute(sql)
        conn.execute("ANALYZE")
    return time.perf_counter() - started


def baseline(url: str) -> float:
    import psycopg

    with psycopg.connect(_libpq(url)) as conn:
        started = time.perf_counter()
        rows = conn.execute(
            "SELECT person_id, COUNT(*) FROM review WHERE status = 'completed' GROUP BY person_id"
        ).fetchall()
        elapsed = time.perf_counter() - started
    assert rows
    return elapsed


def _compose_and_render(store: Store) -> tuple[float, float, int, int]:
    started = time.perf_counter()
    with store.unit_of_work() as uow:
        rows = manager_rows(uow)
        composed = compose_team_digests(uow, rows, WEEK, now=datetime.now(UTC))
    compose_s = time.perf_counter() - started
    started = time.perf_counter()
    for digest in composed.values():
        digest_blocks(render_digest(digest))  # Block Kit is built by the Slack adapter now
    render_s = time.perf_counter() - started
    return compose_s, render_s, len(composed), sum(d.total_reviews for d in composed.values())


def digests(url: str) -> tuple[float, float, int, int, int]:
    """(seconds to compose, seconds to render, digests, reviews in the week, heap peak bytes).

    Timed without tracemalloc (it slows Python several-fold); a second, untimed pass under
    tracemalloc measures the Python heap peak of the same work.
    """
    store = Store(url)
    try:
        compose_s, render_s, count, in_week = _compose_and_render(store)
        tracemalloc.start()
        _compose_and_render(store)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    finally:
        store.dispose()
    return compose_s, render_s, count, in_week, peak


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reviews", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=2000)
    parser.add_argument("--managers", type=int, default=200)
    parser.add_argument(
        "--url",
        default=os.environ.get("DEALCOACH_BENCH_POSTGRES_URL")
        or os.environ.get("DEALCOACH_TEST_POSTGRES_URL")
        or "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    )
    parser.add_argument("--write", type=Path, help="Update this section of BENCHMARKS.md.")
    parser.add_argument("--keep", action="store_true", help="Keep the seeded schema.")
    parser.add_argument("--schema", help="Reuse this already seeded schema (with --keep).")
    args = parser.parse_args(argv)

    import psycopg

    schema = args.schema or f"bench_{uuid.uuid4().hex[:10]}"
    if not args.schema:
        with psycopg.connect(_libpq(args.url), autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in args.url else "?"
    url = f"{args.url}{sep}options={quote(f'-csearch_path={schema}')}"
    print(f"schema {schema}", file=sys.stderr)
    try:
        seed_s = 0.0
        if not args.schema:
            migrate(url, "head")
            seed_s = seed(url, reviews=args.reviews, reps=args.reps, managers=args.managers)
        base_s = min(baseline(url) for _ in range(3))
        compose_s, render_s, count, in_week, heap = digests(url)
    finally:
        if not args.keep:
            with psycopg.connect(_libpq(args.url), autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    total = compose_s + render_s
    lines = [
        SECTION,
        "",
        f"`python -m benchmarks.digest_bench --reviews {args.reviews}` "
        f"({args.reps} reps, {args.managers} managers, 25 deals a rep, reviews over 52 weeks; "
        f"PostgreSQL, one process, {os.cpu_count()} CPUs).",
        "",
        "| step | time | note |",
        "|---|---|---|",
        f"| seed (INSERT … SELECT generate_series) | {seed_s:.1f} s | {args.reviews:,} reviews |",
        f"| baseline: COUNT(*) GROUP BY person_id | {base_s * 1000:.0f} ms | whole table |",
        f"| compose all digests of {WEEK} | {compose_s:.2f} s | {count} digests, "
        f"{in_week:,} reviews in the week |",
        f"| render all (text + Block Kit + Teams) | {render_s:.2f} s | |",
        f"| **total** | **{total:.2f} s** | ratio to baseline: {total / base_s:.1f}× |",
        "",
        f"Peak memory: Python heap {heap / 1e6:.1f} MB during the digest step (tracemalloc); "
        f"process max RSS {rss_mb:.0f} MB. Goal: < 10 s and < 300 MB.",
        "",
        "Notes: the digest step is a fixed number of queries per manager time zone (here one",
        "zone, so 6 queries for all managers: rep activity, 8-week mix, top flags with",
        "ROW_NUMBER, riskiest deals with ROW_NUMBER, worse-than-before with LAG plus one index",
        "probe per deal, and the flags of the listed deals); rendering is 3 flavors × 9",
        "templates per digest. Seeding is not part of the measured step. Small CI run:",
        "`python -m benchmarks.digest_bench --reviews 20000 --reps 200 --managers 20`.",
        "",
    ]
    report = "\n".join(lines)
    print(report)
    if args.write:
        write_section(args.write, report)
    return 0 if total < 10 and rss_mb < 300 else 1


def write_section(path: Path, report: str) -> None:
    """Replace this benchmark's section of BENCHMARKS.md (up to the next `## `), or append."""
    text = path.read_text("utf-8") if path.exists() else "# Benchmarks\n\n"
    start = text.find(SECTION)
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + report
    else:
        nxt = text.find("\n## ", start + len(SECTION))
        text = text[:start] + report + (text[nxt + 1 :] if nxt != -1 else "")
    path.write_text(text, "utf-8")


if __name__ == "__main__":
    sys.exit(main())
