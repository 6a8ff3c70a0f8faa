"""`dealcoach export`: every completed review with its answers and assessment, streamed.

Rows come from `ReviewRepo.iter_export` (keyset batches of plain rows), are written as they
arrive and never collected, so memory stays flat however large the log is.

- `jsonl`: one JSON object a line (review, workspace, user, deal, answers keyed by question
  id, assessment as the coach produced it, the advice text).
- `csv`: one row a review; fixed columns, then one `answer:<question id>` column per
  question of the bank (multi-choice values joined by `;`), then `answers_other` (JSON) for
  answers to questions the current bank no longer has. Every text cell that a spreadsheet
  would run as a formula (starting with `=`, `+`, `-`, `@`, tab or CR) gets a leading `'`
  (OWASP CSV injection); numbers stay numbers. JSONL is exact.

Both carry the review's coaching notes with their replies (`coaching_notes`; CSV: one JSON
cell), looked up per batch of reviews.

The deal's close plan (issue 15) and why it was lost are on the deal's **last completed
review** (the newest; the loss reason is stored there): `plan_steps` — every step (open,
done, dropped) with its owner, date, status, rule, the review it came from and its history
— and `deal.outcome_reason` / `deal.outcome_reason_text`. On the deal's earlier reviews
`plan_steps` is null (JSONL) / empty (CSV). CSV: the columns `deal_outcome_reason`,
`deal_outcome_reason_text` and `plan_steps` (one JSON cell) come last, neutralised like
every text cell.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import Any, Literal, TextIO

from dealcoach.coach.bank import load_bank
from dealcoach.errors import InputError
from dealcoach.services.plans import plans_of_deals
from dealcoach.store import notes as notes_q
from dealcoach.store import plans as plans_q
from dealcoach.store.repositories import ExportRow
from dealcoach.store.uow import Store, UnitOfWork

ExportFormat = Literal["jsonl", "csv"]

FIXED_COLUMNS = [
    "review_id",
    "completed_at",
    "started_at",
    "workspace_platform",
    "workspace_id",
    "workspace_name",
    "user_id",
    "display_name",
    "platform",
    "locale",
    "content_version",
    "deal_name",
    "deal_account",
    "deal_value",
    "deal_stage",
    "deal_outcome",
    "quadrant",
    "recommendation",
    "flags",
    "next_steps",
]
# after the answer columns, `answers_other` and `coaching_notes` (issue 15)
PLAN_COLUMNS = ["deal_outcome_reason", "deal_outcome_reason_text", "plan_steps"]


def parse_since(value: str | None) -> datetime | None:
    """`--since`: a date (midnight UTC) or an ISO datetime (UTC if no offset is given)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        moment = datetime.fromisoformat(text)
    except ValueError as err:
        raise InputError(f"--since: {value!r} is not a date like 2026-11-01") from err
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def row_to_json(row: ExportRow) -> dict[str, Any]:
    return {
        "review_id": row.review_id,
        "completed_at": _iso(row.completed_at),
        "started_at": _iso(row.started_at),
        "workspace": {
            "platform": row.workspace_platform,
            "id": row.workspace_id,
            "name": row.workspace_name,
        },
        "user": {"id": row.user_id, "name": row.display_name},
        "platform": row.platform,
        "locale": row.locale,
        "content_version": row.content_version,
        "deal": {
            "name": row.deal_name,
            "account": row.deal_account,
            "value": row.deal_value,
            "stage": row.deal_stage,
            "outcome": row.deal_outcome,
            "outcome_reason": row.outcome_reason,
            "outcome_reason_text": row.outcome_reason_text,
        },
        "answers": row.answers,
        "assessment": row.assessment,
        "advice": row.advice_text,
    }


# CSV injection (OWASP "CSV Injection"): a spreadsheet runs a cell that starts with one of
# these as a formula (tab and CR are stripped first by some, so "\t=cmd" counts too).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")


def neutralise(text: str) -> str:
    """Text as a spreadsheet shows it, never runs it: a `'` before a formula-like start.

    A plain number written as text (`-5`, `+31`) is no formula and is left alone.
    """
    stripped = text.lstrip(" \t\r\n")
    if (text.startswith(_FORMULA_START) or stripped.startswith(_FORMULA_START)) and not (
        _PLAIN_NUMBER.match(text)
    ):
        return "'" + text
    return text


