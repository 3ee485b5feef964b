"""Errors the store raises to the layers above it."""


class StoreError(Exception):
    """The database cannot be used as it is; the message says why and what to do."""


class StoreClosed(Exception):
    """The store is shutting down and takes no more writes."""


class NotFound(LookupError):
    """The row asked for does not exist."""
