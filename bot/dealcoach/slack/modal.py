"""The review modal's views (Block Kit), and reading answers back out of a submitted view.

Every input block's `block_id` is the question id (DESIGN.md, contract) and every input's
`action_id` is `value`, so `view.state.values[question_id]["value"]` is the answer. The
modal carries nothing but the review id in `private_metadata`; which step it shows is
decided again from the saved answers by the review service (`ReviewView.show`) for every
submission.

Six decision-makers (issue 15) fit one view without paging: the agenda step shows a person
as a divider, their name and at most 12 inputs (who, role, interests, the other interest,
certainty, translation, new in role, competitor relationship, stance, and the follow-ups
discovery plan, champion access, champion sells), so six people with every follow-up are
6 × 14 + header, intro, *Add a decision-maker* and the step line = 88 blocks, under the
100 a view holds (87 measured: the button is gone at six). People are added one at a time
with *Add a decision-maker* (the service's `add_person`), so a smaller committee shows a
smaller step. `fit_blocks` would cut with a visible note rather than fail, but
tests/slack/test_six_people.py holds that nothing is cut, and that the advice for six
people with its *Add to plan* buttons stays under the 50 blocks of a message (about 25).
The agenda has a page of its own (the bank refuses `pages:` that put it with another round),
so a page of several rounds is a short one: the mutual-benefit page with the warning
signals' section is at most 8 inputs and 6 other blocks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from dealcoach.coach.markup import escape_slack
from dealcoach.slack import limits
from dealcoach.slack.strings import t

CALLBACK_REVIEW = "dealcoach_review"
CALLBACK_RESUME = "dealcoach_resume"
CALLBACK_LOADING = "dealcoach_loading"
ACTION_VALUE = "value"
ACTION_ADD_PERSON = "add_person"
ACTION_RESUME = "resume_review"
ACTION_START_NEW = "start_new_review"
BLOCK_ACTIONS = "dealcoach_actions"

JSON = dict[str, Any]


def plain(text: str, limit: int) -> JSON:
    return {"type": "plain_text", "text": limits.clip(text, limit) or " ", "emoji": True}


def mrkdwn(text: str, limit: int = limits.SECTION_TEXT, note: str = "") -> JSON:
    return {"type": "mrkdwn", "text": limits.clip(text, limit, note) or " "}


def _modal(
    locale: str,
    callback_id: str,
    blocks: list[JSON],
    *,
    review_id: str | None = None,
    submit: str | None = None,
) -> JSON:
    view: JSON = {
        "type": "modal",
        "callback_id": callback_id,
        "title": plain(t(locale, "modal.title"), limits.TITLE_TEXT),
        "close": plain(t(locale, "modal.cancel"), limits.TITLE_TEXT),
        "blocks": limits.fit_blocks(blocks, limits.VIEW_BLOCKS, t(locale, "modal.truncated")),
    }
    if submit is not None:
        view["submit"] = plain(submit, limits.TITLE_TEXT)
    if review_id is not None:
        view["private_metadata"] = review_id[: limits.PRIVATE_METADATA]
    return view


def loading_view(locale: str) -> JSON:
    """Opened at once with the command's trigger_id; replaced as soon as the review is ready."""
    return _modal(
        locale, CALLBACK_LOADING, [{"type": "section", "text": mrkdwn(t(locale, "modal.loading"))}]
    )


def saving_view(locale: str, review_id: str) -> JSON:
    """The reply to a step whose saving takes longer than Slack waits (3 s): acknowledged
    in time with this, then replaced by `views.update` with the next step (no submit
    button, so nothing is submitted twice meanwhile)."""
    text = t(locale, "modal.saving")
    return _modal(
        locale, CALLBACK_LOADING, [{"type": "section", "text": mrkdwn(text)}], review_id=review_id
    )


def done_view(locale: str, review_id: str) -> JSON:
    """After a late completion: the modal cannot be closed by the app any more, so it says
    the review is done (the advice arrives as a DM)."""
    text = t(locale, "modal.done", review=review_id)
    return _modal(
        locale,
        CALLBACK_LOADING,
        [{"type": "section", "text": mrkdwn(f"\u2705 {text}")}],
        review_id=review_id,
    )


