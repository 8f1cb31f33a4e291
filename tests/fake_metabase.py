"""A small stand-in for Metabase's REST API, served over HTTP on 127.0.0.1.

Metabase cannot run here, so push is tested against this server. It keeps
databases, tables and fields, collections, cards and dashboards in memory,
answers like Metabase does, records every request, and refuses (noting the
reason in ``errors``) what Metabase's handlers refuse. The rules come from
Metabase's source (the API handlers and malli schemas of
metabase.queries-rest.api.card, metabase.dashboards-rest.api,
metabase.warehouse-schema-rest.api.field, metabase.warehouses-rest.api,
metabase.session.api and metabase.parameters.schema):

- closed request schemas: unknown keys of a card, dashboard, dashcard or tab
  are refused; a card's description on create, a field's or table's
  description, a tab's name and a parameter's ``sectionId`` must not be blank;
  ``values_query_type`` is one of none/list/search, ``values_source_type``
  static-list or card;
- ``PUT /api/dashboard/:id`` with ``dashcards``: the dashboard's tabs become
  the ``tabs`` sent (none sent: all deleted, with the cards on them); a
  dashcard not sent is deleted; with one tab, cards without a tab go on it,
  with more every card needs one;
- a schema sync lists the tables before their fields: the first look after the
  tables appear shows fields for only half of them;
- permissions: admin for the schema sync and the data model (table, field),
  curate for collections, cards and dashboards, view for reading; API keys of
  three levels (``API_KEY`` admin, ``CURATOR_KEY``, ``VIEWER_KEY``);
- ``POST /api/session`` of a user with two-factor authentication answers
  ``{"mfa_required": true}`` and no id.

``GET /api/card/:id`` answers in MBQL 5 unless ``legacy-mbql=true``.
Metabase-added keys (created_at, entity_id, ...) are part of its answers.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

API_KEY = "mb_test_api_key"  # an admin's
CURATOR_KEY = "mb_test_curator_key"  # curates collections, writes native queries
VIEWER_KEY = "mb_test_viewer_key"  # views only
USERNAME = "admin@example.com"
MFA_USERNAME = "mfa@example.com"  # same password, two-factor authentication on
PASSWORD = "correct horse battery staple"
SESSION = "0c1d2e3f-4a5b-6c7d-8e9f-a0b1c2d3e4f5"
DATABASE = "soleflip"

VIEW, CURATE, ADMIN = 1, 2, 3
LEVELS = {API_KEY: ADMIN, CURATOR_KEY: CURATE, VIEWER_KEY: VIEW}

# metabase.lib.schema.parameter/types
PARAMETER_TYPES = {
    "number", "text", "date", "boolean", "date/single", "id", "category",
    "location/city", "location/state", "location/zip_code", "location/country",
    "date/range", "date/month-year", "date/quarter-year", "date/relative", "date/all-options",
    "temporal-unit", "number/!=", "number/<=", "number/=", "number/>=", "number/between",
    "string/!=", "string/=", "string/contains", "string/does-not-contain", "string/ends-with",
    "string/starts-with", "boolean/=",
}  # fmt: skip
TAG_TYPES = {"snippet", "card", "dimension", "number", "text", "date", "boolean"}
# metabase.parameters.schema
VALUES_QUERY_TYPES = {"none", "list", "search"}
VALUES_SOURCE_TYPES = {"static-list", "card"}
DASHCARD_KEYS = {
    "id", "size_x", "size_y", "row", "col", "card_id", "action_id", "dashboard_tab_id",
    "parameter_mappings", "visualization_settings", "inline_parameters", "series",
}  # fmt: skip
TAB_KEYS = {"id", "name", "position"}
CARD_CREATE_KEYS = {
    "name", "type", "dataset_query", "entity_id", "parameters", "parameter_mappings",
    "description", "display", "visualization_settings", "collection_id", "collection_position",
    "result_metadata", "cache_ttl", "dashboard_id", "dashboard_tab_id",
}  # fmt: skip
CARD_UPDATE_KEYS = {
    "name", "parameters", "dataset_query", "type", "display", "description",
    "visualization_settings", "archived", "enable_embedding", "embedding_params",
    "collection_id", "collection_position", "result_metadata", "cache_ttl",
    "collection_preview", "dashboard_id", "dashboard_tab_id",
}  # fmt: skip
DASHBOARD_CREATE_KEYS = {
    "name", "description", "parameters", "cache_ttl", "collection_id", "collection_position",
}  # fmt: skip
DASHBOARD_UPDATE_KEYS = {
    "name", "description", "caveats", "points_of_interest", "show_in_getting_started",
    "enable_embedding", "embedding_params", "parameters", "position", "width", "archived",
    "collection_id", "collection_position", "cache_ttl", "dashcards", "tabs",
    "auto_apply_filters",
}  # fmt: skip
TABLE_UPDATE_KEYS = {
    "display_name", "entity_type", "visibility_type", "description", "caveats",
    "points_of_interest", "show_in_getting_started", "field_order", "data_authority",
}  # fmt: skip
FIELD_UPDATE_KEYS = {
    "caveats", "description", "display_name", "fk_target_field_id", "points_of_interest",
    "semantic_type", "coercion_strategy", "visibility_type", "has_field_values",
    "settings", "nfc_path", "json_unfolding",
}  # fmt: skip
SERVER_KEYS = {"created_at": "2025-01-01T00:00:00Z", "entity_id": "abcdefghijklmnopqrstu"}


class Refused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any


def _check(condition: bool, reason: str) -> None:
    if not condition:
        raise Refused(400, reason)


def _positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _non_blank(value: object) -> bool:
    return isinstance(value, str) and value.strip() != ""


class FakeMetabase:
    """Metabase's API for one PostgreSQL database holding the analytics views.

    ``views`` maps each view to its columns; the views appear in the database's
    metadata only after ``POST /api/database/:id/sync_schema``, and
    ``polls_until_synced`` metadata requests later; the fields of the second half
    of the views ``polls_until_fields`` requests after that.
    """

    def __init__(
        self,
        views: Mapping[str, list[str]],
        table_descriptions: Mapping[str, str] | None = None,
        field_descriptions: Mapping[tuple[str, str], str] | None = None,
        polls_until_synced: int = 1,
        polls_until_fields: int = 1,
    ) -> None:
        self._ids = itertools.count(100)
        self.databases = [
            {"id": 1, "name": "Sample Database", "engine": "h2", "is_sample": True},
            {"id": 2, "name": DATABASE, "engine": "postgres", "is_sample": False},
        ]
        table_descriptions = table_descriptions or {}
        field_descriptions = field_descriptions or {}
        self.tables = {}
        self.fields = {}
        for view, columns in views.items():
            table = {
                "id": next(self._ids), "db_id": 2, "schema": "analytics", "name": view,
                "description": table_descriptions.get(view), "fields": [],
            }  # fmt: skip
            for column in columns:
                field = {
                    "id": next(self._ids), "table_id": table["id"], "name": column,
                    "description": field_descriptions.get((view, column)),
                }  # fmt: skip
                self.fields[field["id"]] = field
                table["fields"].append(field)
            self.tables[table["id"]] = table
        self.synced = False
        self.polls_until_synced = polls_until_synced
        self.polls_until_fields = polls_until_fields
        self.collections: dict[int, dict[str, Any]] = {}
        self.cards: dict[int, dict[str, Any]] = {}
        self.dashboards: dict[int, dict[str, Any]] = {}
        self.requests: list[Request] = []
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FakeMetabase:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def writes(self, since: int = 0) -> list[Request]:
        """Requests (from number ``since`` on) that would change Metabase's content."""
        return [
            r for r in self.requests[since:]
            if r.method in ("POST", "PUT") and r.path != "/api/session"
            and not r.path.endswith("/sync_schema")
        ]  # fmt: skip

    # -- dispatch -----------------------------------------------------------------

    def handle(self, method: str, path: str, query: dict[str, list[str]], headers: Any, body: Any):
        with self._lock:
            self.requests.append(Request(method, path, query, body))
            try:
                level = LEVELS.get(headers.get("x-api-key"), 0)
                if headers.get("X-Metabase-Session") == SESSION:
                    level = ADMIN
                for route_method, pattern, needed, action in self._routes():
                    match = re.fullmatch(pattern, path)
                    if route_method == method and match:
                        if needed and not level:
                            raise Refused(401, f"{method} {path} without valid credentials")
                        if level < needed:
                            raise Refused(403, "You don't have permissions to do that.")
                        return 200, action(*map(int, match.groups()), query=query, body=body)
                raise Refused(404, f"no route {method} {path}")
            except Refused as refused:
                self.errors.append(f"{method} {path}: {refused}")
                return refused.status, {"message": str(refused)}

    def _routes(self) -> list[tuple[str, str, int, Callable[..., Any]]]:
        """(method, path, level needed (0: none), action)."""
        return [
            ("POST", r"/api/session", 0, self._login),
            ("GET", r"/api/database", VIEW, self._databases),
            ("POST", r"/api/database/(\d+)/sync_schema", ADMIN, self._sync),
            ("GET", r"/api/database/(\d+)/metadata", VIEW, self._metadata),
            ("PUT", r"/api/table/(\d+)", ADMIN, self._put_table),
            ("PUT", r"/api/field/(\d+)", ADMIN, self._put_field),
            ("GET", r"/api/collection", VIEW, self._list_collections),
            ("POST", r"/api/collection", CURATE, self._create_collection),
            ("GET", r"/api/collection/(\d+)/items", VIEW, self._items),
            ("POST", r"/api/card", CURATE, self._create_card),
            ("GET", r"/api/card/(\d+)", VIEW, self._get_card),
            ("PUT", r"/api/card/(\d+)", CURATE, self._update_card),
            ("POST", r"/api/dashboard", CURATE, self._create_dashboard),
            ("GET", r"/api/dashboard/(\d+)", VIEW, self._get_dashboard),
            ("PUT", r"/api/dashboard/(\d+)", CURATE, self._update_dashboard),
        ]

    # -- session, databases, data model -------------------------------------------

    def _login(self, *, query, body):
        if body == {"username": MFA_USERNAME, "password": PASSWORD}:
            return {"mfa_required": True, "challenge_token": "eyJhbGciOiJIUzI1NiJ9.e30.x"}
        if body != {"username": USERNAME, "password": PASSWORD}:
            raise Refused(401, "Password did not match stored password.")
        return {"id": SESSION}

    def _databases(self, *, query, body):
        return {"data": copy.deepcopy(self.databases), "total": len(self.databases)}

    def _database(self, database_id: int) -> dict[str, Any]:
        for database in self.databases:
            if database["id"] == database_id:
                return database
        raise Refused(404, f"no database {database_id}")

    def _sync(self, database_id, *, query, body):
        self._database(database_id)
        self.synced = True
        return {"status": "ok"}

    def _metadata(self, database_id, *, query, body):
        database = copy.deepcopy(self._database(database_id))
        tables = []
        if self.synced:
            self.polls_until_synced -= 1
            if self.polls_until_synced < 0:
                self.polls_until_fields -= 1
            if self.polls_until_synced <= 0:
                tables = copy.deepcopy(
                    [t for t in self.tables.values() if t["db_id"] == database_id]
                )
            if self.polls_until_fields > 0:  # tables first, then their fields
                for table in tables[len(tables) // 2 :]:
                    table["fields"] = []
        return {**database, "tables": tables}

    def _describe(self, registry, object_id, allowed, body):
        _check(self.synced, "table metadata changed before the schema sync")
        target = registry.get(object_id)
        if target is None:
            raise Refused(404, f"no such object {object_id}")
        _check(isinstance(body, dict) and set(body) <= allowed, f"unknown keys in {body!r}")
        description = body.get("description")
        _check(description is None or _non_blank(description), "description must be non-blank")
        target.update(body)
        return copy.deepcopy(target)

    def _put_table(self, table_id, *, query, body):
        return self._describe(self.tables, table_id, TABLE_UPDATE_KEYS, body)

    def _put_field(self, field_id, *, query, body):
        return self._describe(self.fields, field_id, FIELD_UPDATE_KEYS, body)

    # -- collections ----------------------------------------------------------------

    def _list_collections(self, *, query, body):
        root = {"id": "root", "name": "Our analytics", "location": None}
        return [root, *copy.deepcopy(list(self.collections.values()))]

    def _create_collection(self, *, query, body):
        _check(_non_blank(body.get("name")), "collection name must be a non-blank string")
        _check(body.get("parent_id") is None, "only top-level collections here")
        collection = {
            "id": next(self._ids), "name": body["name"], "description": body.get("description"),
            "location": "/", "archived": False, "personal_owner_id": None, **SERVER_KEYS,
        }  # fmt: skip
        self.collections[collection["id"]] = collection
        return copy.deepcopy(collection)

    def _items(self, collection_id, *, query, body):
        models = set(query.get("models", ["card", "dashboard"]))
        items = [
            {"id": item_id, "name": item["name"], "model": model, "archived": False}
            for model, registry in (("card", self.cards), ("dashboard", self.dashboards))
            if model in models
            for item_id, item in registry.items()
            if item["collection_id"] == collection_id and not item.get("archived")
        ]
        return {"data": items, "total": len(items), "models": sorted(models)}

    def _collection_id(self, value: object) -> None:
        _check(value is None or value in self.collections, f"no collection {value!r}")

    # -- cards ------------------------------------------------------------------

    def _check_card(self, body: Any, allowed: set[str], creating: bool) -> None:
        _check(isinstance(body, dict), "card body is not an object")
        _check(set(body) <= allowed, f"unknown card keys {sorted(set(body) - allowed)}")
        if creating:
            for key in ("name", "dataset_query", "display", "visualization_settings"):
                _check(key in body, f"card without {key}")
        for key in ("name", "display"):
            if key in body:
                _check(_non_blank(body[key]), f"card {key} must be a non-blank string")
        if "description" in body:  # POST: [:maybe NonBlankString], PUT: [:maybe :string]
            description = body["description"]
            valid = _non_blank(description) if creating else isinstance(description, str)
            _check(description is None or valid, f"card description {description!r}")
        _check(body.get("type") in (None, "question", "model", "metric"), "bad card type")
        _check(isinstance(body.get("visualization_settings", {}), dict), "settings not a map")
        if "collection_id" in body:
            self._collection_id(body["collection_id"])
        self._check_parameters(body.get("parameters"))
        if "dataset_query" in body:
            self._check_native_query(body["dataset_query"])

    def _check_native_query(self, query: Any) -> None:
        _check(isinstance(query, dict) and query.get("type") == "native", "not a native query")
        _check(_positive_int(query.get("database")), "dataset_query.database is no database id")
        self._database(query["database"])
        native = query.get("native")
        _check(isinstance(native, dict) and isinstance(native.get("query"), str), "no SQL")
        tags = native.get("template-tags", {})
        _check(isinstance(tags, dict), "template-tags is not a map")
        for name, tag in tags.items():
            _check(tag.get("name") == name, f"template tag {name!r} named {tag.get('name')!r}")
            _check(_non_blank(tag.get("display-name")), f"tag {name!r} without display-name")
            _check(tag.get("type") in TAG_TYPES, f"tag {name!r} of unknown type")
            _check(_non_blank(tag.get("id")), f"tag {name!r} without id")

    def _create_card(self, *, query, body):
        self._check_card(body, CARD_CREATE_KEYS, creating=True)
        card = {
            "description": None, "collection_id": None, "parameters": [], "type": "question",
            "archived": False, **copy.deepcopy(body), "id": next(self._ids), **SERVER_KEYS,
        }  # fmt: skip
        self.cards[card["id"]] = card
        return self._card_answer(card, legacy=True)

    def _card(self, card_id: int) -> dict[str, Any]:
        if card_id not in self.cards:
            raise Refused(404, f"no card {card_id}")
        return self.cards[card_id]

    def _card_answer(self, card: dict[str, Any], legacy: bool) -> dict[str, Any]:
        answer = copy.deepcopy(card)
        if not legacy:  # v0.57 answers in MBQL 5 unless asked for legacy MBQL
            old = answer["dataset_query"]
            answer["dataset_query"] = {
                "lib/type": "mbql/query",
                "database": old["database"],
                "stages": [
                    {
                        "lib/type": "mbql.stage/native",
                        "native": old["native"]["query"],
                        "template-tags": old["native"].get("template-tags", {}),
                    }
                ],
            }
        return answer

    def _get_card(self, card_id, *, query, body):
        return self._card_answer(self._card(card_id), query.get("legacy-mbql") == ["true"])

    def _update_card(self, card_id, *, query, body):
        card = self._card(card_id)
        self._check_card(body, CARD_UPDATE_KEYS, creating=False)
        card.update(copy.deepcopy(body))
        return self._card_answer(card, legacy=True)

    # -- dashboards ---------------------------------------------------------------

    def _check_parameters(self, parameters: Any) -> None:
        _check(parameters is None or isinstance(parameters, list), "parameters not a list")
        for parameter in parameters or []:
            _check(isinstance(parameter, dict), f"parameter {parameter!r} is not a map")
            _check(_non_blank(parameter.get("id")), f"parameter without id: {parameter!r}")
            _check(parameter.get("type") in PARAMETER_TYPES, f"bad parameter {parameter!r}")
            for key in ("name", "slug"):
                _check(isinstance(parameter.get(key, ""), str), f"parameter {key} is no string")
            if "sectionId" in parameter:
                _check(_non_blank(parameter["sectionId"]), "blank parameter sectionId")
            for key, allowed in (
                ("values_query_type", VALUES_QUERY_TYPES),
                ("values_source_type", VALUES_SOURCE_TYPES),
            ):
                _check(parameter.get(key) in (None, *allowed), f"{key} {parameter.get(key)!r}")
            config = parameter.get("values_source_config")
            _check(config is None or isinstance(config, dict), "values_source_config not a map")

    def _create_dashboard(self, *, query, body):
        _check(isinstance(body, dict) and set(body) <= DASHBOARD_CREATE_KEYS, "bad keys")
        _check(_non_blank(body.get("name")), "dashboard name must be a non-blank string")
        _check(body.get("description") is None or isinstance(body["description"], str), "desc")
        self._check_parameters(body.get("parameters"))
        self._collection_id(body.get("collection_id"))
        dashboard = {
            "description": None, "collection_id": None, "archived": False, "width": "fixed",
            **copy.deepcopy(body), "parameters": copy.deepcopy(body.get("parameters") or []),
            "id": next(self._ids), "dashcards": [], "tabs": [], **SERVER_KEYS,
        }  # fmt: skip
        self.dashboards[dashboard["id"]] = dashboard
        return copy.deepcopy(dashboard)

    def _dashboard(self, dashboard_id: int) -> dict[str, Any]:
        if dashboard_id not in self.dashboards:
            raise Refused(404, f"no dashboard {dashboard_id}")
        return self.dashboards[dashboard_id]

    def _get_dashboard(self, dashboard_id, *, query, body):
        answer = copy.deepcopy(self._dashboard(dashboard_id))
        for dashcard in answer["dashcards"]:
            if dashcard.get("card_id") is not None:
                card = self.cards[dashcard["card_id"]]
                dashcard["card"] = self._card_answer(card, legacy=False)
            dashcard["series"] = [
                self._card_answer(self.cards[series["id"]], legacy=False)
                for series in dashcard.get("series") or []
            ]
        return answer

    def _update_dashboard(self, dashboard_id, *, query, body):
        dashboard = self._dashboard(dashboard_id)
        _check(isinstance(body, dict), "body is not an object")
        unknown = set(body) - DASHBOARD_UPDATE_KEYS
        _check(not unknown, f"unknown dashboard keys {sorted(unknown)}")
        if "name" in body:
            _check(_non_blank(body["name"]), "dashboard name must be a non-blank string")
        if "parameters" in body:
            self._check_parameters(body["parameters"])
        if "collection_id" in body:
            self._collection_id(body["collection_id"])
        parameters = body.get("parameters", dashboard["parameters"])
        placed = None
        if "dashcards" in body:  # then "tabs" too, missing or not (update-dashboard!)
            placed = self._placed(dashboard, body["dashcards"], body.get("tabs"), parameters)
        dashboard.update(
            {k: copy.deepcopy(v) for k, v in body.items() if k not in ("dashcards", "tabs")}
        )
        if placed is not None:
            dashboard["tabs"], dashboard["dashcards"] = placed
        return self._get_dashboard(dashboard_id, query={}, body=None)

    def _new_tabs(self, dashboard, tabs: Any) -> tuple[list, dict[int, int]]:
        """The dashboard's tabs after a PUT (the tabs sent, in order) and new tab ids."""
        _check(tabs is None or isinstance(tabs, list), "tabs is not a list")
        tabs = tabs or []
        ids = [tab.get("id") for tab in tabs if isinstance(tab, dict)]
        _check(len(ids) == len(tabs) and len(set(ids)) == len(ids), "tab ids are not unique")
        own = {tab["id"] for tab in dashboard["tabs"]}
        new_ids: dict[int, int] = {}
        result = []
        for position, tab in enumerate(tabs):
            _check(set(tab) <= TAB_KEYS, f"unknown tab keys {sorted(set(tab) - TAB_KEYS)}")
            _check(isinstance(tab["id"], int), f"tab id {tab['id']!r}")
            _check(_non_blank(tab.get("name")), "tab name must be a non-blank string")
            _check(tab["id"] < 0 or tab["id"] in own, "tab of another dashboard")
            tab_id = tab["id"] if tab["id"] > 0 else new_ids.setdefault(tab["id"], next(self._ids))
            result.append(
                {
                    "id": tab_id, "dashboard_id": dashboard["id"], "name": tab["name"],
                    "position": position, **SERVER_KEYS,
                }
            )  # fmt: skip
        return result, new_ids

    def _placed(
        self, dashboard, dashcards: Any, tabs: Any, parameters: list[dict[str, Any]]
    ) -> tuple[list, list]:
        """The dashboard's tabs and dashcards after a PUT: the tabs sent replace the
        dashboard's (deleted tabs take their cards along), the dashcards sent replace
        its dashcards (ids <= 0 are created)."""
        new_tabs, new_tab_ids = self._new_tabs(dashboard, tabs)
        _check(isinstance(dashcards, list), "dashcards is not a list")
        ids = [dashcard.get("id") for dashcard in dashcards]
        _check(len(ids) == len(set(ids)), "dashcard ids are not unique")
        tab_ids = {tab["id"] for tab in new_tabs}
        own = {dashcard["id"] for dashcard in dashboard["dashcards"]}
        parameter_ids = {parameter["id"] for parameter in parameters}
        placed = []
        for dashcard in dashcards:
            unknown = set(dashcard) - DASHCARD_KEYS
            _check(not unknown, f"unknown dashcard keys {sorted(unknown)}")
            _check(isinstance(dashcard.get("id"), int), f"dashcard id {dashcard.get('id')!r}")
            _check(dashcard["id"] < 0 or dashcard["id"] in own, "dashcard of another dashboard")
            for key in ("size_x", "size_y"):
                _check(_positive_int(dashcard.get(key)), f"dashcard {key} must be positive")
            for key in ("row", "col"):
                value = dashcard.get(key)
                _check(isinstance(value, int) and value >= 0, f"dashcard {key} must be >= 0")
            tab_id = dashcard.get("dashboard_tab_id")
            if tab_id is None and len(new_tabs) == 1:
                tab_id = new_tabs[0]["id"]
            tab_id = new_tab_ids.get(tab_id, tab_id)
            no_tab = "This dashboard has tab, makes sure every card has a tab"
            _check(tab_id is not None or not new_tabs, no_tab)
            _check(tab_id is None or tab_id in tab_ids, f"dashcard on no tab of it: {tab_id}")
            for series in dashcard.get("series") or []:
                _check(set(series) == {"id"}, "a series is sent as {id}")
                self._card(series["id"])
            card_id = dashcard.get("card_id")
            if card_id is not None or not dashcard.get("visualization_settings"):
                _check(_positive_int(card_id), f"dashcard card_id {card_id!r} is no card id")
                tags = self._card(card_id)["dataset_query"]["native"].get("template-tags", {})
            else:  # a text card: no query
                tags = {}
            for mapping in dashcard.get("parameter_mappings") or []:
                _check(_non_blank(mapping.get("parameter_id")), "mapping without parameter_id")
                _check(mapping["parameter_id"] in parameter_ids, "mapping to no dashboard filter")
                _check(mapping.get("card_id") == card_id, "mapping names another card")
                target = mapping.get("target")
                _check(
                    isinstance(target, list) and target[:1] == ["variable"]
                    and target[1][:1] == ["template-tag"] and target[1][1] in tags,
                    f"mapping target {target!r} is no template tag of the card",
                )  # fmt: skip
            placed.append(
                {
                    "visualization_settings": {}, "series": [], **copy.deepcopy(dashcard),
                    "dashboard_tab_id": tab_id,
                    "id": dashcard["id"] if dashcard["id"] > 0 else next(self._ids),
                    "dashboard_id": dashboard["id"], **SERVER_KEYS,
                }
            )  # fmt: skip
        return new_tabs, placed


def _handler(fake: FakeMetabase) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            status, answer = fake.handle(
                self.command, parts.path.rstrip("/") or "/", parse_qs(parts.query),
                self.headers, body,
            )  # fmt: skip
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = _serve

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler
