"""A small client for Metabase's REST API: JSON in, JSON out, one error type."""

from __future__ import annotations

from typing import Any

import requests

from soleflip_analytics.dashboards.permissions import needed


class MetabaseError(RuntimeError):
    """Metabase could not be reached or refused a request; ``status`` is the HTTP
    status of a refusal."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


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
        self.who = "the API key" if "x-api-key" in headers else "the user"

    @classmethod
    def with_api_key(cls, base_url: str, api_key: str) -> MetabaseClient:
        return cls(base_url, {"x-api-key": api_key})

    @classmethod
    def login(cls, base_url: str, username: str, password: str) -> MetabaseClient:
        """Open a session (``POST /api/session``) and use it for every request."""
        anonymous = cls(base_url, {})
        try:
            answer = anonymous.post("/api/session", {"username": username, "password": password})
        except MetabaseError as error:
            if error.status in (400, 401):
                raise MetabaseError(
                    f"Metabase refused the login of {username!r} ({error.status}): check the "
                    "username and password.",
                    error.status,
                ) from None
            raise
        if isinstance(answer, dict) and answer.get("mfa_required"):
            raise MetabaseError(
                f"The Metabase login of {username!r} asks for a second factor (MFA), which "
                "push cannot give: create an API key (Admin > Settings > Authentication > "
                "API keys) and pass it with --api-key instead."
            )
        if not isinstance(answer, dict) or not answer.get("id"):
            raise MetabaseError(f"POST /api/session answered without an id: {answer!r}")
        return cls(base_url, {"X-Metabase-Session": answer["id"]})

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
        status = response.status_code
        if status == 401 and path != "/api/session":
            raise MetabaseError(
                f"Metabase refused the credentials ({method} {path} answered 401): check the "
                "API key, or the username and password.",
                status,
            )
        if status == 403:
            raise MetabaseError(
                f"{method} {path} answered 403: {self.who} needs {needed(method, path)}.", status
            )
        if not response.ok:
            text = " ".join(response.text.split())[:300]
            raise MetabaseError(f"{method} {path} answered {status}: {text}", status)
        return response.json() if response.content else None