def message_view(locale: str, text: str) -> JSON:
    """A modal that only says something (e.g. an error while opening a review)."""
    return _modal(locale, CALLBACK_LOADING, [{"type": "section", "text": mrkdwn(text)}])


def resume_view(
    locale: str, review_id: str, deal_name: str | None, started: str, new_deal_name: str | None
) -> JSON:
    """Offer to pick up an open draft, or to start a new review (of `new_deal_name`)."""
    deal = escape_slack(deal_name) if deal_name else t(locale, "resume.unnamed")
    text = t(locale, "resume.text", deal=deal, when=started)
    new_value = (new_deal_name or "")[: limits.BUTTON_VALUE]
    blocks: list[JSON] = [
        {"type": "section", "text": mrkdwn(text, note=t(locale, "modal.truncated"))},
        {
            "type": "actions",
            "block_id": BLOCK_ACTIONS,
            "elements": [
                {
                    "type": "button",
                    "action_id": ACTION_RESUME,
                    "style": "primary",
                    "text": plain(t(locale, "resume.resume"), limits.BUTTON_TEXT),
                    "value": review_id,
                },
                {
                    "type": "button",
                    "action_id": ACTION_START_NEW,
                    "text": plain(t(locale, "resume.new"), limits.BUTTON_TEXT),
                    "value": new_value,
                },
            ],
        },
    ]
    return _modal(locale, CALLBACK_RESUME, blocks, review_id=review_id)


def step_view(
    *,
    locale: str,
    bank: Any,
    step: Any,
    review_id: str,
    answers: Mapping[str, Any],
    step_number: int,
    last: bool,
) -> JSON:
    """One step of the review: the step's questions as inputs, prefilled from `answers`.

    A page may show more than one round (`QuestionBank.pages`): the view's header and the
    "Step n · round" line name the page's first round (`step.round`); a question of another
    round starts that round's section (title and intro) inside the page."""
    note = t(locale, "modal.truncated")
    info = bank.round_info(step.round)
    round_title = t(locale, f"round.{step.round}")
    blocks: list[JSON] = [
        {"type": "header", "text": plain(info.title, limits.HEADER_TEXT)},
    ]
    if info.intro and not getattr(step, "is_followup", False):
        blocks.append(
            {
                "type": "context",
                "elements": [mrkdwn(escape_slack(info.intro), limits.CONTEXT_TEXT, note)],
            }
        )
    current_person: int | None = None
    current_round = step.round
    for question in step.questions:
        if question.round != current_round:  # a page's next round: its own section
            current_round, current_person = question.round, None
            blocks.extend(_round_section(bank.round_info(question.round), step, note))
        person = getattr(question, "person", None)
        if person is not None and person != current_person:
            current_person = person
            blocks.append({"type": "divider"})
            blocks.append(
                {
                    "type": "section",
                    "text": mrkdwn("*" + escape_slack(bank.person_label(person)) + "*"),
                }
            )
        blocks.append(input_block(question, answers.get(question.id), note))
    if getattr(step, "can_add_person", False):
        blocks.append(
            {
                "type": "actions",
                "block_id": BLOCK_ACTIONS,
                "elements": [
                    {
                        "type": "button",
                        "action_id": ACTION_ADD_PERSON,
                        "text": plain(t(locale, "modal.add_person"), limits.BUTTON_TEXT),
                        "value": review_id,
                    }
                ],
            }
        )
    blocks.append(
        {
            "type": "context",
            "elements": [
                mrkdwn(
                    t(locale, "modal.step", n=step_number, round=round_title)
                    + " · "
                    + t(locale, "modal.saved"),
                    limits.CONTEXT_TEXT,
                ),
            ],
        }
    )
    submit = t(locale, "modal.finish" if last else "modal.next")
    return _modal(locale, CALLBACK_REVIEW, blocks, review_id=review_id, submit=submit)


def _round_section(info: Any, step: Any, note: str) -> list[JSON]:
    """The header of a round that shares a page with the one before it (e.g. the warning
    signals closing the mutual-benefit page): a divider, its title in bold and its intro."""
    blocks: list[JSON] = [
        {"type": "divider"},
        {"type": "section", "text": mrkdwn("*" + escape_slack(info.title) + "*")},
    ]
    if info.intro and not getattr(step, "is_followup", False):
        blocks.append(
            {
                "type": "context",
                "elements": [mrkdwn(escape_slack(info.intro), limits.CONTEXT_TEXT, note)],
            }
        )
    return blocks


def input_block(question: Any, value: Any, note: str) -> JSON:
    """An input block for one question; block_id = the question id (contract)."""
    element: JSON
    if question.type in ("text", "number"):
        # Numbers are typed as text: the bank accepts '12,000' and '12.5k', which Slack's
        # number_input would refuse; the service validates and we answer with field errors.
        max_len = min(
            int(getattr(question, "max_length", 0) or limits.PLAIN_INPUT_MAX),
            limits.PLAIN_INPUT_MAX,
        )
        element = {
            "type": "plain_text_input",
            "action_id": ACTION_VALUE,
            "max_length": max_len,
            "multiline": question.type == "text" and max_len > 200,
        }
        if value not in (None, ""):
            text = _number_text(value) if isinstance(value, int | float) else str(value)
            element["initial_value"] = text[:max_len]
    elif question.type == "choice":
        options = [_option(o) for o in question.options][:100]
        element = {"type": "static_select", "action_id": ACTION_VALUE, "options": options}
        chosen = _find(options, [value])
        if chosen:
            element["initial_option"] = chosen[0]
    else:  # multi_choice
        options = [_option(o) for o in question.options][:100]
        kind = "checkboxes" if len(options) <= 10 else "multi_static_select"
        element = {"type": kind, "action_id": ACTION_VALUE, "options": options}
        chosen = _find(options, value if isinstance(value, list) else [])
        if chosen:
            element["initial_options"] = chosen
    block: JSON = {
        "type": "input",
        "block_id": question.id,
        "label": plain(question.label, limits.LABEL_TEXT),
        "element": element,
        "optional": not question.required,
    }
    if question.help:
        block["hint"] = plain(question.help, limits.HINT_TEXT)
    return block


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _option(option: Any) -> JSON:
    return {
        "text": plain(option.label, limits.OPTION_TEXT),
        "value": str(option.value)[: limits.OPTION_VALUE],
    }


def _find(options: list[JSON], values: Iterable[Any]) -> list[JSON]:
    wanted = [str(v) for v in values if v is not None]
    return [o for o in options if o["value"] in wanted]


# --- reading a submitted view ------------------------------------------------------------------


def answers_from_state(view: Mapping[str, Any]) -> dict[str, Any]:
    """Raw answers {question id: value} from a view's input blocks and `state.values`.

    Every input block of the view yields a key; an empty field gives None ("asked, left
    blank"), which the service stores so the question is not asked again.
    """
    values = ((view.get("state") or {}).get("values")) or {}
    raw: dict[str, Any] = {}
    for block in view.get("blocks") or []:
        if block.get("type") != "input" or not block.get("block_id"):
            continue
        block_id = block["block_id"]
        state = (values.get(block_id) or {}).get(ACTION_VALUE) or {}
        raw[block_id] = _state_value(state)
    return raw


def _state_value(state: Mapping[str, Any]) -> Any:
    kind = state.get("type")
    if kind in ("static_select", "radio_buttons"):
        option = state.get("selected_option")
        return option.get("value") if option else None
    if kind in ("multi_static_select", "checkboxes"):
        options = state.get("selected_options") or []
        return [o.get("value") for o in options] or None
    value = state.get("value")
    if isinstance(value, str) and not value.strip():
        return None
    return value


def people_shown(view: Mapping[str, Any]) -> int:
    """How many decision-makers a view shows (from its `agenda.N.*` block ids); 0 if none."""
    shown = 0
    for block in view.get("blocks") or []:
        parts = str(block.get("block_id") or "").split(".")
        if len(parts) >= 3 and parts[0] == "agenda" and parts[1].isdigit():
            shown = max(shown, int(parts[1]))
    return shown
