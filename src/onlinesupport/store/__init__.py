"""The store: SQLite connection and writer, migrations, and one repository module per aggregate.

Nothing outside this package writes SQL or imports `sqlite3`. Write functions take the writer's
connection (`Transaction`) and run inside `Database.write`; read functions are async and take the
`Database`. What they return is a named type (a frozen dataclass, or a TypedDict where callers
use it as a dict), never a `sqlite3.Row`.
"""

import sqlite3

from onlinesupport.store.database import Database
from onlinesupport.store.errors import Conflict, NotFound, StorageFull, StoreClosed, StoreError

Transaction = sqlite3.Connection
"""The writer's connection inside `Database.write`: what write functions and hooks take. Code
outside the store names it only as this type and hands it back to store functions."""

__all__ = [
    "Conflict",
    "Database",
    "NotFound",
    "StorageFull",
    "StoreClosed",
    "StoreError",
    "Transaction",
]
