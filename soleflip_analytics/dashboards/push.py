"""Push the templates into a running Metabase, idempotently.

Order of requests: (log in,) find the database by name, sync its schema and
describe the views in the data model, find or create the collection, then
create or update each card, then each dashboard with its cards' places and
filter wiring. Cards and dashboards are matched by name within the collection;
one whose stored state already matches the template is left alone, so a second
push sends no change at all.

Tabs: ``PUT /api/dashboard/:id`` with ``dashcards`` replaces the dashboard's
tabs with the ``tabs`` sent (none sent: every tab and the cards on it are
deleted), so push sends back the tabs the dashboard has. The template's cards
live on one tab (the one holding them, else the first); the other tabs and
their cards are kept as they are. A dashboard without tabs holds only the
template's cards.

Credentials without data model rights get 403 from the schema sync: push then
leaves the data model alone (``DescribeResult.skipped`` says why) and goes on
with the cards and dashboards.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from soleflip_analytics.dashboards.client import MetabaseClient, MetabaseError
from soleflip_analytics.dashboards.columns import DEFAULT_CURRENCY
from soleflip_analytics.dashboards.datamodel import DescribeResult, describe, synced_tables
from soleflip_analytics.dashboards.descriptions import view_descriptions
from soleflip_analytics.dashboards.payloads import Bundle, build_bundles, with_card_ids
from soleflip_analytics.dashboards.validate import validate

COLLECTION_NAME = "Soleflip analytics"
COLLECTION_DESCRIPTION = (
    "Dashboard templates over the analytics views, maintained as code in soleflip-analytics "
    "and pushed with `soleflip-analytics dashboards push`. Edits made here to its cards and "
    "dashboards are replaced at the next push; copy a dashboard to customise it."
)
_LAYOUT_KEYS = ("id", "row", "col", "size_x", "size_y", "parameter_mappings", "dashboard_tab_id")
# The keys of a dashcard in PUT /api/dashboard/:id (Metabase refuses others).
_DASHCARD_KEYS = (
    "id", "card_id", "action_id", "dashboard_tab_id", "row", "col", "size_x", "size_y",
    "parameter_mappings", "visualization_settings", "inline_parameters",
)  # fmt: skip


@dataclass
class PushResult:
    actions: list[str] = field(default_factory=list)  # "created card 'X' (#12)", one per object
    changes: int = 0  # objects created or updated (data model descriptions included)
    data_model: DescribeResult = field(default_factory=DescribeResult)


def push(
    connect: Callable[[], MetabaseClient],
    database: str | None = None,
    collection: str = COLLECTION_NAME,
    sync_timeout: float = 120.0,
    poll_interval: float = 2.0,
    currency: str = DEFAULT_CURRENCY,
) -> PushResult:
    """Validate the templates, then ``connect`` and bring Metabase in line with them.

    ``database`` is the name of the Metabase database holding the analytics
    views; without it, the only PostgreSQL database that is not a sample.
    Money is shown in ``currency``.
    """
    validate(build_bundles(currency=currency))
    client = connect()
    result = PushResult()
    database_id = find_database(client, database)
    result.data_model = _describe_views(client, database_id, sync_timeout, poll_interval)
    result.changes += len(result.data_model.written)

    collection_id, created = ensure_collection(client, collection)
    result.actions.append(
        _action("created" if created else "found", "collection", collection, collection_id)
    )
    result.changes += created
    existing = collection_items(client, collection_id)
    bundles = build_bundles(database_id, collection_id, currency)
    card_ids: dict[str, dict[str, int]] = {}
    for bundle in bundles:
        card_ids[bundle.directory] = {
            card_file: _upsert_card(
                client, payload, existing.get(("card", payload["name"])), result
            )
            for card_file, payload in bundle.cards.items()
        }
    for bundle in bundles:
        existing_id = existing.get(("dashboard", bundle.dashboard["name"]))
        _upsert_dashboard(client, bundle, card_ids[bundle.directory], existing_id, result)
    return result


def _describe_views(
    client: MetabaseClient, database_id: int, sync_timeout: float, poll_interval: float
) -> DescribeResult:
    views = view_descriptions()
    columns = {view: list(described.columns) for view, described in views.items()}
    try:
        tables = synced_tables(client, database_id, columns, sync_timeout, poll_interval)
        return describe(client, tables, views)
    except MetabaseError as error:
        if error.status != 403:
            raise
        return DescribeResult(skipped=str(error))


def find_database(client: MetabaseClient, name: str | None) -> int:
    """The id of the Metabase database called ``name`` (see ``push``)."""
    listed = client.get("/api/database")
    databases = listed["data"] if isinstance(listed, dict) else listed
    if name is not None:
        matches = [db for db in databases if db["name"] == name]
    else:
        matches = [
            db for db in databases if db.get("engine") == "postgres" and not db.get("is_sample")
        ]
    if len(matches) != 1:
        known = ", ".join(repr(db["name"]) for db in databases) or "none"
        wanted = f"a database named {name!r}" if name else "exactly one PostgreSQL database"
        raise MetabaseError(f"Metabase has not {wanted} (it has: {known}); pass --database NAME.")
    return int(matches[0]["id"])


def ensure_collection(client: MetabaseClient, name: str) -> tuple[int, bool]:
    """The id of the top-level collection called ``name``, created if missing; and whether
    it was created."""
    for found in client.get("/api/collection"):
        if (
            found.get("name") == name
            and found.get("location") == "/"
            and not found.get("archived")
            and found.get("personal_owner_id") is None
        ):
            return int(found["id"]), False
    created = client.post(
        "/api/collection", {"name": name, "description": COLLECTION_DESCRIPTION, "parent_id": None}
    )
    return int(created["id"]), True


def collection_items(client: MetabaseClient, collection_id: int) -> dict[tuple[str, str], int]:
    """(model, name) -> id of the cards and dashboards in the collection (lowest id first)."""
    listed = client.get(f"/api/collection/{collection_id}/items", {"models": ["card", "dashboard"]})
    items: dict[tuple[str, str], int] = {}
    for item in sorted(listed["data"], key=lambda item: item["id"]):
        items.setdefault((item["model"], item["name"]), int(item["id"]))
    return items


def _upsert_card(
    client: MetabaseClient, payload: dict[str, Any], card_id: int | None, result: PushResult
) -> int:
    if card_id is None:
        card_id = int(client.post("/api/card", payload)["id"])
        state = "created"
    elif covers(client.get(f"/api/card/{card_id}", {"legacy-mbql": "true"}), payload):
        state = "unchanged"
    else:
        client.put(f"/api/card/{card_id}", payload)
        state = "updated"
    _record(result, state, "card", payload["name"], card_id)
    return card_id


def _upsert_dashboard(
    client: MetabaseClient,
    bundle: Bundle,
    card_ids: Mapping[str, int],
    dashboard_id: int | None,
    result: PushResult,
) -> None:
    payload = bundle.dashboard
    if dashboard_id is None:
        current = client.post("/api/dashboard", payload)
        dashboard_id, state = int(current["id"]), "created"
    else:
        current, state = client.get(f"/api/dashboard/{dashboard_id}"), "unchanged"
    placed = current.get("dashcards") or []
    tabs = sorted(current.get("tabs") or [], key=lambda tab: tab.get("position", 0))
    ours = set(card_ids.values())
    tab_id = _template_tab(tabs, placed, ours)
    dashcards = with_card_ids(
        bundle.dashcards,
        card_ids,
        {dashcard["card_id"]: dashcard["id"] for dashcard in placed if dashcard["card_id"] in ours},
    )
    if tab_id is not None:
        dashcards = [{**dashcard, "dashboard_tab_id": tab_id} for dashcard in dashcards]
    on_template_tab = [
        dashcard
        for dashcard in placed
        if dashcard["card_id"] in ours or dashcard.get("dashboard_tab_id") == tab_id
    ]
    kept = [_as_sent(dashcard) for dashcard in placed if dashcard not in on_template_tab]
    layout = [{key: dashcard.get(key) for key in _LAYOUT_KEYS} for dashcard in dashcards]
    if not (covers(current, payload) and _same_cards(on_template_tab, layout)):
        client.put(
            f"/api/dashboard/{dashboard_id}",
            {
                **payload,
                "dashcards": dashcards + kept,
                "tabs": [{"id": tab["id"], "name": tab["name"]} for tab in tabs],
            },
        )
        state = "updated" if state == "unchanged" else state
    _record(result, state, "dashboard", payload["name"], dashboard_id)


def _template_tab(
    tabs: list[dict[str, Any]], placed: list[dict[str, Any]], ours: set[int]
) -> int | None:
    """The tab the template's cards are on: the one holding the first of them, else the
    first tab; None on a dashboard without tabs."""
    if not tabs:
        return None
    for dashcard in placed:
        if dashcard["card_id"] in ours and dashcard.get("dashboard_tab_id") is not None:
            return int(dashcard["dashboard_tab_id"])
    return int(tabs[0]["id"])


def _as_sent(dashcard: Mapping[str, Any]) -> dict[str, Any]:
    """A dashcard as Metabase answered it, in the shape PUT /api/dashboard/:id takes."""
    sent = {key: dashcard[key] for key in _DASHCARD_KEYS if key in dashcard}
    sent["series"] = [{"id": card["id"]} for card in dashcard.get("series") or []]
    return sent


def _same_cards(placed: list[dict[str, Any]], layout: list[dict[str, Any]]) -> bool:
    by_id = {dashcard["id"]: dashcard for dashcard in placed}
    return len(placed) == len(layout) and all(
        covers(by_id.get(wanted["id"]), wanted) for wanted in layout
    )


def covers(current: Any, wanted: Any) -> bool:
    """Whether ``current`` (as Metabase returns it) holds everything in ``wanted``;
    keys Metabase adds of its own do not matter."""
    if isinstance(wanted, dict):
        return isinstance(current, dict) and all(
            covers(current.get(key), value) for key, value in wanted.items()
        )
    if isinstance(wanted, list):
        return (
            isinstance(current, list)
            and len(current) == len(wanted)
            and all(covers(have, want) for have, want in zip(current, wanted, strict=True))
        )
    return bool(current == wanted)


def _action(state: str, kind: str, name: str, object_id: int) -> str:
    return f"{state} {kind} {name!r} (#{object_id})"


def _record(result: PushResult, state: str, kind: str, name: str, object_id: int) -> None:
    result.actions.append(_action(state, kind, name, object_id))
    result.changes += state != "unchanged"
