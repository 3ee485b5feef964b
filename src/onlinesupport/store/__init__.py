"""The store: SQLite connection and writer, migrations, and one repository module per aggregate.

Nothing outside this package writes SQL. Write functions take the writer's `sqlite3.Connection`
and run inside `Database.write`; read functions are async and take the `Database`.
"""

from onlinesupport.store.database import Database
from onlinesupport.store.errors import NotFound, StorageFull, StoreClosed, StoreError

__all__ = ["Database", "NotFound", "StorageFull", "StoreClosed", "StoreError"]