def _cell(value: Any) -> str | int | float:
    """One CSV cell: numbers stay numbers (a negative deal value is -5000, not '-5000),
    every text cell is neutralised."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, list):
        return neutralise(";".join(str(v) for v in value))
    return neutralise(str(value))


def _iter_rows(store: Store, since: datetime | None) -> Iterator[ExportRow]:
    with store.unit_of_work() as uow:
        yield from uow.reviews.iter_export(since=since)


NOTES_BATCH = 500


def notes_json(rows: list[notes_q.NoteRow]) -> list[dict[str, Any]]:
    """A review's coaching notes (issue 16), each with its replies, oldest first."""
    notes: list[dict[str, Any]] = []
    by_id: dict[int, dict[str, Any]] = {}
    for r in rows:
        item: dict[str, Any] = {
            "author": {"id": r.author_user_id, "name": r.author_name},
            "text": r.body,
            "created_at": _iso(r.created_at),
        }
        if r.parent_id is None:
            item.update(id=r.id, action=r.action, status=r.status, done_at=_iso(r.done_at))
            item["replies"] = []
            by_id[r.id] = item
            notes.append(item)
        elif r.parent_id in by_id:
            by_id[r.parent_id]["replies"].append(item)
    return notes


Extras = tuple[list[dict[str, Any]], list[dict[str, Any]] | None]  # notes, plan steps


def _with_notes(store: Store, since: datetime | None) -> Iterator[tuple[ExportRow, Extras]]:
    """Each exported row with its coaching notes and (on a deal's last completed review) the
    deal's plan steps, looked up one batch of reviews at a time in the export's own
    transaction (memory stays bounded by the batch)."""
    with store.unit_of_work() as uow:
        yield from _batched_notes(uow, uow.reviews.iter_export(since=since))


def _plans(uow: UnitOfWork, batch: list[ExportRow]) -> dict[int, list[dict[str, Any]]]:
    """The plan steps of the deals whose last completed review is in the batch, by review."""
    deal_ids = sorted({row.deal_id for row in batch if row.deal_id is not None})
    last = plans_q.last_completed_reviews(uow.session, deal_ids)
    in_batch = {row.review_id for row in batch}
    deals = [deal for deal, review in last.items() if review in in_batch]
    steps = plans_of_deals(uow, deals)
    return {last[deal]: steps.get(deal, []) for deal in deals}


def _batched_notes(
    uow: UnitOfWork, rows: Iterator[ExportRow]
) -> Iterator[tuple[ExportRow, Extras]]:
    batch: list[ExportRow] = []

    def flush() -> Iterator[tuple[ExportRow, Extras]]:
        found = notes_q.on_reviews(uow.session, [row.review_id for row in batch])
        grouped: dict[int, list[notes_q.NoteRow]] = {}
        for note in found:
            grouped.setdefault(note.review_id, []).append(note)
        plans = _plans(uow, batch)
        for row in batch:
            yield row, (notes_json(grouped.get(row.review_id, [])), plans.get(row.review_id))
        batch.clear()

    for row in rows:
        batch.append(row)
        if len(batch) >= NOTES_BATCH:
            yield from flush()
    if batch:
        yield from flush()


def write_export(
    store: Store,
    out: TextIO,
    fmt: ExportFormat = "jsonl",
    since: datetime | None = None,
    *,
    on_row: Callable[[], object] | None = None,
) -> int:
    """Write every completed review (completed at/after `since`); returns how many.

    `on_row()` is called after each review written (the CLI's progress bar)."""
    count = 0
    if fmt == "jsonl":
        for row, (notes, plan) in _with_notes(store, since):
            record = row_to_json(row)
            record["coaching_notes"] = notes
            record["plan_steps"] = plan
            out.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
            count += 1
            if on_row is not None:
                on_row()
        return count
    if fmt != "csv":
        raise InputError(f"unknown export format {fmt!r} (allowed: jsonl, csv)")
    question_ids = list(load_bank("en").questions)
    known = set(question_ids)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        FIXED_COLUMNS
        + [f"answer:{q}" for q in question_ids]
        + ["answers_other", "coaching_notes"]
        + PLAN_COLUMNS
    )
    for row, (notes, plan) in _with_notes(store, since):
        other = {k: v for k, v in row.answers.items() if k not in known}
        writer.writerow(
            [
                row.review_id,
                _iso(row.completed_at),
                _iso(row.started_at),
                _cell(row.workspace_platform),
                _cell(row.workspace_id),
                _cell(row.workspace_name),
                _cell(row.user_id),
                _cell(row.display_name),
                _cell(row.platform),
                _cell(row.locale),
                _cell(row.content_version),
                _cell(row.deal_name),
                _cell(row.deal_account),
                _cell(row.deal_value),
                _cell(row.deal_stage),
                _cell(row.deal_outcome),
                _cell(row.quadrant),
                _cell(row.recommendation),
                _cell(row.flags),
                _cell(" | ".join(str(s) for s in row.assessment.get("next_steps", []))),
            ]
            + [_cell(row.answers.get(q)) for q in question_ids]
            + [_cell(json.dumps(other, ensure_ascii=False)) if other else ""]
            + [_cell(json.dumps(notes, ensure_ascii=False)) if notes else ""]
            + [
                _cell(row.outcome_reason),
                _cell(row.outcome_reason_text),
                _cell(json.dumps(plan, ensure_ascii=False)) if plan else "",
            ]
        )
        count += 1
        if on_row is not None:
            on_row()
    return count
