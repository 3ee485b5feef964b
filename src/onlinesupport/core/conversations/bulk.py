"""One action on many conversations at once (the inbox's selected rows), in one transaction.

Each conversation changes through the same steps its own buttons use and gets its own events,
so a bulk action reads in the history and in reports exactly like the same clicks one by one.
Either every selected conversation changes or none does, except the merged ones a command
refuses (resolving, snoozing, giving to someone): they are skipped, and said so.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from onlinesupport.core.conversations.service import Actor, Conversations, InvalidCommand
from onlinesupport.core.conversations.snooze import snooze_in
from onlinesupport.core.conversations.work import Work
from onlinesupport.store import agents as agents_repo
from onlinesupport.store import conversations as conversations_repo
from onlinesupport.store import queues as queues_repo
from onlinesupport.store.conversations import Conversation

ACTIONS = ("assign", "move", "tag", "resolve", "snooze")
MAX_SELECTED = 200
_TAG = re.compile(r"^[\w][\w .-]{0,39}$")


@dataclass(frozen=True)
class BulkAction:
    """What to do: `action` and the one argument it needs."""

    action: str
    agent_id: int | None = None
    """assign: to whom (None: unassign)."""
    queue_id: int | None = None
    tag: str = ""
    until: datetime | None = None
    """snooze: until when (None: until the customer answers)."""


@dataclass(frozen=True)
class Applied:
    """What a bulk action did: how many conversations changed, and the merged ones skipped
    (their id and the id of the conversation each was merged into, where it is answered)."""

    changed: int
    skipped: dict[int, int]


def check_tag(tag: str) -> str:
    tag = tag.strip()
    if not _TAG.match(tag):
        raise InvalidCommand("a tag takes 1-40 letters, digits, spaces, dots and dashes")
    return tag


def tag_in(
    work: Work,
    conversation: Conversation,
    tag: str,
    actor: Actor,
) -> bool:
    """Inside a command: add a tag to the conversation; False if it has it already."""
    tags = json.loads(conversation.tags)
    if tag.lower() in (t.lower() for t in tags):
        return False
    conversations_repo.update(work.conn, conversation.id, work.now, tags=json.dumps([*tags, tag]))
    work.emit(conversation.id, "conversation.tagged", actor.type, actor.id, {"tag": tag})
    return True


async def apply(
    conversations: Conversations, ids: Sequence[int], what: BulkAction, actor: Actor
) -> Applied:
    """Do `what` to every conversation in `ids` but the merged ones it does not apply to."""
    if what.action not in ACTIONS:
        raise InvalidCommand(f"the action must be one of {', '.join(ACTIONS)}")
    if not ids:
        raise InvalidCommand("select at least one conversation")
    if len(ids) > MAX_SELECTED:
        raise InvalidCommand(f"select at most {MAX_SELECTED} conversations at once")
    tag = check_tag(what.tag) if what.action == "tag" else ""

    # What a merged conversation refuses: it stays closed and is given to nobody.
    refused_when_merged = what.action in ("resolve", "snooze") or (
        what.action == "assign" and what.agent_id is not None
    )

    def command(work: Work) -> Applied:
        agent = queue = None
        if what.action == "assign" and what.agent_id is not None:
            agent = agents_repo.lock(work.conn, what.agent_id)
            if not agent.active:
                raise InvalidCommand(f"{agent.name} is disabled and cannot take conversations")
        if what.action == "move":
            if what.queue_id is None:
                raise InvalidCommand("choose the queue to move to")
            queue = queues_repo.lock(work.conn, what.queue_id)
        changed = 0
        skipped: dict[int, int] = {}
        for conversation_id in dict.fromkeys(ids):
            conversation = conversations_repo.lock(work.conn, conversation_id)
            if refused_when_merged and conversation.merged_into is not None:
                skipped[conversation_id] = conversation.merged_into
                continue
            if what.action == "assign":
                changed += conversations.assign_in(work, conversation, agent, actor)
            elif what.action == "move":
                assert queue is not None  # locked above for a move
                changed += conversations.move_in(work, conversation, queue, actor)
            elif what.action == "tag":
                changed += tag_in(work, conversation, tag, actor)
            elif what.action == "resolve":
                changed += conversations.set_status_in(
                    work, conversation, actor, "resolved", "conversation.resolved"
                )
            else:
                changed += snooze_in(work, conversation, what.until, actor)
        return Applied(changed, skipped)

    return await conversations.run(command)
