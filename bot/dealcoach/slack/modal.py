"""The review modal's views (Block Kit), and reading answers back out of a submitted view.

Every input block's `block_id` is the question id (DESIGN.md, contract) and every input's
`action_id` is `value`, so `view.state.values[question_id]["value"]` is the answer. The
modal carries nothing but the review id in `private_metadata`; which step it shows is
decided again from the saved answers by the review service (`ReviewView.show`) for every
submission.

Follow-ups on the same page: an input whose answer decides a follow-up of the page it is on
(`benefit.margin`, `agenda.N.role`, `agenda.N.certainty`: the service's `followup_triggers`)
has `dispatch_action`, so Slack reports a pick at once (`block_actions`) and
`listeners/actions.on_choice` puts `settle_step`'s view in its place — the follow-ups that now
apply right after their trigger, those that no longer apply taken off — without the
database: what it needs besides the view's state is the review's language, which the step's
header carries in its `block_id` (`dealcoach_page|1|<locale>`, read by `page_locale`;
`private_metadata` stays the bare review id). On submit, a follow-up of the page that does
not apply to the page's own values is saved blank (`answers_from_state`, the service's
`page_answers`); one that applies but was not on the page (no dispatch: an outdated view, a
failed update) is asked in a follow-up step as before.

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

from dealcoach.coach.bank import LOCALES, load_bank
from dealcoach.coach.markup import escape_slack
from dealcoach.services.reviews import followup_triggers, page_answers, settle_page
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
# The review step's header `block_id`: `dealcoach_page|<format>|<locale>` (see page_locale).
PAGE_BLOCK = "dealcoach_page"
PAGE_FORMAT = "1"
# Question types whose input reports a change at once when it decides a follow-up (a select,
# checkboxes); a text field would report only on Enter, so its follow-ups come after submit.
DISPATCH_TYPES = ("choice", "multi_choice")

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
    triggers = followup_triggers(bank, [q.id for q in step.questions])
    blocks: list[JSON] = [
        {
            "type": "header",
            "block_id": page_block_id(locale),
            "text": plain(info.title, limits.HEADER_TEXT),
        },
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
        dispatch = question.id in triggers
        blocks.append(input_block(question, answers.get(question.id), note, dispatch=dispatch))
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


def page_block_id(locale: str) -> str:
    """The `block_id` of a review step's header: what the step's follow-up listener needs
    besides the view's state (the review's language), so it needs no database."""
    return f"{PAGE_BLOCK}|{PAGE_FORMAT}|{locale}"


def page_locale(view: Mapping[str, Any]) -> str | None:
    """The language a review step view was built in, from its header's `block_id`; None for
    any other view, or a `block_id` that is missing or not ours."""
    blocks = view.get("blocks")
    if not isinstance(blocks, list):
        return None
    for block in blocks:
        block_id = block.get("block_id") if isinstance(block, Mapping) else None
        if isinstance(block_id, str) and block_id.startswith(PAGE_BLOCK + "|"):
            parts = block_id.split("|")
            ok = len(parts) == 3 and parts[1] == PAGE_FORMAT and parts[2] in LOCALES
            return parts[2] if ok else None
    return None


def input_block(question: Any, value: Any, note: str, *, dispatch: bool = False) -> JSON:
    """An input block for one question; block_id = the question id (contract). `dispatch`:
    the answer decides a follow-up of the same page, so a select or checkboxes report a
    change at once (`dispatch_action`)."""
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
    if dispatch and question.type in DISPATCH_TYPES:
        block["dispatch_action"] = True
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
    """The answers {question id: value} to save from a submitted review step.

    Every input block of the view yields a key; an empty field gives None ("asked, left
    blank"), which the service stores so the question is not asked again. A follow-up the
    page decides whose condition does not hold for the page's values is None too (the
    service's `page_answers`: never saved as a contradiction, an earlier answer cleared).
    """
    raw = typed_answers(view)
    shown = input_ids(view)
    # The page's language when it says so; the bank's structure (ids, conditions) is the
    # same in every language, so an older view without it is read with the default's.
    bank = load_bank(page_locale(view) or LOCALES[0])
    if not shown or any(qid not in bank.questions for qid in shown):
        return raw
    return page_answers(bank, shown, raw)


def input_ids(view: Mapping[str, Any]) -> list[str]:
    """The `block_id`s of a view's input blocks, in order."""
    return [
        str(b["block_id"])
        for b in view.get("blocks") or []
        if isinstance(b, Mapping) and b.get("type") == "input" and b.get("block_id")
    ]


def typed_answers(view: Mapping[str, Any]) -> dict[str, Any]:
    """What is on screen {question id: value}, from a view's input blocks and
    `state.values`, as typed (an empty field: None)."""
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


# --- follow-ups settled on the page while it is filled in ---------------------------------------


def settle_step(view: Mapping[str, Any], values: Mapping[str, Any]) -> JSON | None:
    """A review step `view` (as Slack holds it, or as built) rebuilt for `values`, what is on
    screen: each follow-up the page decides is added right after its trigger when it now
    applies and taken off when it no longer does (the service's `settle_page`); every input
    prefilled from `values`; the header, sections, buttons, title, submit label and
    `private_metadata` as they were. Pure: no database.

    None when nothing changes, or when the view is not a review step this can read (no page
    `block_id`, an input that is not a question of the bank, too many blocks): then the view
    stays as it is, and a follow-up that applies is asked after the step is submitted."""
    if view.get("type") != "modal" or view.get("callback_id") != CALLBACK_REVIEW:
        return None
    locale = page_locale(view)
    if locale is None:
        return None
    blocks = [b for b in view.get("blocks") or [] if isinstance(b, Mapping)]
    bank = load_bank(locale)
    shown = input_ids(view)
    if not shown or any(qid not in bank.questions for qid in shown):
        return None
    settled = settle_page(bank, shown, values)
    if not settled.changed:
        return None
    order = settled.question_ids
    triggers = followup_triggers(bank, order)
    note = t(locale, "modal.truncated")

    def block_of(qid: str) -> JSON:
        return input_block(bank.questions[qid], values.get(qid), note, dispatch=qid in triggers)

    out: list[JSON] = []
    for block in blocks:
        qid = str(block.get("block_id") or "")
        if block.get("type") != "input":
            out.append(dict(block))
            continue
        if qid not in order:  # a follow-up that no longer applies
            continue
        out.append(block_of(qid))
        at = order.index(qid) + 1
        while at < len(order) and order[at] in settled.added:  # its new follow-ups
            out.append(block_of(order[at]))
            at += 1
    if len(out) > limits.VIEW_BLOCKS:
        return None
    rebuilt: JSON = {"type": "modal"}
    for key in ("callback_id", "title", "close", "submit", "private_metadata"):
        if key in view:
            rebuilt[key] = view[key]
    rebuilt["blocks"] = out
    return rebuilt
