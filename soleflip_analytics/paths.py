"""Where the migrations and SQL files are, in a checkout and in an installed wheel."""

from __future__ import annotations

import os
from pathlib import Path

from soleflip_analytics.names import HOST_VIEWS_ENVIRONMENT

_PACKAGE_DIR = Path(__file__).resolve().parent


def _data_dir(name: str) -> Path:
    # An installed wheel carries the directories inside the package; a checkout
    # keeps them at the repository root, beside the package.
    for candidate in (_PACKAGE_DIR / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"soleflip_analytics: cannot find its {name}/ directory")


def migrations_dir() -> Path:
    return _data_dir("migrations")


def sql_dir() -> Path:
    return _data_dir("sql")


def view_sql_path(view_name: str, version: int) -> Path:
    """``sql/views/<name>/v<N>.sql`` of the package; for a view it does not ship, the
    first ``<name>/v<N>.sql`` of the host's directories (SOLEFLIP_ANALYTICS_HOST_VIEWS)."""
    package = sql_dir() / "views" / view_name
    if not package.is_dir():
        for directory in os.environ.get(HOST_VIEWS_ENVIRONMENT, "").split(os.pathsep):
            if directory and (Path(directory) / view_name).is_dir():
                return Path(directory) / view_name / f"v{version}.sql"
    return package / f"v{version}.sql"


def function_sql_path(function_name: str, version: int) -> Path:
    return sql_dir() / "functions" / function_name / f"v{version}.sql"


def schema_sql_path(topic: str, version: int, down: bool = False) -> Path:
    """``sql/schema/<topic>/v<N>.sql``, or the ``v<N>_down.sql`` that undoes it."""
    return sql_dir() / "schema" / topic / f"v{version}{'_down' if down else ''}.sql"
