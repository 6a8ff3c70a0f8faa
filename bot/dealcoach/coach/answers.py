"""Answers: validation and normalisation of raw input against the question bank.

`Answers` maps question id → value. A key present with `None` means "asked, left blank", so
the machine does not ask it again. Text is stripped and capped, NUL bytes are refused,
numbers accept the ways people type them ("12000", "12,000", "12.000", "12.5k", "€ 1,2m"),
choices accept the option value (any case) and YAML's yes/no booleans.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping
from typing import Any

from dealcoach.coach.bank import Question, QuestionBank
from dealcoach.errors import InputError, InvalidAnswer, InvalidAnswers

AnswerValue = str | float | list[str] | None
Answers = dict[str, AnswerValue]

MAX_TEXT_LENGTH = 2000
"""The hard cap on any text answer (a question may set a lower one)."""


def validate_answers(
    bank: QuestionBank, raw: Mapping[str, Any], *, require_complete: bool = False
) -> Answers:
    """Check and normalise `raw`; raise InvalidAnswer (one bad field) or InvalidAnswers.

    With `require_complete`, required questions (deal.name) must be present and non-blank;
    without it, a required question may be absent (not asked yet) but not blank.
    """
    if not isinstance(raw, Mapping):
        raise InputError("answers must be a mapping of question id to answer")
    errors: dict[str, str] = {}
    out: Answers = {}
    for key, value in raw.items():
        if not isinstance(key, str):
            errors[str(key)] = "question ids are text, like deal.name"
            continue
        qid = key.strip()
        question = bank.questions.get(qid)
        if question is None:
            errors[qid] = unknown_id_message(bank, qid)
            continue
        try:
            out[qid] = validate_answer(question, value)
        except InvalidAnswer as exc:
            errors[qid] = exc.reason
    for question in bank.questions.values():
        if not question.required or question.id in errors:
            continue
        if question.id in out:
            if out[question.id] is None:
                errors[question.id] = "is required and cannot be blank"
        elif require_complete:
            errors[question.id] = "is required but missing"
    if len(errors) == 1:
        ((qid, message),) = errors.items()
        raise InvalidAnswer(qid, message)
    if errors:
        raise InvalidAnswers(errors)
    return out


def unknown_id_message(bank: QuestionBank, qid: str) -> str:
    message = "unknown question id"
    person = re.match(r"agenda\.(\d+)\.", qid)
    if person and not 1 <= int(person.group(1)) <= bank.max_people:
        return f"{message} (decision-makers are agenda.1 to agenda.{bank.max_people})"
    close = difflib.get_close_matches(qid, list(bank.questions), n=1, cutoff=0.75)
    if close:
        return f"{message} (did you mean {close[0]}?)"
    return message


def validate_answer(question: Question, value: Any) -> AnswerValue:
    """One answer for one question, normalised; raises InvalidAnswer naming the id."""
    try:
        if question.type == "text":
            return _text(question, value)
        if question.type == "number":
            return _number(value)
        if question.type == "choice":
            return _choice(question, value)
        return _multi(question, value)
    except ValueError as exc:
        raise InvalidAnswer(question.id, str(exc)) from None


def _check_text(value: str, limit: int) -> str:
    if "\x00" in value:
        raise ValueError("contains a NUL byte, which is not allowed")
    if len(value) > limit:
        raise ValueError(f"is {len(value)} characters long; at most {limit} are allowed")
    return value


def _text(question: Question, value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"expected text, got {_describe(value)}")
    text = str(value) if not isinstance(value, str) else value
    text = _check_text(text, min(question.max_length, MAX_TEXT_LENGTH)).strip()
    return text or None


_SUFFIX = {"k": 1e3, "m": 1e6, "mln": 1e6, "bn": 1e9, "mrd": 1e9}
_NUMBER_CHARS = re.compile(r"^[0-9.,]+$")
_GROUPED = re.compile(r"^\d{1,3}([.,])\d{3}(\1\d{3})*$")


def parse_number(text: str) -> float:
    """'12000', '12,000', '12.000', '12.5k', '12,5k', '€ 1.2m', '3 500' → float ≥ 0."""
    raw = text
    text = text.strip().lower().replace("\u00a0", "").replace(" ", "").replace("_", "")
    text = text.lstrip("€$£").rstrip("€$£")
    for currency in ("eur", "usd", "gbp"):
        text = text.removeprefix(currency).removesuffix(currency)
    factor = 1.0
    for suffix, mult in sorted(_SUFFIX.items(), key=lambda kv: -len(kv[0])):
        if text.endswith(suffix):
            text, factor = text[: -len(suffix)], mult
            break
    if text.startswith("-"):
        raise ValueError(f"must be 0 or more, got {raw.strip()!r}")
    if not text or not _NUMBER_CHARS.match(text):
        raise ValueError(f"expected a number like 12000, 12,000 or 12.5k, got {raw.strip()!r}")
    if _GROUPED.match(text):  # 12,000 / 12.000 / 1,234,567: thousands separators
        number = text.replace(",", "").replace(".", "")
    elif "," in text and "." in text:  # the last one is the decimal separator
        if text.rfind(",") > text.rfind("."):
            number = text.replace(".", "").replace(",", ".")
        else:
            number = text.replace(",", "")
    else:
        number = text.replace(",", ".")
    try:
        result = float(number) * factor
    except ValueError:
        raise ValueError(
            f"expected a number like 12000, 12,000 or 12.5k, got {raw.strip()!r}"
        ) from None
    return result


def _number(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {_describe(value)}")
    if isinstance(value, int | float):
        result = float(value)
    elif isinstance(value, str):
        _check_text(value, 100)
        if not value.strip():
            return None
        result = parse_number(value)
    else:
        raise ValueError(f"expected a number, got {_describe(value)}")
    if math.isnan(result) or math.isinf(result):
        raise ValueError("expected a finite number")
    if result < 0:
        raise ValueError(f"must be 0 or more, got {value!r}")
    return result


def _option(question: Question, value: Any) -> str:
    allowed = question.option_values
    if isinstance(value, bool) and ("yes" in allowed or "no" in allowed):
        value = "yes" if value else "no"  # YAML 1.1 reads a bare yes/no as a boolean
    if not isinstance(value, str):
        raise ValueError(f"expected one of {', '.join(allowed)}, got {_describe(value)}")
    _check_text(value, 200)
    key = value.strip().lower().replace(" ", "_").replace("-", "_")
    if key in allowed:
        return key
    for option in question.options:  # the label also works ("Below cost")
        if option.label.strip().lower() == value.strip().lower():
            return option.value
    shown = value if len(value) <= 40 else value[:37] + "..."
    raise ValueError(f"{shown!r} is not allowed; choose one of {', '.join(allowed)}")


def _choice(question: Question, value: Any) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return _option(question, value)


def _multi(question: Question, value: Any) -> list[str] | None:
    if value is None:
        return None
    items: list[Any]
    if isinstance(value, str):
        _check_text(value, MAX_TEXT_LENGTH)
        items = [part for part in re.split(r"[,;\n]", value) if part.strip()]
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        allowed = ", ".join(question.option_values)
        raise ValueError(f"expected a list drawn from {allowed}, got {_describe(value)}")
    out: list[str] = []
    for item in items:
        option = _option(question, item)
        if option not in out:
            out.append(option)
    return out


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"{str(value).lower()} (a yes/no)"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, str):
        return f"{value[:40]!r}"
    return f"{value!r}"[:40]
