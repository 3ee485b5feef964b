"""Mentions in internal notes: "@Bob Agent" (or "@Bob" when only one Bob works here, or the
first part of their sign-in address) tells that colleague.

A hook on every agent's note (`Conversations.noted`): the mentioned agents are recorded with a
`note.mentioned` event in the note's own transaction, so the mentioned agent's desk is told
live (and catches up after a reconnect), and their Mentions view lists the conversation.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from onlinesupport.core.conversations.work import Work
from onlinesupport.store import mentions as mentions_repo
from onlinesupport.store.mentions import MentionableAgent
from onlinesupport.store.messages import Message

_AT = re.compile(r"(?<![\w.@])@")
_WORD = re.compile(r"[\w.-]+")


def mentioned(body: str, agents: Sequence[MentionableAgent]) -> list[MentionableAgent]:
    """The agents that `body` mentions, in order, each once."""
    by_length = sorted(agents, key=lambda a: len(a.name), reverse=True)
    first_names: dict[str, list[MentionableAgent]] = {}
    for a in agents:
        first = a.name.split()[0].lower() if a.name.split() else ""
        first_names.setdefault(first, []).append(a)
    found: dict[int, MentionableAgent] = {}
    for at in _AT.finditer(body):
        rest = body[at.end() :]
        agent = _full_name(rest, by_length)
        if agent is None:
            word = _WORD.match(rest)
            token = word.group(0).rstrip(".-").lower() if word else ""
            same = first_names.get(token, [])
            agent = (
                same[0]
                if len(same) == 1
                else next(
                    (a for a in agents if a.email.split("@")[0].lower() == token and token), None
                )
            )
        if agent is not None:
            found.setdefault(agent.id, agent)
    return list(found.values())


def _full_name(text: str, agents: Sequence[MentionableAgent]) -> MentionableAgent | None:
    lowered = text.lower()
    for agent in agents:
        name = agent.name.lower()
        if (
            name
            and lowered.startswith(name)
            and (len(text) == len(name) or not text[len(name)].isalnum())
        ):
            return agent
    return None


def record_mentions(work: Work, conversation_id: int, message: Message) -> None:
    """The `noted` hook: record whom the note mentions (not its own author)."""
    if "@" not in message.body:
        return
    agents = [
        a
        for a in mentioned(message.body, mentions_repo.mentionable(work.conn))
        if a.id != message.author_id
    ]
    if not agents:
        return
    mentions_repo.record(work.conn, message.id, conversation_id, [a.id for a in agents], work.now)
    work.emit(
        conversation_id,
        "note.mentioned",
        "agent",
        message.author_id,
        {
            "message_id": message.id,
            "seq": message.seq,
            "agent_ids": [a.id for a in agents],
            "names": [a.name for a in agents],
            "by": message.author_name,
        },
    )
