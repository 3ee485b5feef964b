"""The metrics: what each one means (shown on the report pages), and the arithmetic of medians,
90th percentiles and shares, kept apart from any storage so a test can check it by hand."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

DURATIONS = {
    "first_response": (
        "First response time",
        "From the start of a cycle (the conversation arriving, or being reopened) to the first "
        "reply a person on the team sent the customer; on a callback request, the first call "
        "logged. Internal notes, automatic acknowledgements, rule auto-replies and a script's "
        "follow-up questions are not replies. A snooze does not stop the clock. A conversation "
        "split out of another starts when it is split. Counted on the day of the reply.",
    ),
    "next_response": (
        "Next response time",
        "From the customer's first message that was still unanswered (after the first response) "
        "to the team's next reply (or call). Mail from people the customer copied counts like "
        "the customer's. Counted on the day of the reply.",
    ),
    "hold": (
        "Queue hold time",
        "From the conversation arriving in the queue to an agent taking it: assigned to them, "
        "or, if nobody was assigned first, their first reply. Counted on the day it was taken.",
    ),
    "reaction": (
        "Reaction time",
        "From the assignment to the assigned agent's first reply, for conversations assigned "
        "before anyone replied. Counted on the day of the reply.",
    ),
    "resolution": (
        "Resolution time",
        "From the start of a cycle to its resolution (each reopened cycle counts again). A "
        "conversation merged into another, or closed as spam, is not resolved: only the one it "
        "went into is. Counted on the day it was resolved.",
    ),
    "abandoned": (
        "Wait before abandoning",
        "How long visitors who left a chat before any agent answered had waited.",
    ),
}
RATES = {
    "reopen_rate": (
        "Reopen rate",
        "Of the conversations resolved for the first time in the "
        "period, the share that were reopened later (also when a conversation "
        "still open about the same thing is merged into it).",
    ),
    "fcr": (
        "First-contact resolution",
        "Of the conversations resolved for the first time in "
        "the period, the share resolved with exactly one agent reply and never reopened.",
    ),
    "abandoned_share": (
        "Abandoned chats",
        "Chats whose visitor left (ended the chat or closed "
        "the page) before any agent answered, as a share of the chats started.",
    ),
    "sla_first": (
        "First answer on time",
        "Answer targets of the first answer that fell due in "
        "the period, less those missed, over those due. The clock stops when the "
        "conversation is resolved, not when it is snoozed. A callback request's "
        "target is the end of the window the customer chose. Targets still running "
        "are not counted yet, nor at all if the conversation is merged into another "
        "(whose own targets count).",
    ),
    "sla_next": (
        "Next answer on time",
        "The same for the next answers owed after a customer "
        "wrote again, and for a callback's next try after no one answered.",
    ),
    "satisfaction": (
        "Satisfaction score",
        "Ratings of 4 or 5 over all ratings given in the period (a conversation takes one rating).",
    ),
    "response_rate": (
        "Rating response rate",
        "Ratings given over chats that ended in the "
        "period (the widget asks for a rating when a chat ends).",
    ),
    "deflection": (
        "Deflection share",
        "Questions an article answered before they reached an "
        "agent, over those plus the conversations an agent took.",
    ),
}
PERCENTILES = (
    "The median is the middle value (the mean of the two middle ones for an even "
    "count); the 90th percentile is the value 90% of the values are at or below "
    "(the nearest rank). Business hours count only the open time of the queue's "
    "calendar (weekly hours and holidays, in its time zone)."
)


@dataclass(frozen=True)
class Summary:
    count: int
    median: float | None
    p90: float | None


def median(values: Sequence[float]) -> float | None:
    """The middle of the sorted values (the mean of the two middle ones for an even count)."""
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def percentile(values: Sequence[float], share: float) -> float | None:
    """The nearest-rank percentile: the smallest value with `share` of the values at or below."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def summarize(values: Sequence[float]) -> Summary:
    return Summary(len(values), median(values), percentile(values, 0.9))


def share(part: int, whole: int) -> float | None:
    """part / whole as a fraction, or None when there is nothing to divide."""
    return part / whole if whole else None


def change(now: float | None, before: float | None) -> float | None:
    """The relative change from the previous period (0.1 = 10% more), None without both."""
    if now is None or before is None or before == 0:
        return None
    return (now - before) / before


def duration_text(seconds: float | None) -> str:
    """A duration as people say it: 45 s, 12 min, 3 h 20 min, 2 d 4 h; '–' for none."""
    if seconds is None:
        return "–"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        rest = seconds % 60
        return f"{minutes} min {rest} s" if rest and minutes < 10 else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def percent_text(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%".replace(".0%", "%")


BUCKETS = 64
_RATIO = math.log(1.32)


def bucket_of(seconds: float | None) -> int | None:
    """The logarithmic bucket of a duration: 0 for exactly none (common in business hours:
    answered while closed), 1 below a second, then each 32% longer than the one before, the
    last from about a year on. Longer never falls in a lower bucket."""
    if seconds is None:
        return None
    if seconds == 0:
        return 0
    if seconds < 1:
        return 1
    return min(BUCKETS - 1, 2 + int(math.log(seconds) / _RATIO))


def ranks(count: int) -> dict[str, tuple[int, ...]]:
    """The 1-based ranks the median and the 90th percentile are made of."""
    middle = (count // 2, count // 2 + 1) if count % 2 == 0 else (count // 2 + 1,)
    return {"median": middle, "p90": (max(1, math.ceil(0.9 * count)),)}


def locate(counts: Sequence[int], rank: int) -> tuple[int, int]:
    """The bucket holding the value of this rank, and its rank within the bucket (1-based)."""
    for bucket, n in enumerate(counts):
        if rank <= n:
            return bucket, rank
        rank -= n
    raise ValueError("rank beyond the counted values")


async def summary_by_rank(
    counts: Sequence[int],
    ranked: Callable[[int, int, int], Awaitable[list[float]]],
    p90: bool = True,
) -> Summary:
    """The exact summary from bucket counts, reading only the values of the ranks wanted:
    `ranked(bucket, offset, count)` gives `count` values of a bucket in order from `offset`
    (without `p90`, the median alone)."""
    total = sum(counts)
    if not total:
        return Summary(0, None, None)

    async def read(bucket: int, offset: int, count: int) -> list[float]:
        return [0.0] * count if bucket == 0 else await ranked(bucket, offset, count)

    wanted = ranks(total)
    middle = wanted["median"]
    bucket, within = locate(counts, middle[0])
    if len(middle) == 2 and within < counts[bucket]:
        pair = await read(bucket, within - 1, 2)  # both middle values in one bucket
    else:
        pair = [(await read(*_at(counts, r), 1))[0] for r in middle]
    high = (await read(*_at(counts, wanted["p90"][0]), 1))[0] if p90 else None
    return Summary(total, sum(pair) / len(pair), high)


def _at(counts: Sequence[int], rank: int) -> tuple[int, int]:
    bucket, within = locate(counts, rank)
    return bucket, within - 1
