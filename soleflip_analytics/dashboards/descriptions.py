"""The views' and columns' descriptions: the COMMENTs of each view's newest SQL file.

The newest version file is the one the head migration deploys, so these are
the comments PostgreSQL holds once the database is upgraded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from soleflip_analytics.paths import sql_dir

_COMMENT = re.compile(
    r"COMMENT\s+ON\s+(MATERIALIZED\s+VIEW|COLUMN)\s+([A-Za-z_][\w.]*)\s+IS\s+'((?:[^']|'')*)'\s*;",
    re.IGNORECASE,
)
_VERSION_FILE = re.compile(r"v(\d+)\.sql")


@dataclass(frozen=True)
class ViewDescription:
    view: str  # name in schema analytics
    description: str
    columns: dict[str, str]  # column -> description


def newest_view_files() -> dict[str, Path]:
    """Each view's SQL file of the highest version."""
    newest = {}
    for view_dir in sorted(path for path in (sql_dir() / "views").iterdir() if path.is_dir()):
        versions = {
            int(match.group(1)): path
            for path in view_dir.iterdir()
            if (match := _VERSION_FILE.fullmatch(path.name))
        }
        if versions:
            newest[view_dir.name] = versions[max(versions)]
    return newest


def parse_comments(view: str, sql: str) -> ViewDescription:
    description = ""
    columns = {}
    for kind, target, text in _COMMENT.findall(sql):
        text = text.replace("''", "'")
        if kind.upper().startswith("COLUMN"):
            columns[target.rsplit(".", 1)[1]] = text
        else:
            description = text
    return ViewDescription(view, description, columns)


def view_descriptions() -> dict[str, ViewDescription]:
    """Every view's description and its columns', by view name."""
    return {
        view: parse_comments(view, path.read_text()) for view, path in newest_view_files().items()
    }
