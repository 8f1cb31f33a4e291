"""A small client for Metabase's REST API: JSON in, JSON out, one error type."""

from __future__ import annotations

from typing import Any

import requests


class MetabaseError(RuntimeError):
    """Metabase could not be reached or refused a request."""


class MetabaseClient:
    """Authenticated requests to one Metabase.

    Authenticate with an API key (header ``x-api-key``) or, through ``login``,
    with a session from a username and password (header ``X-Metabase-Session``).
    """

    def __init__(self, base_url: str, headers: dict[str, str], timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._http = requests.Session()
        self._http.headers.update(headers)

    @classmethod
    def with_api_key(cls, base_url: str, api_key: str) -> MetabaseClient:
        return cls(base_url, {"x-api-key": api_key})

    @classmethod
    def login(cls, base_url: str, username: str, password: str) -> MetabaseClient:
        """Open a session (``POST /api/session``) and use it for every request."""
        anonymous = cls(base_url, {})
        session = anonymous.post("/api/session", {"username": username, "password": password})
        return cls(base_url, {"X-Metabase-Session": session["id"]})

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self._request("GET", path, params=params)

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return self._request("POST", path, json=body)

    def put(self, path: str, body: dict[str, Any]) -> Any:
        return self._request("PUT", path, json=body)

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        url = self.base_url + path
        try:
            response = self._http.request(method, url, timeout=self.timeout, **kwargs)
        except requests.RequestException as error:
            raise MetabaseError(f"cannot reach Metabase at {self.base_url}: {error}") from error
        if not response.ok:
            raise MetabaseError(
                f"{method} {path} answered {response.status_code}: {response.text[:500]}"
            )
        return response.json() if response.content else None
