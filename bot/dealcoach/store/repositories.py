"""Repositories: all SQL of the review log, one class a concern, bound to one session.

Get them from a unit of work (`uow.reviews`, `uow.people`, …), never construct them in
adapters. Methods return ORM objects valid inside the unit of work, or plain rows/dataclasses.
Races are settled by unique constraints (get-or-create, idempotent completion, digest claims,
nudges), never by in-process locks, so any number of replicas can share one PostgreSQL.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from slack_sdk.oauth.sqlalchemy_utils import normalize_datetime_for_db
from sqlalchemy import (
    JSON,
    ColumnElement,
    Select,
    bindparam,
    delete,
    func,
    insert,
    select,
    type_coerce,
    update,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, contains_eager, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from dealcoach.store.models import (
    OUTCOMES,
    Answer,
    Assessment,
    Deal,
    DigestRun,
    NudgeLog,
    Person,
    Review,
    ReviewFlag,
    TeamMembership,
    Workspace,
    deal_key,
    slack_oauth_states,
)
from dealcoach.store.types import insert_for, utcnow

M = TypeVar("M")


_insert = insert_for


_CACHE = "dealcoach.found"


def _found(session: Session) -> dict[tuple[Any, ...], Any]:
    """Rows already looked up by a unique key in this transaction (workspace by platform id,
    person by user id, deal by name): asked again, they are answered without a query. Keyed
    on the transaction, so nothing survives a commit or rollback."""
    tx = session.get_transaction()
    cached = session.info.get(_CACHE)
    if cached is None or cached[0] is not tx:
        cached = (tx, {})
        session.info[_CACHE] = cached
    found: dict[tuple[Any, ...], Any] = cached[1]
    return found


def forget_found(session: Session) -> None:
    """After bulk deletes: nothing looked up before may be handed out again."""
    session.info.pop(_CACHE, None)


def _remember_person(session: Session, person: Person) -> None:
    """A person (loaded with their workspace) is known for the rest of the transaction."""
    cache = _found(session)
    workspace = person.workspace
    cache[("workspace", workspace.platform, workspace.external_id)] = workspace
    cache[("person", person.workspace_id, person.user_id)] = person


def _lock_id(key: str) -> int:
    """A PostgreSQL advisory lock id (signed 64 bits) for a completion key."""
    digest = hashlib.blake2b(f"dealcoach:completion:{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


class _Repo:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _insert_or_find(
        self, model: type[M], values: dict[str, Any], unique: list[str], find: Select[Any]
    ) -> M:
        """INSERT … ON CONFLICT DO NOTHING RETURNING the row; if a unique constraint says
        someone was first, theirs (get-or-create that is safe across processes, in one
        statement and without a savepoint)."""
        stmt = (
            _insert(self.session, model)
            .values(**values)
            .on_conflict_do_nothing(index_elements=unique)
            .returning(model)
        )
        made: M | None = self.session.scalars(stmt).one_or_none()
        if made is not None:
            return made
        existing: M = self.session.scalars(find).one()
        return existing

    def _add_or_find(self, obj: M, find: Select[M]) -> M:
        """Insert `obj` in a savepoint; if a unique constraint says someone was first, return
        theirs instead (get-or-create that is safe across processes)."""
        try:
            with self.session.begin_nested():
                self.session.add(obj)
        except IntegrityError:
            existing = self.session.scalars(find).one_or_none()
            if existing is None:
                raise
            return existing
        return obj


# --- workspaces and people ------------------------------------------------------------------


class WorkspaceRepo(_Repo):
    def get(self, workspace_id: int) -> Workspace | None:
        return self.session.get(Workspace, workspace_id)

    def find(self, platform: str, external_id: str) -> Workspace | None:
        key = ("workspace", platform, external_id)
        hit: Workspace | None = _found(self.session).get(key)
        if hit is not None:
            return hit
        found = self.session.scalars(
            select(Workspace).where(
                Workspace.platform == platform, Workspace.external_id == external_id
            )
        ).one_or_none()
        if found is not None:  # (the query began the transaction the cache is keyed on)
            _found(self.session)[key] = found
        return found

    def get_or_create(
        self,
        platform: str,
        external_id: str,
        *,
        name: str | None = None,
        default_locale: str | None = None,
        timezone: str | None = None,
    ) -> Workspace:
        found = self.find(platform, external_id)
        if found is None:
            found = self._insert_or_find(
                Workspace,
                {
                    "platform": platform,
                    "external_id": external_id,
                    "name": name,
                    "default_locale": default_locale or "en",
                    "timezone": timezone or "UTC",
                },
                ["platform", "external_id"],
                select(Workspace).where(
                    Workspace.platform == platform, Workspace.external_id == external_id
                ),
            )
            _found(self.session)[("workspace", platform, external_id)] = found
        if name and found.name != name:
            found.name = name
        return found

    def all(self) -> list[Workspace]:
        return list(self.session.scalars(select(Workspace).order_by(Workspace.id)))

    def only(self, platform: str | None = None) -> Workspace | None:
        """The single workspace known (optionally of one platform); None if none or several."""
        query = select(Workspace).order_by(Workspace.id).limit(2)
        if platform is not None:
            query = query.where(Workspace.platform == platform)
        found = list(self.session.scalars(query))
        return found[0] if len(found) == 1 else None


class PersonRepo(_Repo):
    def get(self, person_id: int) -> Person | None:
        return self.session.get(Person, person_id)

    def find(self, workspace_id: int, user_id: str) -> Person | None:
        key = ("person", workspace_id, user_id)
        hit: Person | None = _found(self.session).get(key)
        if hit is not None:
            return hit
        found = self.session.scalars(
            select(Person).where(Person.workspace_id == workspace_id, Person.user_id == user_id)
        ).one_or_none()
        if found is not None:
            _found(self.session)[key] = found
        return found

    def find_by_platform(self, platform: str, workspace: str, user_id: str) -> Person | None:
        """The person by the platform's ids (workspace external id and user id), with their
        workspace, in one statement; both are then known to `find` and `WorkspaceRepo.find`
        for the rest of the transaction."""
        cache = _found(self.session)
        known: Workspace | None = cache.get(("workspace", platform, workspace))
        if known is not None:
            hit: Person | None = cache.get(("person", known.id, user_id))
            if hit is not None:
                return hit
        found = self.session.scalars(
            select(Person)
            .join(Person.workspace)
            .options(contains_eager(Person.workspace))
            .where(
                Workspace.platform == platform,
                Workspace.external_id == workspace,
                Person.user_id == user_id,
            )
        ).one_or_none()
        if found is not None:
            _remember_person(self.session, found)
        return found

    def find_everywhere(self, user_id: str) -> list[Person]:
        """Everyone with this platform user id, in any workspace."""
        return list(
            self.session.scalars(
                select(Person).where(Person.user_id == user_id).order_by(Person.id)
            )
        )

    def get_or_create(
        self,
        workspace: Workspace,
        user_id: str,
        *,
        display_name: str | None = None,
        locale: str | None = None,
        timezone: str | None = None,
    ) -> Person:
        """The person; created on first sight. A display name or time zone the platform
        reports is kept up to date; `locale` only seeds a new person (their own choice,
        `set_locale`, wins afterwards)."""
        found = self.find(workspace.id, user_id)
        if found is None:
            found = self._insert_or_find(
                Person,
                {
                    "workspace_id": workspace.id,
                    "user_id": user_id,
                    "display_name": display_name,
                    "locale": locale,
                    "timezone": timezone,
                },
                ["workspace_id", "user_id"],
                select(Person).where(
                    Person.workspace_id == workspace.id, Person.user_id == user_id
                ),
            )
            _found(self.session)[("person", workspace.id, user_id)] = found
        if display_name and found.display_name != display_name:
            found.display_name = display_name
        if timezone and found.timezone != timezone:
            found.timezone = timezone
        return found

    def lock(self, person: Person) -> None:
        """Row-lock the person until the end of the transaction on PostgreSQL, so one
        person's concurrent requests (a burst of clicks) queue; SQLite transactions already
        hold the write lock (BEGIN IMMEDIATE), so nothing is sent there."""
        if not _is_postgres(self.session):
            return
        held = _found(self.session)
        if held.get(("locked person", person.id)):  # held until the transaction ends
            return
        self.session.execute(
            select(Person.id).where(Person.id == person.id).with_for_update()
        ).all()
        held[("locked person", person.id)] = True

    def set_locale(self, person: Person, locale: str | None) -> None:
        person.locale = locale

    def set_role(self, person: Person, role: str) -> None:
        person.role = role

    def set_nudges_paused(self, person: Person, paused: bool) -> None:
        person.nudges_paused = paused

    def set_conversation_ref(self, person: Person, reference: dict[str, Any] | None) -> None:
        person.teams_conversation_ref = reference

    def forget(self, people: Sequence[Person]) -> ForgetResult:
        """Delete these people and everything that is theirs (a privacy request)."""
        return forget_people(self.session, people)

    def service_url_in(self, workspace_id: int) -> str | None:
        """A Teams service URL someone's stored chat reference in this workspace (tenant)
        names: what opening a 1:1 chat with a person who never wrote to the bot needs."""
        refs = self.session.scalars(
            select(Person.teams_conversation_ref)
            .where(Person.workspace_id == workspace_id, Person.teams_conversation_ref.is_not(None))
            .order_by(Person.updated_at.desc())
            .limit(20)
        )
        for ref in refs:
            if isinstance(ref, dict) and ref.get("serviceUrl"):
                return str(ref["serviceUrl"])
        return None

    def in_workspace(self, workspace_id: int) -> list[Person]:
        return list(
            self.session.scalars(
                select(Person).where(Person.workspace_id == workspace_id).order_by(Person.id)
            )
        )


# --- teams ----------------------------------------------------------------------------------


class ReportingRepo(_Repo):
    def assign(self, manager: Person, member: Person) -> int | None:
        """Make `manager` the manager of `member` (a member has at most one manager: an
        earlier manager is replaced). Returns the previous manager's person id, if any.

        The manager may be in another workspace or on another platform (a manager in Slack
        with reps in Teams): the membership row belongs to the *member's* workspace, so the
        unique (workspace_id, member_id) still means one manager per member everywhere."""
        if manager.id == member.id:
            raise ValueError("a person cannot manage themselves")
        existing = self.session.scalars(
            select(TeamMembership).where(
                TeamMembership.workspace_id == member.workspace_id,
                TeamMembership.member_id == member.id,
            )
        ).one_or_none()
        if existing is not None:
            previous = existing.manager_id
            existing.manager_id = manager.id
            return previous if previous != manager.id else None
        added = self._add_or_find(
            TeamMembership(
                workspace_id=member.workspace_id, manager_id=manager.id, member_id=member.id
            ),
            select(TeamMembership).where(
                TeamMembership.workspace_id == member.workspace_id,
                TeamMembership.member_id == member.id,
            ),
        )
        if added.manager_id != manager.id:  # someone else assigned them at the same moment
            previous = added.manager_id
            added.manager_id = manager.id
            return previous
        return None

    def remove(self, member: Person, manager: Person | None = None) -> bool:
        """Remove `member` from their team (only from `manager`'s, if given)."""
        query = delete(TeamMembership).where(
            TeamMembership.workspace_id == member.workspace_id,
            TeamMembership.member_id == member.id,
        )
        if manager is not None:
            query = query.where(TeamMembership.manager_id == manager.id)
        result = self.session.execute(query)
        return bool(getattr(result, "rowcount", 0))

    def members(self, manager_id: int) -> list[Person]:
        return list(
            self.session.scalars(
                select(Person)
                .join(TeamMembership, TeamMembership.member_id == Person.id)
                .where(TeamMembership.manager_id == manager_id)
                .order_by(Person.display_name, Person.user_id)
            )
        )

    def member_ids(self, manager_id: int) -> list[int]:
        return list(
            self.session.scalars(
                select(TeamMembership.member_id).where(TeamMembership.manager_id == manager_id)
            )
        )

    def manager_of(self, member_id: int) -> Person | None:
        return self.session.scalars(
            select(Person)
            .join(TeamMembership, TeamMembership.manager_id == Person.id)
            .where(TeamMembership.member_id == member_id)
        ).one_or_none()

    def managers(self, workspace_id: int | None = None) -> list[Person]:
        """Everyone who manages at least one member."""
        query = (
            select(Person)
            .where(Person.id.in_(select(TeamMembership.manager_id).distinct()))
            .order_by(Person.id)
        )
        if workspace_id is not None:
            query = query.where(Person.workspace_id == workspace_id)
        return list(self.session.scalars(query))

    def memberships(self, workspace_id: int) -> list[tuple[Person, Person]]:
        """(manager, member) pairs with the member or the manager in this workspace (so a
        team spanning workspaces shows in both), grouped by manager."""
        manager = aliased(Person)
        member = aliased(Person)
        rows = self.session.execute(
            select(manager, member)
            .join(TeamMembership, TeamMembership.manager_id == manager.id)
            .join(member, TeamMembership.member_id == member.id)
            .where(
                (TeamMembership.workspace_id == workspace_id)
                | (manager.workspace_id == workspace_id)
            )
            .order_by(manager.user_id, member.user_id)
        ).all()
        return [(row[0], row[1]) for row in rows]


# --- deals ----------------------------------------------------------------------------------


class DealRepo(_Repo):
    def get(self, deal_id: int) -> Deal | None:
        return self.session.get(Deal, deal_id)

    def find(self, owner_id: int, name: str) -> Deal | None:
        # A miss is remembered too (only get_or_create adds deals, and it asks the database
        # with ON CONFLICT anyway).
        cache_key = ("deal", owner_id, deal_key(name))
        cache = _found(self.session)
        if cache_key in cache:
            hit: Deal | None = cache[cache_key]
            if hit is None or hit in self.session:
                return hit
        found = self.session.scalars(
            select(Deal).where(Deal.owner_id == owner_id, Deal.name_key == deal_key(name))
        ).one_or_none()
        _found(self.session)[cache_key] = found
        return found

    def get_or_create(self, owner: Person, name: str, *, probe: bool = True) -> Deal:
        """The owner's deal of this name (matched case-insensitively), created on first use.

        `probe=False` when the deal is as likely new as not (a review started by name):
        no SELECT first, but one upsert that returns the row either way."""
        key = deal_key(name)
        if not probe:
            return self._upsert(owner, name, key)
        found = self.find(owner.id, name)
        if found is not None:
            return found
        made = self._insert_or_find(
            Deal,
            {
                "workspace_id": owner.workspace_id,
                "owner_id": owner.id,
                "name": name.strip(),
                "name_key": key,
            },
            ["owner_id", "name_key"],
            select(Deal).where(Deal.owner_id == owner.id, Deal.name_key == key),
        )
        _found(self.session)[("deal", owner.id, key)] = made
        return made

    def _upsert(self, owner: Person, name: str, key: str) -> Deal:
        cached = _found(self.session).get(("deal", owner.id, key))
        if cached is not None and cached in self.session:
            return cast(Deal, cached)
        now = utcnow()
        params = {
            "workspace_id": owner.workspace_id,
            "owner_id": owner.id,
            "name": name.strip(),
            "name_key": key,
            "outcome": "open",
            "created_at": now,
            "updated_at": now,
        }
        deal: Deal = self.session.scalars(
            _deal_upsert(self.session.get_bind().dialect.name),
            params,
            execution_options={"populate_existing": True},
        ).one()
        _found(self.session)[("deal", owner.id, key)] = deal
        return deal

    def update_details(
        self,
        deal: Deal,
        *,
        account: str | None = None,
        value: float | None = None,
        stage: str | None = None,
    ) -> None:
        if account is not None:
            deal.account = account
        if value is not None:
            deal.value = value
        if stage is not None:
            deal.stage = stage

    def set_outcome(self, deal: Deal, outcome: str) -> None:
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {outcome!r}")
        deal.outcome = outcome

    def for_owner(self, owner_id: int) -> list[Deal]:
        return list(
            self.session.scalars(
                select(Deal).where(Deal.owner_id == owner_id).order_by(Deal.updated_at.desc())
            )
        )


# --- reviews --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportRow:
    """One completed review, flattened for `dealcoach export`."""

    review_id: int
    workspace_platform: str
    workspace_id: str
    workspace_name: str | None
    user_id: str
    display_name: str | None
    platform: str
    locale: str
    content_version: str | None
    started_at: datetime
    completed_at: datetime | None
    deal_name: str | None
    deal_account: str | None
    deal_value: float | None
    deal_stage: str | None
    deal_outcome: str | None
    quadrant: str | None
    recommendation: str | None
    flags: list[str]
    assessment: dict[str, Any]
    advice_text: str | None
    answers: dict[str, Any] = field(default_factory=dict)
    deal_id: int | None = None
    # why the deal was lost (issue 15): set on the deal's last completed review only
    outcome_reason: str | None = None
    outcome_reason_text: str | None = None


@dataclass(frozen=True)
class PruneResult:
    drafts: int
    answers: int
    oauth_states: int = 0  # expired Slack OAuth states (install links never finished)


def prune_oauth_states(session: Session) -> int:
    """Delete expired Slack OAuth states (`slack_oauth_states`): every anonymous
    `GET /slack/install` leaves one, and slack_sdk's store deletes only consumed ones."""
    table = slack_oauth_states
    # slack_sdk stores expire_at as naive UTC; compare the way its own store does.
    now = normalize_datetime_for_db(datetime.now(tz=UTC))
    result = session.execute(delete(table).where(table.c.expire_at < now))
    return int(getattr(result, "rowcount", 0) or 0)


_ANSWERS_UPSERT: dict[str, Any] = {}


def _answers_upsert(dialect: str) -> Any:
    stmt = _ANSWERS_UPSERT.get(dialect)
    if stmt is None:
        table: Any = Answer.__table__
        base: Any
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            base = pg_insert(table)
        else:
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            base = sqlite_insert(table)
        stmt = base.on_conflict_do_update(
            index_elements=[table.c.review_id, table.c.question_id],
            set_={"value": base.excluded.value, "answered_at": base.excluded.answered_at},
        )
        _ANSWERS_UPSERT[dialect] = stmt
    return stmt


# Made once: building an alias adapts every column, which cost more than the UPDATE it is in.
_OTHER_REVIEW = aliased(Review, name="other_review")


_DEAL_UPSERT: dict[str, Any] = {}


def _deal_upsert(dialect: str) -> Any:
    """INSERT a deal … ON CONFLICT (owner, name key) DO UPDATE with a no-op (so the existing
    row is returned too) RETURNING the deal; built once per dialect, values as parameters."""
    stmt = _DEAL_UPSERT.get(dialect)
    if stmt is None:
        from sqlalchemy.dialects import postgresql, sqlite

        base = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(Deal)
        stmt = _DEAL_UPSERT[dialect] = (
            base.values(
                {
                    c: bindparam(c)
                    for c in (
                        "workspace_id",
                        "owner_id",
                        "name",
                        "name_key",
                        "outcome",
                        "created_at",
                        "updated_at",
                    )
                }
            )
            .on_conflict_do_update(
                index_elements=["owner_id", "name_key"],
                set_={"name_key": base.excluded.name_key},
            )
            .returning(Deal)
        )
    return stmt


_ANSWERS_OF_REVIEW: dict[str, ColumnElement[Any]] = {}


def _answers_of_review(dialect: str) -> ColumnElement[Any]:
    """A review's answers as one JSON array of [question id, value], oldest first (as
    `ReviewRepo.answers` orders them), correlated to the review of the enclosing SELECT.
    Built once per dialect (it has no parameters of its own)."""
    made = _ANSWERS_OF_REVIEW.get(dialect)
    if made is None:
        made = _ANSWERS_OF_REVIEW[dialect] = _build_answers_of_review(dialect)
    return made


def _build_answers_of_review(dialect: str) -> ColumnElement[Any]:
    if dialect == "postgresql":
        pair = func.json_build_array(Answer.question_id, Answer.value)
        agg = func.json_agg(aggregate_order_by(pair, Answer.answered_at, Answer.id))
        found = select(agg).where(Answer.review_id == Review.id).correlate(Review)
    else:  # SQLite (before 3.44 no ORDER BY inside an aggregate: order a subquery)
        ordered = (
            select(Answer.question_id, Answer.value)
            .where(Answer.review_id == Review.id)
            .order_by(Answer.answered_at, Answer.id)
            .correlate(Review)
            .subquery("a")
        )
        pair = func.json_array(ordered.c.question_id, func.json(ordered.c.value))
        found = select(func.json_group_array(pair))
    return type_coerce(found.scalar_subquery(), JSON).label("answers")


class ReviewRepo(_Repo):
    def get(self, review_id: int) -> Review | None:
        """The review with its deal and its person (and their workspace), in one statement:
        no lazy load later, and the person is known to `PersonRepo.find_by_platform`."""
        review = self.session.get(
            Review, review_id, options=[joinedload(Review.deal), joinedload(Review.person)]
        )
        if review is not None:
            _remember_person(self.session, review.person)
        return review

    def get_for_update(self, review_id: int) -> Review | None:
        """`get`, the review row-locked until the end of the transaction on PostgreSQL
        (SQLite transactions already hold the write lock: BEGIN IMMEDIATE)."""
        review = self.session.scalars(
            select(Review)
            .options(joinedload(Review.deal), joinedload(Review.person))
            .where(Review.id == review_id)
            .with_for_update(of=Review)
            .execution_options(populate_existing=True)
        ).one_or_none()
        if review is not None:
            _remember_person(self.session, review.person)
        return review

    def get_for_update_with_answers(
        self, review_id: int
    ) -> tuple[Review, dict[str, Any]] | None:
        """`get_for_update` and `answers` in one statement (a submitted step reads both):
        one row, the answers aggregated into a JSON array of [question id, value] pairs in
        the order `answers` gives (one row for the ORM to load, not one per answer)."""
        row = self.session.execute(
            select(Review, _answers_of_review(self.session.get_bind().dialect.name))
            .options(joinedload(Review.deal), joinedload(Review.person))
            .where(Review.id == review_id)
            .with_for_update(of=Review)
            .execution_options(populate_existing=True)
        ).one_or_none()
        if row is None:
            return None
        review, pairs = row
        _remember_person(self.session, review.person)
        return review, {qid: value for qid, value in pairs or ()}

    def find_by_key(self, idempotency_key: str) -> Review | None:
        return self.session.scalars(
            select(Review).where(Review.idempotency_key == idempotency_key)
        ).one_or_none()

    def create_draft(
        self,
        person: Person,
        *,
        platform: str,
        locale: str,
        content_version: str | None = None,
        deal: Deal | None = None,
        reopened_from: Review | None = None,
    ) -> Review:
        now = utcnow()
        review = Review(
            workspace_id=person.workspace_id,
            person_id=person.id,
            deal_id=deal.id if deal is not None else None,
            platform=platform,
            status="draft",
            locale=locale,
            content_version=content_version,
            reopened_from_id=reopened_from.id if reopened_from is not None else None,
            started_at=now,
            updated_at=now,
        )
        self.session.add(review)
        self.session.flush()
        _found(self.session)[("new review", review.id)] = True
        return review

    def latest_draft(self, person_id: int) -> Review | None:
        return self.session.scalars(
            select(Review)
            .options(joinedload(Review.deal))
            .where(Review.person_id == person_id, Review.status == "draft")
            .order_by(Review.updated_at.desc(), Review.id.desc())
            .limit(1)
        ).one_or_none()

    def open_draft(self, person_id: int, deal_id: int | None) -> Review | None:
        """The person's most recently touched draft of this deal (of no deal yet: None)."""
        deal_match = Review.deal_id.is_(None) if deal_id is None else Review.deal_id == deal_id
        return self.session.scalars(
            select(Review)
            .options(joinedload(Review.deal))
            .where(Review.person_id == person_id, Review.status == "draft", deal_match)
            .order_by(Review.updated_at.desc(), Review.id.desc())
            .limit(1)
        ).one_or_none()

    def reopened_draft(self, review_id: int) -> Review | None:
        """The newest open draft that "Update review" made of review `review_id`, if any."""
        return self.session.scalars(
            select(Review)
            .where(Review.reopened_from_id == review_id, Review.status == "draft")
            .order_by(Review.id.desc())
            .limit(1)
        ).one_or_none()

    def touch(self, review: Review) -> None:
        """`updated_at` set to now: one UPDATE sent at once (cheaper than the ORM's flush of
        a changed attribute), the object told what it now holds."""
        stamp = utcnow()
        self.session.execute(
            update(Review)
            .where(Review.id == review.id)
            .values(updated_at=stamp)
            .execution_options(synchronize_session=False)
        )
        set_committed_value(review, "updated_at", stamp)

    def expire_drafts(self, person_id: int, keep: int) -> int:
        """Delete the person's drafts beyond the `keep` most recently touched (with their
        answers, and their deals when nothing else refers to them and no outcome was
        recorded). Returns how many drafts went."""
        stale = list(
            self.session.execute(
                select(Review.id, Review.deal_id)
                .where(Review.person_id == person_id, Review.status == "draft")
                .order_by(Review.updated_at.desc(), Review.id.desc())
                .offset(keep)
            )
        )
        if not stale:
            return 0
        ids = [row[0] for row in stale]
        deal_ids = {row[1] for row in stale if row[1] is not None}
        self.session.execute(
            delete(Answer)
            .where(Answer.review_id.in_(ids))
            .execution_options(synchronize_session=False)
        )
        self.session.execute(
            delete(Review).where(Review.id.in_(ids)).execution_options(synchronize_session=False)
        )
        if deal_ids:
            referenced = select(Review.id).where(Review.deal_id == Deal.id).exists()
            self.session.execute(
                delete(Deal)
                .where(Deal.id.in_(deal_ids), Deal.outcome == "open", ~referenced)
                .execution_options(synchronize_session=False)
            )
        self.session.expire_all()
        forget_found(self.session)
        return len(ids)

    def claim_share(self, review: Review) -> bool:
        """Mark the review shared; False if it already was (one share per review)."""
        result = self.session.execute(
            update(Review)
            .where(Review.id == review.id, Review.shared_at.is_(None))
            .values(shared_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        self.session.refresh(review)
        return bool(getattr(result, "rowcount", 0))

    def release_share(self, review: Review) -> None:
        """Undo `claim_share` (the message could not be delivered, so it may be tried again)."""
        self.session.execute(
            update(Review)
            .where(Review.id == review.id)
            .values(shared_at=None)
            .execution_options(synchronize_session=False)
        )
        self.session.refresh(review)

    def answers(self, review_id: int) -> dict[str, Any]:
        """Question id → value, in the order they were answered."""
        rows = self.session.execute(
            select(Answer.question_id, Answer.value)
            .where(Answer.review_id == review_id)
            .order_by(Answer.answered_at, Answer.id)
        ).all()
        return {qid: value for qid, value in rows}

    def save_answers(
        self, review: Review, answers: Mapping[str, Any], *, touch: bool = True
    ) -> None:
        """Upsert one row per question; answers not named here are kept as they are.
        `touch=False`: the caller sets the review's `updated_at` itself (a step that
        completes the review writes it with the completion, in the same UPDATE)."""
        if not answers:
            return
        now = utcnow()
        rows = [
            {"review_id": review.id, "question_id": qid, "value": value, "answered_at": now}
            for qid, value in answers.items()
        ]
        # One statement text whatever the number of answers (compiled once, then cached),
        # sent as one executemany.
        self.session.execute(_answers_upsert(self.session.get_bind().dialect.name), rows)
        if touch and not _found(self.session).get(("new review", review.id)):
            review.updated_at = now  # (a draft made in this transaction was touched just now)

    def delete_answers(self, review: Review, question_ids: Iterable[str]) -> int:
        ids = list(question_ids)
        if not ids:
            return 0
        result = self.session.execute(
            delete(Answer).where(Answer.review_id == review.id, Answer.question_id.in_(ids))
        )
        review.updated_at = utcnow()
        return int(getattr(result, "rowcount", 0) or 0)

    def attach_deal(self, review: Review, deal: Deal) -> None:
        review.deal_id = deal.id
        review.deal = deal

    def complete(
        self,
        review: Review,
        *,
        idempotency_key: str | None,
        quadrant: str,
        recommendation: str,
        flags: Sequence[str],
        assessment: Mapping[str, Any],
        advice: Mapping[str, Any] | None = None,
        advice_text: str | None = None,
        key_free: bool = False,
    ) -> bool:
        """Mark a draft completed with its assessment and advice. Returns False (and changes
        nothing) if it is no longer a draft, e.g. a second completion got here first.

        Call it on a review read with `get_for_update`; a clash on `idempotency_key` with
        another review raises IntegrityError (use `find_by_key` first), or with `key_free`
        the UPDATE itself checks that no other review has the key and returns False when
        one has (in one statement; on PostgreSQL a concurrent clash still raises).
        """
        now = utcnow()
        still_draft = [Review.id == review.id, Review.status == "draft"]
        if key_free and idempotency_key is not None:
            other = _OTHER_REVIEW
            still_draft.append(
                ~select(other.id)
                .where(other.idempotency_key == idempotency_key, other.id != review.id)
                .exists()
            )
        result = self.session.execute(
            update(Review)
            .where(*still_draft)
            .values(
                status="completed",
                idempotency_key=idempotency_key,
                quadrant=quadrant,
                recommendation=recommendation,
                completed_at=now,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        if not getattr(result, "rowcount", 0):
            return False
        unique_flags = list(dict.fromkeys(flags))
        # Core INSERTs: nothing here needs ORM objects, and the unit of work's flush of two
        # new kinds of object cost more than the statements.
        self.session.execute(
            insert(Assessment).values(
                review_id=review.id,
                quadrant=quadrant,
                recommendation=recommendation,
                flags=unique_flags,
                data=dict(assessment),
                advice=dict(advice) if advice is not None else None,
                advice_text=advice_text,
                created_at=now,
            )
        )
        if unique_flags:
            self.session.execute(
                insert(ReviewFlag), [{"review_id": review.id, "flag": f} for f in unique_flags]
            )
        if review.deal_id is not None:
            self.session.execute(
                update(Deal).where(Deal.id == review.deal_id).values(last_reviewed_at=now)
            )
        # What the UPDATE wrote, without reading the row back.
        for attr, value in (
            ("status", "completed"),
            ("idempotency_key", idempotency_key),
            ("quadrant", quadrant),
            ("recommendation", recommendation),
            ("completed_at", now),
            ("updated_at", now),
        ):
            set_committed_value(review, attr, value)
        return True

    def complete_once(
        self,
        review: Review,
        *,
        idempotency_key: str | None,
        quadrant: str,
        recommendation: str,
        flags: Sequence[str],
        assessment: Mapping[str, Any],
        advice: Mapping[str, Any] | None = None,
        advice_text: str | None = None,
    ) -> bool:
        """`complete` with `key_free`, safe when another review takes the key at the same
        moment. SQLite has one writer at a time (BEGIN IMMEDIATE), so nobody can take the key
        between the check and the write. On PostgreSQL, completions carrying the same key
        queue on a transaction-scoped advisory lock of the key, so the UPDATE's check (a
        fresh snapshot per statement under READ COMMITTED) sees a key another review took
        and committed meanwhile: one statement, where a savepoint around a unique-key clash
        took two (SAVEPOINT, RELEASE) on every completion.

        False: not completed here — no longer a draft, or the key is another review's
        (`get_for_update` tells which)."""
        fields: dict[str, Any] = {
            "idempotency_key": idempotency_key,
            "quadrant": quadrant,
            "recommendation": recommendation,
            "flags": flags,
            "assessment": assessment,
            "advice": advice,
            "advice_text": advice_text,
            "key_free": True,
        }
        if idempotency_key is not None and _is_postgres(self.session):
            self.session.execute(select(func.pg_advisory_xact_lock(_lock_id(idempotency_key))))
        return self.complete(review, **fields)

    def abandon(self, review: Review) -> bool:
        result = self.session.execute(
            update(Review)
            .where(Review.id == review.id, Review.status == "draft")
            .values(status="abandoned", updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        self.session.refresh(review)
        return bool(getattr(result, "rowcount", 0))

    def assessment(self, review_id: int) -> Assessment | None:
        return self.session.scalars(
            select(Assessment).where(Assessment.review_id == review_id)
        ).one_or_none()

    def flags(self, review_id: int) -> list[str]:
        return list(
            self.session.scalars(
                select(ReviewFlag.flag)
                .where(ReviewFlag.review_id == review_id)
                .order_by(ReviewFlag.flag)
            )
        )

    def deal_history(
        self, deal_id: int, *, exclude_review_id: int | None = None, limit: int = 5
    ) -> list[Review]:
        """Earlier completed reviews of the deal, newest first."""
        query = (
            select(Review)
            .where(Review.deal_id == deal_id, Review.status == "completed")
            .order_by(Review.completed_at.desc(), Review.id.desc())
            .limit(limit)
        )
        if exclude_review_id is not None:
            query = query.where(Review.id != exclude_review_id)
        return list(self.session.scalars(query))

    def for_person(
        self, person_id: int, *, status: str | None = None, limit: int = 20
    ) -> list[Review]:
        """A person's reviews (with their deals), most recently touched first."""
        query = (
            select(Review)
            .options(joinedload(Review.deal))
            .where(Review.person_id == person_id)
            .order_by(Review.updated_at.desc(), Review.id.desc())
            .limit(limit)
        )
        if status is not None:
            query = query.where(Review.status == status)
        return list(self.session.scalars(query))

    def prune_drafts(self, older_than: datetime) -> PruneResult:
        """Delete drafts (and their answers) last touched before `older_than`."""
        stale = select(Review.id).where(Review.status == "draft", Review.updated_at < older_than)
        answers = self.session.execute(
            delete(Answer)
            .where(Answer.review_id.in_(stale))
            .execution_options(synchronize_session=False)
        )
        drafts = self.session.execute(
            delete(Review)
            .where(Review.status == "draft", Review.updated_at < older_than)
            .execution_options(synchronize_session=False)
        )
        return PruneResult(
            drafts=int(getattr(drafts, "rowcount", 0) or 0),
            answers=int(getattr(answers, "rowcount", 0) or 0),
        )

    def iter_export(
        self, *, since: datetime | None = None, batch_size: int = 500
    ) -> Iterator[ExportRow]:
        """Every completed review (completed at or after `since`), oldest id first.

        Keyset pagination over plain rows (no ORM identity map): memory stays constant however
        many reviews there are, and no transaction or cursor is held open across batches'
        consumers longer than one batch query.
        """
        last_id = 0
        while True:
            query = (
                select(
                    Review.id,
                    Workspace.platform,
                    Workspace.external_id,
                    Workspace.name,
                    Person.user_id,
                    Person.display_name,
                    Review.platform,
                    Review.locale,
                    Review.content_version,
                    Review.started_at,
                    Review.completed_at,
                    Deal.name,
                    Deal.account,
                    Deal.value,
                    Deal.stage,
                    Deal.outcome,
                    Review.quadrant,
                    Review.recommendation,
                    Assessment.flags,
                    Assessment.data,
                    Assessment.advice_text,
                    Review.deal_id,
                    Review.outcome_reason,
                    Review.outcome_reason_text,
                )
                .join(Person, Person.id == Review.person_id)
                .join(Workspace, Workspace.id == Review.workspace_id)
                .outerjoin(Deal, Deal.id == Review.deal_id)
                .outerjoin(Assessment, Assessment.review_id == Review.id)
                .where(Review.status == "completed", Review.id > last_id)
                .order_by(Review.id)
                .limit(batch_size)
            )
            if since is not None:
                query = query.where(Review.completed_at >= since)
            rows = self.session.execute(query).all()
            if not rows:
                return
            ids = [row[0] for row in rows]
            answers: dict[int, dict[str, Any]] = {rid: {} for rid in ids}
            for rid, qid, value in self.session.execute(
                select(Answer.review_id, Answer.question_id, Answer.value)
                .where(Answer.review_id.in_(ids))
                .order_by(Answer.review_id, Answer.answered_at, Answer.id)
            ):
                answers[rid][qid] = value
            for row in rows:
                yield ExportRow(
                    review_id=row[0],
                    workspace_platform=row[1],
                    workspace_id=row[2],
                    workspace_name=row[3],
                    user_id=row[4],
                    display_name=row[5],
                    platform=row[6],
                    locale=row[7],
                    content_version=row[8],
                    started_at=row[9],
                    completed_at=row[10],
                    deal_name=row[11],
                    deal_account=row[12],
                    deal_value=row[13],
                    deal_stage=row[14],
                    deal_outcome=row[15],
                    quadrant=row[16],
                    recommendation=row[17],
                    flags=list(row[18] or []),
                    assessment=dict(row[19] or {}),
                    advice_text=row[20],
                    answers=answers[row[0]],
                    deal_id=row[21],
                    outcome_reason=row[22],
                    outcome_reason_text=row[23],
                )
            last_id = ids[-1]
            if len(rows) < batch_size:
                return

    def count(self, *, status: str | None = None) -> int:
        query = select(func.count()).select_from(Review)
        if status is not None:
            query = query.where(Review.status == status)
        return int(self.session.scalar(query) or 0)


# --- forgetting a person --------------------------------------------------------------------


@dataclass(frozen=True)
class ForgetResult:
    people: int
    reviews: int
    answers: int


def forget_people(session: Session, people: Sequence[Person]) -> ForgetResult:
    """Delete people with everything that is theirs: reviews, answers, assessments, deals,
    team memberships, digest runs and nudges (ON DELETE CASCADE, plus explicit deletes so the
    counts are exact and nothing depends on the cascade alone)."""
    ids = [p.id for p in people]
    if not ids:
        return ForgetResult(0, 0, 0)
    review_ids = select(Review.id).where(Review.person_id.in_(ids))
    answers = session.execute(
        delete(Answer)
        .where(Answer.review_id.in_(review_ids))
        .execution_options(synchronize_session=False)
    )
    session.execute(
        delete(ReviewFlag)
        .where(ReviewFlag.review_id.in_(review_ids))
        .execution_options(synchronize_session=False)
    )
    session.execute(
        delete(Assessment)
        .where(Assessment.review_id.in_(review_ids))
        .execution_options(synchronize_session=False)
    )
    # Reviews reopened from one of theirs (only theirs can be) lose the link first.
    session.execute(
        update(Review)
        .where(Review.reopened_from_id.in_(review_ids))
        .values(reopened_from_id=None)
        .execution_options(synchronize_session=False)
    )
    reviews = session.execute(
        delete(Review).where(Review.person_id.in_(ids)).execution_options(synchronize_session=False)
    )
    session.execute(
        delete(TeamMembership)
        .where((TeamMembership.member_id.in_(ids)) | (TeamMembership.manager_id.in_(ids)))
        .execution_options(synchronize_session=False)
    )
    session.execute(
        delete(NudgeLog)
        .where(NudgeLog.person_id.in_(ids))
        .execution_options(synchronize_session=False)
    )
    session.execute(
        delete(DigestRun)
        .where(DigestRun.manager_id.in_(ids))
        .execution_options(synchronize_session=False)
    )
    session.execute(
        delete(Deal).where(Deal.owner_id.in_(ids)).execution_options(synchronize_session=False)
    )
    deleted = session.execute(
        delete(Person).where(Person.id.in_(ids)).execution_options(synchronize_session=False)
    )
    session.expunge_all()
    forget_found(session)
    return ForgetResult(
        people=int(getattr(deleted, "rowcount", 0) or 0),
        reviews=int(getattr(reviews, "rowcount", 0) or 0),
        answers=int(getattr(answers, "rowcount", 0) or 0),
    )


# --- digests and nudges ---------------------------------------------------------------------
