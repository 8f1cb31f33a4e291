"""What Metabase asks of the credentials push uses, per endpoint.

From Metabase's API handlers: syncing a database is a write check on the
database, describing tables and fields a write check on them (data model
rights); cards and dashboards need curate access to their collection, and a
native question query rights on the database. A key or user without them gets
403; ``needed`` names what to grant.
"""

from __future__ import annotations

import re

_DATA_MODEL = (
    "admin rights, or the 'Manage table metadata' data permission on the database's "
    "analytics schema"
)
_CURATE = "'Curate' access to the collection"

# (method, path pattern, what it needs), first match wins.
PERMISSIONS: tuple[tuple[str, str, str], ...] = (
    ("POST", r"/api/database/\d+/sync_schema",
     "admin rights, or the 'Manage database' permission on the database"),
    ("GET", r"/api/database(/\d+/metadata)?", "the 'View data' permission on the database"),
    ("PUT", r"/api/table/\d+", _DATA_MODEL),
    ("PUT", r"/api/field/\d+", _DATA_MODEL),
    ("POST", r"/api/collection", "'Curate' access to the root collection (Our analytics)"),
    ("GET", r"/api/collection(/\d+/items)?", "'View' access to the collection"),
    ("POST", r"/api/card", _CURATE + ", and the 'Create queries: Query builder and native' "
     "permission on the database"),
    ("PUT", r"/api/card/\d+", _CURATE + ", and the 'Create queries: Query builder and native' "
     "permission on the database"),
    ("GET", r"/api/(card|dashboard)/\d+", "'View' access to the collection"),
    ("POST", r"/api/dashboard", _CURATE),
    ("PUT", r"/api/dashboard/\d+", _CURATE),
)  # fmt: skip


def needed(method: str, path: str) -> str:
    """What a request needs of its credentials, in Metabase's words."""
    for wanted_method, pattern, permission in PERMISSIONS:
        if method == wanted_method and re.fullmatch(pattern, path):
            return permission
    return "more rights than these credentials have"
