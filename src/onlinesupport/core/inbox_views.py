"""What an inbox shows: a view (open, mine, snoozed …), an order and filters (queue, channel,
tag, assignee, priority, due), read from a page's query and checked; and saved views, which
keep such a query under a name for one agent or for everyone.

Shared views are managed by managers and admins; every agent manages their own.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode

from onlinesupport.core.canned import PermissionDenied
from onlinesupport.core.conversations import CHANNELS, InvalidCommand
from onlinesupport.lib.clock import Clock, to_db
from onlinesupport.store import Conflict, Database, NotFound, Transaction
from onlinesupport.store import saved_views as saved_views_repo
from onlinesupport.store.conversations import DUE_WITHIN, SORTS, VIEWS, InboxFilter
from onlinesupport.store.saved_views import SavedView

KEYS = ("view", "sort", "queue", "channel", "tag", "assignee", "priority", "due")
"""The query parameters an inbox is described by (and a saved view keeps)."""
DUE = ("overdue", *DUE_WITHIN)
MAX_NAME = 60


@dataclass(frozen=True)
class InboxQuery:
    view: str = "open"
    sort: str = "recent"
    narrow: InboxFilter = field(default_factory=InboxFilter)
    saved: int | None = None
    """The saved view this query came from, if any."""

    def params(self) -> dict[str, str]:
        """The query's parameters, defaults left out (for links and for saving)."""
        out = {"view": self.view} if self.view != "open" else {}
        if self.sort != "recent":
            out["sort"] = self.sort
        names = {"queue_id": "queue"}
        for key, value in self.narrow.fields().items():
            out[names.get(key, key)] = str(value)
        return out

    def filter_string(self) -> str:
        """The filters (not view or order) as a query string, to keep them on the page's links."""
        params = self.params()
        params.pop("view", None)
        params.pop("sort", None)
        if self.saved is not None:
            params = {"saved": str(self.saved)}
        return urlencode(params)


def _whole(value: str, name: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise InvalidCommand(f"{name} must be a whole number") from None
    if not low <= number <= high:
        raise InvalidCommand(f"{name} must be from {low} to {high}")
    return number


def parse(params: Mapping[str, str], saved: int | None = None) -> InboxQuery:
    """The inbox query in `params` (a page's query string or a saved view's filters)."""
    got = {k: str(params.get(k, "")).strip() for k in KEYS}
    view, sort = got["view"] or "open", got["sort"] or "recent"
    if view not in VIEWS:
        raise InvalidCommand(f"view must be one of {', '.join(VIEWS)}")
    if sort not in SORTS:
        raise InvalidCommand(f"sort must be one of {', '.join(SORTS)}")
    if got["channel"] and got["channel"] not in CHANNELS:
        raise InvalidCommand(f"channel must be one of {', '.join(CHANNELS)}")
    if got["due"] and got["due"] not in DUE:
        raise InvalidCommand(f"due must be one of {', '.join(DUE)}")
    assignee = got["assignee"] or None
    if assignee not in (None, "me", "none"):
        assignee = str(_whole(assignee, "assignee", 1, 2**62))
    if len(got["tag"]) > 40:
        raise InvalidCommand("the tag is longer than 40 characters")
    narrow = InboxFilter(
        queue_id=_whole(got["queue"], "queue", 1, 2**62) if got["queue"] else None,
        channel=got["channel"] or None,
        tag=got["tag"] or None,
        assignee=assignee,
        priority=_whole(got["priority"], "priority", 0, 9) if got["priority"] else None,
        due=got["due"] or None,
    )
    return InboxQuery(view, sort, narrow, saved)


class ViewWithQuery(SavedView):
    """A saved view with its filters read as the query they make."""

    query: InboxQuery


class SavedViews:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def add(
        self, agent_id: int, may_share: bool, *, name: str, shared: bool, query: InboxQuery
    ) -> int:
        name = " ".join(name.split())
        if not name or len(name) > MAX_NAME:
            raise InvalidCommand(f"give the view a name of at most {MAX_NAME} characters")
        if shared and not may_share:
            raise PermissionDenied("only managers add shared views")
        filters = json.dumps(query.params(), separators=(",", ":"))
        now = to_db(self._clock.now())

        def write(conn: Transaction) -> int:
            try:
                return saved_views_repo.create(
                    conn,
                    owner_id=None if shared else agent_id,
                    name=name,
                    filters=filters,
                    created_by=agent_id,
                    now=now,
                )
            except Conflict:
                raise InvalidCommand(f"a view named “{name}” exists already") from None

        return await self._db.write(write)

    async def delete(self, view_id: int, agent_id: int, may_share: bool) -> None:
        def write(conn: Transaction) -> None:
            owner = saved_views_repo.owner(conn, view_id)
            if owner is None and not may_share:
                raise PermissionDenied("only managers remove shared views")
            if owner is not None and owner != agent_id:
                raise PermissionDenied("this view belongs to someone else")
            saved_views_repo.delete(conn, view_id)

        await self._db.write(write)

    async def for_agent(self, agent_id: int) -> list[ViewWithQuery]:
        """The views the agent sees, each with `query` (its InboxQuery)."""
        return [
            {**view, "query": parse(json.loads(view["filters"]), view["id"])}
            for view in await saved_views_repo.for_agent(self._db, agent_id)
        ]

    async def query(self, view_id: int, agent_id: int) -> InboxQuery:
        """The saved view's query, if the agent may see it."""
        for view in await self.for_agent(agent_id):
            if view["id"] == view_id:
                return view["query"]
        raise NotFound(f"there is no saved view {view_id}")
