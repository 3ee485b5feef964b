"""The one kind of error that a person's own input causes, raised by any layer, shown by the web.

When what someone sent cannot be accepted, the layer that finds out raises a subclass of
`UserError` (`InvalidCommand`, `AccountError`, `FormRejected`, `ProtocolError` …). The web's error
middleware answers every one with its `status` (400 unless the subclass says otherwise) and its
message, and the visitor websocket sends it back as an error frame on a socket that stays open.
Anything else that escapes a handler is a bug: logged with its traceback and answered 500.

This module imports nothing of ours, so every layer can use it without pointing upwards.
"""

from __future__ import annotations


class UserError(ValueError):
    """Input that cannot be accepted; the message is safe to show to whoever sent it."""

    status = 400

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        """The form field or frame field at fault, when there is one."""


class AlreadyReported(Exception):
    """An error whose cause is logged once where it is found (a full disk), so code that only
    passes it on, such as the supervisor restarting a loop, does not log it again."""
