"""Routing rules as admins write them, checked, and evaluated against a conversation's facts.

A rule is a name, when it runs (a new conversation, every customer message, or both), its
conditions (all must hold) and its actions, each written one per line:

    channel is email                    sender domain bigcustomer.com
    subject contains invoice, refund    body matches order\\s*#?\\d{4}
    tier is preferred                   page matches */pricing*
    question_type is Billing            hours outside

    queue Billing      priority 2      tag vip      first_response 30      next_response 60
    assign amy@example.com (or: assign auto)   reply Thanks! We answer billing questions soon.
    spam      stop

Evaluation is pure and in memory (no database), so routing one conversation against hundreds
of rules takes microseconds, and "test a sample" shows exactly what a real message would do.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from onlinesupport.lib.errors import UserError
from onlinesupport.lib.inputs import whole_number

TRIGGERS = ("new", "message", "both")
CONDITIONS = {
    "channel": ("is",),
    "mailbox": ("is",),
    "sender": ("is", "domain", "contains"),
    "tier": ("is",),
    "tag": ("has",),
    "subject": ("contains", "matches"),
    "body": ("contains", "matches"),
    "text": ("contains", "matches"),
    "page": ("matches",),
    "question_type": ("is",),
    "urgency": ("is",),
    "language": ("is",),
    "hours": ("inside", "outside"),
}
ACTIONS = (
    "queue",
    "priority",
    "tag",
    "first_response",
    "next_response",
    "assign",
    "reply",
    "spam",
    "stop",
)
NEEDS_VALUE = ("queue", "priority", "tag", "first_response", "next_response", "assign", "reply")
MAX_MATCHED_TEXT = 20_000


class InvalidRule(UserError):
    """A rule as written cannot be used; the message names the line."""


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    values: tuple[str, ...]
    pattern: re.Pattern[str] | None = None

    def describe(self) -> str:
        return f"{self.field} {self.op} {', '.join(self.values)}".strip()


@dataclass(frozen=True)
class Action:
    kind: str
    value: str = ""

    def describe(self) -> str:
        return f"{self.kind} {self.value}".strip()


@dataclass(frozen=True)
class Rule:
    id: int
    name: str
    trigger: str
    conditions: tuple[Condition, ...]
    actions: tuple[Action, ...]
    active: bool = True


@dataclass
class Facts:
    """What rules look at. `open_now` is asked only when a rule has an hours condition."""

    channel: str = ""
    mailbox: str = ""
    sender: str = ""
    tier: str = ""
    tags: tuple[str, ...] = ()
    subject: str = ""
    body: str = ""
    page: str = ""
    question_type: str = ""
    urgency: str = ""
    language: str = ""
    open_now: Callable[[], bool] = field(default=lambda: True)
    _text: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    def text_of(self, name: str) -> str:
        """A field as conditions compare it (subject and body together for "text"), made once
        per message however many rules look at it."""
        if name not in self._text:
            raw = f"{self.subject}\n{self.body}" if name == "text" else str(getattr(self, name))
            self._text[name] = raw[:MAX_MATCHED_TEXT]
            self._text[name + ".lower"] = self._text[name].lower()
        return self._text[name]

    def lower_of(self, name: str) -> str:
        self.text_of(name)
        return self._text[name + ".lower"]


def parse_conditions(text: str) -> tuple[Condition, ...]:
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        words = line.strip().split(None, 2)
        if not words or words[0].startswith("#"):
            continue
        name = words[0].lower()
        if name not in CONDITIONS:
            raise InvalidRule(
                f"condition line {number}: {name!r} is not one of {', '.join(CONDITIONS)}"
            )
        ops = CONDITIONS[name]
        op = words[1].lower() if len(words) > 1 else ""
        if op not in ops:
            raise InvalidRule(f"condition line {number}: after {name} write {' or '.join(ops)}")
        rest = words[2].strip() if len(words) > 2 else ""
        if name == "hours":
            found.append(Condition(name, op, ()))
            continue
        if not rest:
            raise InvalidRule(f"condition line {number}: {name} {op} what?")
        if op == "matches" and name != "page":
            try:
                pattern = re.compile(rest, re.IGNORECASE)
            except re.error as exc:
                raise InvalidRule(f"condition line {number}: not a pattern: {exc}") from None
            found.append(Condition(name, op, (rest,), pattern))
            continue
        values = tuple(v.strip().lower() for v in rest.split(",") if v.strip())
        found.append(Condition(name, op, values))
    return tuple(found)


def parse_actions(text: str) -> tuple[Action, ...]:
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        words = line.strip().split(None, 1)
        if not words or words[0].startswith("#"):
            continue
        kind = words[0].lower()
        value = words[1].strip() if len(words) > 1 else ""
        if kind not in ACTIONS:
            raise InvalidRule(f"action line {number}: {kind!r} is not one of {', '.join(ACTIONS)}")
        if kind in NEEDS_VALUE and not value:
            raise InvalidRule(f"action line {number}: {kind} what?")
        if (
            kind in ("priority", "first_response", "next_response")
            and whole_number(value, 0, 100000) is None
        ):
            raise InvalidRule(f"action line {number}: {kind} takes a whole number")
        found.append(Action(kind, value))
    if not found:
        raise InvalidRule("a rule needs at least one action")
    return tuple(found)


def _holds(condition: Condition, facts: Facts) -> bool:
    name, op, values = condition.field, condition.op, condition.values
    if name == "hours":
        return facts.open_now() == (op == "inside")
    if name == "tag":
        return any(v in (t.lower() for t in facts.tags) for v in values)
    if name == "page":
        return any(fnmatch.fnmatchcase(facts.page.lower(), v) for v in values)
    if op == "matches":
        assert condition.pattern is not None
        return condition.pattern.search(facts.text_of(name)) is not None
    text = facts.lower_of(name)
    if op == "is":
        return text in values
    if op == "domain":
        return any(text.endswith("@" + v) or text.endswith("." + v) for v in values)
    return any(v in text for v in values)  # contains


def explain(rule: Rule, facts: Facts, trigger: str) -> list[tuple[str, bool]]:
    """Each condition of the rule in words, and whether it holds (for "test a sample")."""
    runs_for = {"new": "new conversations", "message": "later messages", "both": "every message"}[
        rule.trigger
    ]
    checks = [(f"runs for {runs_for}", rule.trigger in ("both", trigger)), ("active", rule.active)]
    return checks + [(c.describe(), _holds(c, facts)) for c in rule.conditions]


def matches(rule: Rule, facts: Facts, trigger: str) -> bool:
    if not rule.active or (rule.trigger != "both" and rule.trigger != trigger):
        return False
    return all(_holds(c, facts) for c in rule.conditions)


def evaluate(rules: Sequence[Rule], facts: Facts, trigger: str) -> list[Rule]:
    """The rules that fire, in order, up to and including the first with a stop action."""
    fired = []
    for rule in rules:
        if matches(rule, facts, trigger):
            fired.append(rule)
            if any(a.kind == "stop" for a in rule.actions):
                break
    return fired
