"""One exception hierarchy for dealcoach.

Every error a user can cause or meet derives from `DealcoachError` and carries a short,
user-facing message (`str(err)`). Adapters turn these into a one-line reply (CLI: stderr and
an exit status; Slack/Teams: a short message); anything else is a bug and is logged.
"""

from __future__ import annotations


class DealcoachError(Exception):
    """Base class. `str(err)` is safe to show to the user; `exit_code` is for the CLI."""

    exit_code: int = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigError(DealcoachError):
    """Missing or placeholder setting; raised at start-up."""

    exit_code = 2


class ContentError(DealcoachError):
    """A broken prompts file (question bank or template); names the file and the id."""

    exit_code = 2

    def __init__(self, path: str, message: str, item_id: str | None = None) -> None:
        where = f"{path}: {item_id}: " if item_id else f"{path}: "
        super().__init__(where + message)
        self.path = path
        self.item_id = item_id


class InputError(DealcoachError):
    """Bad input from a user (answers file, CLI option, form field)."""

    exit_code = 2


class InvalidAnswer(InputError):
    """An answer that does not fit its question; names the question id and what is allowed."""

    def __init__(self, question_id: str, message: str) -> None:
        super().__init__(f"{question_id}: {message}")
        self.question_id = question_id
        self.reason = message


class NotFound(DealcoachError):
    """An unknown id (review, person, deal, week)."""

    exit_code = 2


class Forbidden(DealcoachError):
    """The actor may not see or touch this (someone else's review, a colleague's team)."""

    exit_code = 2


class Conflict(DealcoachError):
    """The request clashes with the current state (e.g. editing a completed review)."""

    exit_code = 2


class AlreadyShared(Conflict):
    """The review was already shared with the manager (a share is sent once)."""

    key = "share.already"


class StoreUnavailable(DealcoachError):
    """The database cannot be reached right now; the request can be retried."""

    exit_code = 3


class DeliveryError(DealcoachError):
    """A message could not be delivered to a chat platform (after retries)."""

    exit_code = 3


class InvalidAnswers(InputError):
    """Several fields of one form are wrong at once (a modal step, an Adaptive Card).

    `errors` maps question id → message, so Slack can answer `response_action: errors` and
    Teams can show them on the card.
    """

    def __init__(self, errors: dict[str, str]) -> None:
        first = next(iter(errors.items()), ("?", "invalid"))
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(f"{first[0]}: {first[1]}{more}")
        self.errors = dict(errors)
