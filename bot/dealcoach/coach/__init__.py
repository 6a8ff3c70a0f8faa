"""The coaching core: question bank, review state machine, assessment rules, advice.

Pure: reads `prompts/` at load time and nothing else (no database, no chat platform).
"""

from dealcoach.coach.advice import (
    AdviceModel,
    PreviousReview,
    RenderedAdvice,
    RenderedSection,
    build_advice,
    render_advice,
    render_text,
)
from dealcoach.coach.answers import (
    MAX_TEXT_LENGTH,
    Answers,
    AnswerValue,
    parse_number,
    validate_answer,
    validate_answers,
)
from dealcoach.coach.assessment import Assessment, Finding, assess
from dealcoach.coach.bank import LOCALES, Option, Question, QuestionBank, load_bank
from dealcoach.coach.machine import (
    Step,
    count_people,
    next_step,
    revisit_step,
    step_for_round,
)
from dealcoach.coach.markup import FLAVORS, Flavor, escape_slack, escape_teams, make_env

__all__ = [
    "FLAVORS",
    "LOCALES",
    "MAX_TEXT_LENGTH",
    "AdviceModel",
    "AnswerValue",
    "Answers",
    "Assessment",
    "Finding",
    "Flavor",
    "Option",
    "PreviousReview",
    "Question",
    "QuestionBank",
    "RenderedAdvice",
    "RenderedSection",
    "Step",
    "assess",
    "build_advice",
    "count_people",
    "escape_slack",
    "escape_teams",
    "load_bank",
    "make_env",
    "next_step",
    "parse_number",
    "render_advice",
    "render_text",
    "revisit_step",
    "step_for_round",
    "validate_answer",
    "validate_answers",
]
