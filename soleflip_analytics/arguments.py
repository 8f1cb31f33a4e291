"""Checks of the public functions' arguments, before any SQL runs.

Each raises TypeError (wrong kind of value) or ValueError (a value out of
range) naming the argument and what it takes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from datetime import timedelta

from soleflip_analytics.names import TIERS

# PostgreSQL's timeouts are whole milliseconds up to INT_MAX.
MAX_SECONDS = 2_147_483_647 / 1000
_WORD = re.compile(r"[a-z][a-z0-9_]{0,62}")


def flag(argument: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{argument} must be True or False, not {value!r}")
    return value


def whole_number(argument: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{argument} must be a whole number, not {value!r}")
    if value < minimum:
        raise ValueError(f"{argument} must be at least {minimum}, not {value!r}")
    return value


def milliseconds(argument: str, seconds: object) -> str:
    """A timeout in seconds as PostgreSQL's setting: '1500ms'."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise TypeError(f"{argument} must be a number of seconds, not {seconds!r}")
    if not (math.isfinite(seconds) and 0 < seconds <= MAX_SECONDS):
        raise ValueError(
            f"{argument} must be a number of seconds above 0 and at most {MAX_SECONDS:g} "
            f"(PostgreSQL's limit, about 24 days), not {seconds!r}"
        )
    return f"{max(1, round(seconds * 1000))}ms"


def word(argument: str, value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{argument} must be a string, not {value!r}")
    if not _WORD.fullmatch(value):
        raise ValueError(
            f"{argument} must be 1 to 63 lower-case letters, digits and underscores starting "
            f"with a letter (such as manual, event, cron or cli), not {value!r}"
        )
    return value


def tier(argument: str, value: object) -> str | None:
    if value is not None and value not in TIERS:
        raise ValueError(f"{argument} must be one of {', '.join(TIERS)} or None, not {value!r}")
    return value  # type: ignore[return-value]


def names(argument: str, value: object) -> list[str] | None:
    """None, one name or an iterable of names (strings without NUL characters)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    elif isinstance(value, (bytes, bytearray, Mapping)) or not isinstance(value, Iterable):
        raise TypeError(f"{argument} must be a name or an iterable of names, not {value!r}")
    checked = list(value)
    for name in checked:
        if not isinstance(name, str):
            raise TypeError(f"{argument} must hold names (strings), not {name!r}")
        if "\x00" in name:
            raise ValueError(f"{argument} holds {name!r}: a name has no NUL character")
    return checked


def max_ages(argument: str, value: object) -> Mapping[str, timedelta] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise TypeError(f"{argument} must map tiers or view names to timedeltas, not {value!r}")
    for key, limit in value.items():
        names(argument, key if isinstance(key, str) else [key])
        if not isinstance(limit, timedelta) or limit <= timedelta(0):
            raise ValueError(f"{argument}[{key!r}] must be a positive timedelta, not {limit!r}")
    return value
