"""What the bot does on each Teams turn: text commands in a personal chat, card actions
(`Action.Execute` invokes and legacy `Action.Submit` messages), install greetings.

Data flows one way: activity → `Actor` + raw answers → review service → card. No coaching
logic and no SQL here; the step to show comes from the service's view (the coach's machine).
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from microsoft_agents.activity import Activity, ActivityTypes, ConversationReference
from microsoft_agents.hosting.core import AgentApplication, TurnContext, TurnState

from dealcoach.coach.advice import render_advice
from dealcoach.coach.bank import load_bank
from dealcoach.coach.machine import next_step, revisit_step
from dealcoach.coach.markup import escape_teams
from dealcoach.config import Settings
from dealcoach.errors import (
    Conflict,
    DealcoachError,
    DeliveryError,
    Forbidden,
    InputError,
    InvalidAnswer,
    InvalidAnswers,
)
from dealcoach.services.actors import Actor
from dealcoach.teams import cards, coaching, commands, manager
from dealcoach.teams import crm as crm_link
from dealcoach.teams.advice import advice_card
from dealcoach.teams.strings import t

if TYPE_CHECKING:
    from dealcoach.teams.runtime import TeamsRuntime

log = logging.getLogger("dealcoach.teams")

INVOKE_ACTION = "adaptiveCard/action"
MESSAGE_TYPE = "application/vnd.microsoft.activity.message"
ERROR_TYPE = "application/vnd.microsoft.error"
_QID = re.compile(r"^[a-z_]+(\.[0-9a-z_]+){1,3}$")
_LOCALES = ("en", "nl")


class BadCard(InputError):
    """A card payload that did not come from one of our cards (or was tampered with)."""


@dataclass
class Reply:
    """The outcome of a card action: a card to show in place, a short message, or both
    (`new_card`: posted as a new message instead of replacing the clicked card)."""

    card: dict[str, Any] | None = None
    message: str | None = None
    new_card: dict[str, Any] | None = None


class TeamsBot:
    def __init__(self, settings: Settings, services: Any) -> None:
        self.settings = settings
        self.services = services
        self.runtime: TeamsRuntime | None = None
        self.managers = manager.ManagerCommands(services)
        self.crm = crm_link.TeamsCrm(self)  # CRM link (issue 17)
        self.coaching = coaching.CoachingCards(self)  # Open review, notes, prep (issue 16)

    @property
    def reviews(self) -> Any:
        return getattr(self.services, "async_reviews", None) or self.services.reviews

    @property
    def people(self) -> Any:
        return getattr(self.services, "async_people", None) or self.services.people

    @property
    def default_locale(self) -> str:
        return self.settings.dealcoach_lang

    # --- routes -------------------------------------------------------------------------

    def register(self, app: AgentApplication[TurnState]) -> None:
        app.activity(ActivityTypes.conversation_update)(self.on_conversation_update)
        app.activity(ActivityTypes.installation_update)(self.on_conversation_update)
        app.invoke(INVOKE_ACTION)(self.on_card_invoke)
        app.message(None)(self.on_message)
        app.error(self.on_app_error)

    # --- who is asking --------------------------------------------------------------------

    def actor(self, activity: Activity) -> Actor:
        user = activity.from_property
        if user is None or not (user.aad_object_id or user.id):
            raise BadCard("the activity names no user")
        tenant = None
        if activity.conversation is not None:
            tenant = activity.conversation.tenant_id
        if not tenant and isinstance(activity.channel_data, dict):
            tenant = (activity.channel_data.get("tenant") or {}).get("id")
        user_id = user.aad_object_id or user.id
        locale = (activity.locale or "")[:2].lower() or None
        return Actor(
            platform="teams",
            workspace_id=tenant or "default",
            user_id=str(user_id),
            display_name=user.name,
            locale=locale if locale in _LOCALES else None,
            is_admin=str(user_id) in self.settings.dealcoach_admins
            or str(user.id) in self.settings.dealcoach_admins,
        )

    async def remember(self, context: TurnContext, actor: Actor) -> str:
        """Store the chat's conversation reference (personal chats only); the user's locale."""
        activity = context.activity
        reference: dict[str, Any] | None = None
        conversation = activity.conversation
        personal = conversation is not None and (
            conversation.conversation_type in (None, "personal") and not conversation.is_group
        )
        if personal and activity.service_url:
            ref: ConversationReference = activity.get_conversation_reference()
            ref.activity_id = None
            reference = ref.model_dump(mode="json", by_alias=True, exclude_none=True)
        # An anonymous request (TEAMS_ALLOW_ANONYMOUS, local testing) proves nothing about
        # where the person's chat is: it may store a first reference, never replace one.
        identity = context.identity
        anonymous = identity is None or identity.allow_anonymous
        locale: str = await self.people.remember_conversation(actor, reference,
                                                              keep_stored=anonymous)
        await self.crm.prepare(actor)  # this tenant's CRM, for the cards of this turn
        return locale

    # --- handlers -------------------------------------------------------------------------

    async def on_conversation_update(self, context: TurnContext, state: TurnState) -> None:
        activity = context.activity
        added = activity.members_added or []
        bot_id = activity.recipient.id if activity.recipient else None
        installed = activity.type == ActivityTypes.installation_update and (
            activity.action or "add"
        ).startswith("add")
        if not installed and not any(m.id == bot_id for m in added):
            return
        if activity.from_property is None:
            return
        actor = self.actor(activity)
        locale = await self.remember(context, actor)
        # Teams sends installationUpdate *and* conversationUpdate on a personal install (and
        # again on a reinstall): greet once per chat, a fact kept in the database.
        conversation = activity.conversation.id if activity.conversation else None
        if conversation and not await self.services.async_conversations.first_greeting(
            "teams", conversation
        ):
            return
        await context.send_activity(t(locale, "welcome"))

    async def on_message(self, context: TurnContext, state: TurnState) -> None:
        activity = context.activity
        if isinstance(activity.value, dict) and not (activity.text or "").strip():
            await self._legacy_submit(context, activity.value)
            return
        actor = self.actor(activity)
        locale = await self.remember(context, actor)
        try:
            if crm_link.is_command(activity.text):  # crm connect|disconnect|save (issue 17)
                reply = await self.crm.command(actor, locale, activity.text or "")
                await context.send_activity(reply)
                return
            command = commands.parse(manager.expand_mentions(activity))
            await self._command(context, actor, locale, command)
        except DealcoachError as err:
            await context.send_activity(self._user_message(err, locale))

    async def on_card_invoke(self, context: TurnContext, state: TurnState) -> None:
        value = context.activity.value
        action = value.get("action") if isinstance(value, dict) else None
        if not isinstance(action, dict) or action.get("type") != "Action.Execute":
            await self._send_invoke(context, _error_body(400, "not an Adaptive Card action"))
            return
        raw_data = action.get("data")
        data: dict[str, Any] = raw_data if isinstance(raw_data, dict) else {}
        verb = action.get("verb") or data.get("verb")
        actor = self.actor(context.activity)
        locale = await self.remember(context, actor)
        try:
            reply = await self.card_action(actor, locale, str(verb or ""), data)
        except BadCard as err:
            await self._send_invoke(context, _error_body(400, str(err)))
            return
        except DealcoachError as err:
            reply = Reply(card=cards.message_card(self._user_message(err, locale),
                                                  color="Attention"))
        if reply.new_card is not None:
            await context.send_activity(_card_message(reply.new_card))
        if reply.card is not None:
            body = {"statusCode": 200, "type": cards.CONTENT_TYPE, "value": reply.card}
        else:
            body = {"statusCode": 200, "type": MESSAGE_TYPE, "value": reply.message or ""}
        await self._send_invoke(context, body)

    async def _legacy_submit(self, context: TurnContext, value: Mapping[str, Any]) -> None:
        """Action.Submit (older clients): same logic, the card is updated via the Connector."""
        actor = self.actor(context.activity)
        locale = await self.remember(context, actor)
        try:
            reply = await self.card_action(actor, locale, str(value.get("verb") or ""), value)
        except BadCard:
            await context.send_activity(t(locale, "error.bad_card"))
            return
        except DealcoachError as err:
            await context.send_activity(self._user_message(err, locale))
            return
        if reply.new_card is not None:
            await context.send_activity(_card_message(reply.new_card))
        if reply.card is not None:
            replaced = context.activity.reply_to_id
            if replaced:
                update = _card_message(reply.card)
                update.id = replaced
                update.conversation = context.activity.conversation
                await context.update_activity(update)
            else:
                await context.send_activity(_card_message(reply.card))
        if reply.message:
            await context.send_activity(reply.message)

    async def on_app_error(self, context: TurnContext, error: Exception) -> None:
        log.error("Teams turn failed: %s", type(error).__name__, exc_info=error)
        locale = self.default_locale
        try:
            if context.activity.type == ActivityTypes.invoke:
                await self._send_invoke(context, {
                    "statusCode": 200, "type": cards.CONTENT_TYPE,
                    "value": cards.message_card(t(locale, "error.apology"), color="Attention"),
                })
            else:
                await context.send_activity(t(locale, "error.apology"))
        except Exception:  # the channel itself is failing: nothing more to tell the user
            log.warning("could not tell the user about the failed turn", exc_info=True)

    async def on_turn_error(self, context: TurnContext, error: Exception) -> None:
        await self.on_app_error(context, error)

    # --- commands -------------------------------------------------------------------------

    async def _command(self, context: TurnContext, actor: Actor, locale: str,
                       command: commands.Command) -> None:
        if command.name == "review":
            card = await self.review_card(actor, locale, command.arg or None)
            await context.send_activity(_card_message(card))
        elif command.name == "help":
            card = cards.help_card(locale)
            card["body"].append(cards.text(coaching.ct(locale, "help_prep_teams")))  # issue 16
            await context.send_activity(_card_message(card))
        elif command.name == "history":
            await context.send_activity(_card_message(await self.history_card(actor, locale)))
        elif command.name == "lang":
            if command.arg not in _LOCALES:
                await context.send_activity(t(locale, "lang.usage"))
                return
            chosen = await self.reviews.set_locale(actor, command.arg)
            await context.send_activity(t(chosen, "lang.set"))
        elif command.name == "digest":
            reply = await self.managers.digest(actor, locale, command.arg)
            await context.send_activity(reply if isinstance(reply, str) else _card_message(reply))
        elif command.name in ("pause", "resume"):
            await context.send_activity(await self.managers.pause(actor, command.name == "pause"))
        elif command.name == "team":
            await context.send_activity(await self.managers.team(actor, locale, command))
        elif command.name == "prep":
            reply = await self.coaching.prep(actor, locale, command.arg)
            await context.send_activity(reply if isinstance(reply, str) else _card_message(reply))
        elif command.name == "greet":
            await context.send_activity(t(locale, "welcome"))
        else:
            await context.send_activity(t(locale, "unknown"))

    async def review_card(self, actor: Actor, locale: str, deal_name: str | None) -> dict[str, Any]:
        """`dealcoach` resumes an open draft; `review <deal>` starts a review of that deal."""
        view = None if deal_name else await self.reviews.find_draft(actor)
        notice = None
        if view is not None:
            name = escape_teams(view.deal_name) if view.deal_name else t(locale, "resume.unnamed")
            notice = t(view.locale, "resume.text", deal=name)
        else:
            view = await self.reviews.start(actor, deal_name)
        step = view.next_step
        if step is None:  # every question answered already: straight to the advice
            done = await self.reviews.complete(actor, view.review_id, _key(view.review_id, "r"))
            return await self._completed(actor, done)
        return self._step_card(view, step, notice_md=notice)

    async def history_card(self, actor: Actor, locale: str) -> dict[str, Any]:
        rows: list[tuple[str, str, str]] = []
        actions: list[list[dict[str, Any]]] = []
        bank = load_bank(locale)
        items = await self.reviews.history(actor, 10)
        notes, openable = await self.services.async_coaching.history_notes(
            [i.review_id for i in items])
        for item in items:
            name = escape_teams(item.deal_name) if item.deal_name else t(locale, "resume.unnamed")
            when = (item.completed_at or item.updated_at).strftime("%Y-%m-%d")
            if item.status == "completed" and item.recommendation:
                status = bank.labels.recommendations.get(item.recommendation, item.recommendation)
            else:
                status = t(locale, "history.draft")
            if item.outcome and item.outcome != "open":
                status += f" · {t(locale, f'outcome.{item.outcome}')}"
            if item.review_id in notes:  # coaching notes on it (issue 16)
                count, still_open = notes[item.review_id]
                status += " · " + coaching.ct(locale, "history_notes", notes=count,
                                              open=still_open)
            rows.append((name, when, status))
            data = {"review_id": str(item.review_id), "nonce": ""}
            row = ([cards.execute(t(locale, "advice.update"), cards.VERB_UPDATE, data)]
                   if item.status == "completed" else [])
            if item.review_id in openable:  # the review with its coaching thread (issue 16)
                row.append(cards.execute(coaching.ct(locale, "open_review"), coaching.VERB_OPEN,
                                         {"review_id": str(item.review_id)}))
            actions.append(row)
        return cards.history_card(rows, locale, actions)

    # --- card actions ---------------------------------------------------------------------

    async def card_action(self, actor: Actor, locale: str, verb: str,
                          data: Mapping[str, Any]) -> Reply:
        if verb in coaching.VERBS:
            return await self.coaching.card_action(actor, locale, verb, data)
        if verb in crm_link.VERBS:
            return await self.crm.card_action(actor, locale, verb, dict(data))
        if verb not in cards.VERBS:
            raise BadCard(f"unknown card action {verb!r}")
        if verb == cards.VERB_NUDGE:  # a reminder's button: start a review of that deal
            deal = str(data.get("deal_name") or "").strip()[:200] or None
            return Reply(card=await self.review_card(actor, locale, deal))
        review_id = _review_id(data)
        nonce = str(data.get("nonce") or "")
        if verb == cards.VERB_STEP:
            return await self._step(actor, review_id, data, nonce, people=None)
        if verb == cards.VERB_ADD_PERSON:
            people = _int(data.get("people"), 1, 9)
            return await self._step(actor, review_id, data, nonce, people=people)
        if verb == cards.VERB_UPDATE:
            view = await self.reviews.reopen(actor, review_id)
            # Every answer kept: walk the rounds again, prefilled, from the first.
            step = view.next_step or revisit_step(load_bank(view.locale), view.answers)
            if step is None:
                return Reply(message=t(locale, "card.stale"))
            return Reply(new_card=self._step_card(view, step), message=t(locale, "card.next"))
        if verb == cards.VERB_OUTCOME:
            outcome = str(data.get(cards.OUTCOME_INPUT) or "")
            if outcome not in cards.OUTCOMES:
                raise BadCard(f"unknown outcome {outcome!r}")
            # Only a completed review has an outcome; a draft stays a draft (completing it
            # here would assess answers never given). Completed is final: no race with this.
            view = await self.reviews.get(actor, review_id)
            if view.status != "completed":
                return Reply(message=t(locale, "outcome.not_completed"))
            await self.reviews.record_outcome(actor, review_id, outcome)
            done = await self.reviews.complete(actor, review_id, None)
            card = self._advice(done, outcome=outcome)
            card["body"].append(cards.text(
                t(locale, "outcome.recorded", review=review_id,
                  outcome=t(locale, f"outcome.{outcome}")), color="Good"))
            return Reply(card=card)
        # VERB_SHARE
        return Reply(message=await self.share(actor, locale, review_id))

    async def _step(self, actor: Actor, review_id: int, data: Mapping[str, Any], nonce: str,
                    *, people: int | None) -> Reply:
        view = await self.reviews.get(actor, review_id, people)
        if view.status == "completed":  # a resubmitted last card: the same advice, once
            done = await self.reviews.complete(actor, review_id, _key(review_id, nonce))
            return Reply(card=await self._completed(actor, done))
        if view.status != "draft":
            raise Conflict("this review was abandoned; write dealcoach to start a new one")
        bank = load_bank(view.locale)
        qids = _qids(data, bank.questions)
        raw = {qid: _raw_value(bank.questions[qid].type, data.get(qid)) for qid in qids}
        try:
            view = await self.reviews.save_answers(actor, review_id, raw, people)
        except (InvalidAnswers, InvalidAnswer) as err:
            errors = (err.errors if isinstance(err, InvalidAnswers)
                      else {err.question_id: err.reason})
            shown = [bank.questions[q] for q in qids]
            return Reply(card=self._step_card(view, None, questions=shown, typed=raw,
                                              errors=errors, people=people))
        step = view.next_step
        if step is None and view.reopened_from is not None:  # "Update review": next round
            step = revisit_step(bank, view.answers, bank.questions[qids[0]].round, people)
        if step is None:
            done = await self.reviews.complete(actor, review_id, _key(review_id, nonce))
            return Reply(card=await self._completed(actor, done))
        return Reply(card=self._step_card(view, step, people=people))

    async def share(self, actor: Actor, locale: str, review_id: int) -> str:
        shared = await self.reviews.share(actor, review_id)
        contact = shared.manager
        if contact is None:
            return t(locale, "share.none")
        if contact.conversation_ref is None or self.runtime is None:
            await self.reviews.release_share(actor, review_id)  # not sent: may be tried again
            return t(locale, "share.unreachable")
        header = t(contact.locale, "share.header", user=escape_teams(actor.display_name or ""))
        rendered = render_advice(shared.advice, "teams")
        card = advice_card(rendered, review_id=str(review_id), locale=contact.locale,
                           recommendation=shared.assessment.recommendation, with_actions=False,
                           header_md=f"**{header}**")
        try:
            await self.runtime.send_to_reference(contact.conversation_ref, _card_message(card))
        except DeliveryError as err:
            log.warning("share failed: %s", err)
            # Not delivered: the review is not shared, so the next click tries again instead of
            # answering "already shared".
            await self.reviews.release_share(actor, review_id)
            return t(locale, "share.unreachable")
        return t(locale, "share.sent")

    # --- rendering ----------------------------------------------------------------------

    def _step_card(self, view: Any, step: Any, *, notice_md: str | None = None,
                   questions: list[Any] | None = None, typed: Mapping[str, Any] | None = None,
                   errors: Mapping[str, str] | None = None,
                   people: int | None = None) -> dict[str, Any]:
        bank = load_bank(view.locale)
        if step is None:  # re-showing the submitted step with its errors
            step = next_step(bank, view.answers, people) if questions is None else None
        shown = list(questions if questions is not None else step.questions)
        round_id = shown[0].round if shown else "fit"
        info = next((r for r in bank.rounds if r.id == round_id), None)
        rounds = [r.id for r in bank.rounds]
        answers = {**view.answers, **(typed or {})}
        merged = {**answers, **{q.id: answers.get(q.id) for q in shown}}
        remaining = next_step(bank, merged)
        if remaining is None and getattr(view, "reopened_from", None) is not None:
            remaining = revisit_step(bank, merged, round_id)
        card = cards.step_card(
            review_id=str(view.review_id),
            questions=shown,
            answers=answers,
            locale=view.locale,
            round_id=round_id,
            round_title=info.title if info else None,
            round_intro=info.intro if info and not (step and step.is_followup) else None,
            deal_name_md=escape_teams(view.deal_name) if view.deal_name else None,
            step_number=rounds.index(round_id) + 1 if round_id in rounds else 1,
            people=step.people if step is not None else (people or 1),
            can_add_person=bool(step.can_add_person) if step is not None else False,
            is_last=remaining is None,
            errors=errors,
            notice_md=notice_md,
            nonce=uuid.uuid4().hex[:16],
        )
        # With a CRM, the first step offers its deals (issue 17).
        return crm_link.decorate_step(card, review_id=str(view.review_id), locale=view.locale,
                                      first_step=bool(rounds) and round_id == rounds[0])

    async def _completed(self, actor: Actor, done: Any) -> dict[str, Any]:
        """The advice of a review just completed, with the manager's notes on the deal's
        earlier reviews under it when there are any (issue 16)."""
        card = self._advice(done)
        if done.created:
            notes = await self.services.async_coaching.earlier_notes(actor, done.review_id)
            if notes:
                card["body"].extend(
                    coaching.earlier_notes_items(done.locale, done.review_id, notes)
                )
        return card

    def _advice(self, done: Any, outcome: str | None = None) -> dict[str, Any]:
        rendered = render_advice(done.advice, "teams")
        return advice_card(rendered, review_id=str(done.review_id), locale=done.locale,
                           recommendation=done.assessment.recommendation)

    def _user_message(self, err: DealcoachError, locale: str) -> str:
        if isinstance(err, Forbidden):
            return t(locale, "error.not_yours")
        if isinstance(err, BadCard):
            return t(locale, "error.bad_card")
        return escape_teams(str(err))  # NotFound, Conflict, InputError: already one line

    @staticmethod
    async def _send_invoke(context: TurnContext, body: dict[str, Any]) -> None:
        from dealcoach.teams.runtime import invoke_response

        await context.send_activity(invoke_response(body))


# --- payload parsing (pure) ----------------------------------------------------------------


def _card_message(card: dict[str, Any]) -> Activity:
    from dealcoach.teams.runtime import card_activity

    return card_activity(card)


def _error_body(status: int, message: str) -> dict[str, Any]:
    return {"statusCode": status, "type": ERROR_TYPE,
            "value": {"code": "BadRequest", "message": message}}


def _key(review_id: int, nonce: str) -> str:
    return f"teams:{review_id}:{nonce or 'card'}"


def _review_id(data: Mapping[str, Any]) -> int:
    raw = data.get("review_id")
    text = str(raw).strip() if raw is not None else ""
    if not text.isdigit() or len(text) > 18:
        raise BadCard("the card names no review")
    return int(text)


def _int(value: Any, low: int, high: int) -> int:
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        raise BadCard("the card carries a bad number") from None
    return max(low, min(high, number))


def _qids(data: Mapping[str, Any], known: Mapping[str, Any]) -> list[str]:
    raw = data.get("qids")
    if not isinstance(raw, str) or not raw:
        raise BadCard("the card names no questions")
    ids = [part.strip() for part in raw.split(",") if part.strip()]
    if len(ids) > 60 or not all(_QID.match(qid) and qid in known for qid in ids):
        raise BadCard("the card names questions this review does not have")
    return ids


def _raw_value(kind: str, value: Any) -> Any:
    """Teams sends every input as a string (a multi-select as "a,b"); blank means blank."""
    if value is None:
        return None
    if isinstance(value, list):
        return [str(v) for v in value]
    text = str(value).strip()
    if not text:
        return None
    if kind == "multi_choice":
        return [part for part in (p.strip() for p in text.split(",")) if part]
    return text
