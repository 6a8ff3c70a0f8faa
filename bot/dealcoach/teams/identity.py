"""Who is asking, and where their personal chat is.

`actor_of` turns an activity's sender into the `Actor` the services work with (tenant +
Entra object id); `remember` keeps the chat's conversation reference, so digests, reminders
and shared reviews can reach the person later, and returns the language to answer in.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from microsoft_agents.activity import Activity, ConversationReference
from microsoft_agents.hosting.core import TurnContext

from dealcoach.config import Settings
from dealcoach.services.actors import Actor
from dealcoach.teams.context import ConversationRef, TeamsDeps
from dealcoach.teams.payload import BadCard

LOCALES = ("en", "nl")


def actor_of(activity: Activity, settings: Settings) -> Actor:
    """The person who sent `activity`; `BadCard` when it names nobody."""
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
        locale=locale if locale in LOCALES else None,
        timezone=timezone_of(activity),
        is_admin=str(user_id) in settings.dealcoach_admins
        or str(user.id) in settings.dealcoach_admins,
    )


def timezone_of(activity: Activity) -> str | None:
    """The sender's IANA time zone as Teams reports it (`localTimezone`, else the
    `clientInfo` entity's `timezone`); None when absent or not a zone this server knows.
    Close-plan dates and overdue reminders are in the rep's own zone (issue 15)."""
    candidates: list[object] = [activity.local_timezone]
    for entity in activity.entities or []:
        data = entity.model_dump(by_alias=True) if hasattr(entity, "model_dump") else entity
        if isinstance(data, dict) and data.get("type") == "clientInfo":
            candidates.append(data.get("timezone"))
    for name in candidates:
        if not isinstance(name, str) or not name.strip() or len(name) > 64:
            continue
        try:
            ZoneInfo(name.strip())
        except (ZoneInfoNotFoundError, ValueError):
            continue
        return name.strip()
    return None


def personal_reference(activity: Activity) -> ConversationRef | None:
    """The conversation reference of a personal chat (None for a group chat or channel)."""
    conversation = activity.conversation
    personal = conversation is not None and (
        conversation.conversation_type in (None, "personal") and not conversation.is_group
    )
    if not personal or not activity.service_url:
        return None
    ref: ConversationReference = activity.get_conversation_reference()
    ref.activity_id = None
    reference: ConversationRef = ref.model_dump(mode="json", by_alias=True, exclude_none=True)
    return reference


async def remember(deps: TeamsDeps, context: TurnContext, actor: Actor) -> str:
    """Store the chat's conversation reference (personal chats only); the user's locale."""
    # An anonymous request (TEAMS_ALLOW_ANONYMOUS, local testing) proves nothing about where
    # the person's chat is: it may store a first reference, never replace one.
    identity = context.identity
    anonymous = identity is None or identity.allow_anonymous
    return await deps.people.remember_conversation(
        actor, personal_reference(context.activity), keep_stored=anonymous
    )
