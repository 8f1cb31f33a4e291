"""Headless Chromium for the browser tests, driven over the Chrome DevTools Protocol.

Debian's ``chromium`` runs with its background networking off and speaks the
protocol on a pipe (``--remote-debugging-pipe``: it reads commands from file
descriptor 3 and writes replies and events to 4, each a JSON text ended by a
NUL byte), so the tests need no WebSocket client and open no port. Every event
is kept: console messages, uncaught exceptions and the requests a page made.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--no-first-run",
    "--remote-debugging-pipe",
)


class BrowserError(RuntimeError):
    """Chromium is missing, died, timed out, or answered a command with an error."""


def find_chromium() -> str:
    found = os.environ.get("CHROMIUM") or shutil.which("chromium")
    if not found:
        raise BrowserError(
            "Chromium is not installed: apt-get install chromium (or set CHROMIUM to its path)"
        )
    return found


class Chromium:
    """``with Chromium() as browser: page = browser.open(url)``; closed at the end."""

    def __init__(self, executable: str | None = None, timeout: float = 60.0) -> None:
        self.executable = executable or find_chromium()
        self.timeout = timeout
        self.events: list[dict[str, Any]] = []
        self._buffer = b""
        self._next_id = 0

    def __enter__(self) -> Chromium:
        self._profile = Path(tempfile.mkdtemp(prefix="chromium-profile-"))
        self._log = (self._profile / "chromium.log").open("wb")
        to_browser, self._to_browser = os.pipe()
        self._from_browser, from_browser = os.pipe()
        # Above 2, 3 and 4 so that moving them to 3 and 4 in the child overwrites neither.
        ends = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (to_browser, from_browser)]
        os.close(to_browser)
        os.close(from_browser)

        def pipes_as_3_and_4() -> None:
            os.dup2(ends[0], 3)
            os.dup2(ends[1], 4)

        try:
            self.process = subprocess.Popen(
                [self.executable, *FLAGS, f"--user-data-dir={self._profile}", "about:blank"],
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                preexec_fn=pipes_as_3_and_4,  # safe: the tests start no threads
                close_fds=False,  # or 3 and 4 would be closed; the rest is close-on-exec
            )
        finally:
            for fd in ends:
                os.close(fd)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            with contextlib.suppress(BrowserError):  # it may exit before it replies
                self.send("Browser.close")
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        finally:
            os.close(self._to_browser)
            os.close(self._from_browser)
            self._log.close()
            shutil.rmtree(self._profile, ignore_errors=True)

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None):
        """Run one protocol command and return its result; events meanwhile are kept."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        try:
            os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        except BrokenPipeError:
            raise BrowserError(f"Chromium exited: {self._log_tail()}") from None
        while True:
            reply = self._receive()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error']}")
                return reply["result"]

    def wait_for_event(self, method: str, session: str) -> dict[str, Any]:
        seen = len(self.events)
        while True:
            for event in self.events[seen:]:
                if event["method"] == method and event.get("sessionId") == session:
                    return event["params"]
            seen = len(self.events)
            self._receive()

    def _receive(self) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_browser], [], [], left)[0]:
                raise BrowserError(f"Chromium did not answer within {self.timeout} s")
            chunk = os.read(self._from_browser, 1 << 16)
            if not chunk:
                raise BrowserError(f"Chromium exited: {self._log_tail()}")
            self._buffer += chunk
        text, self._buffer = self._buffer.split(b"\0", 1)
        message = json.loads(text)
        if "method" in message:
            self.events.append(message)
        return message

    def _log_tail(self) -> str:
        self._log.flush()
        return (self._profile / "chromium.log").read_text(errors="replace")[-2000:]

    def open(self, url: str, width: int, height: int) -> Page:
        """A new tab of ``width`` x ``height`` CSS pixels showing ``url``, loaded."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable", session=session)
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
            session=session,
        )
        self.send("Emulation.setScrollbarsHidden", {"hidden": True}, session=session)
        self.send("Page.navigate", {"url": url}, session=session)
        self.wait_for_event("Page.loadEventFired", session)
        return Page(self, session)


class Page:
    """A loaded tab, and what it logged."""

    def __init__(self, browser: Chromium, session: str) -> None:
        self.browser = browser
        self.session = session

    def evaluate(self, expression: str) -> Any:
        """The JSON value of a JavaScript expression; a thrown exception raises BrowserError."""
        reply = self.browser.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
            session=self.session,
        )
        if "exceptionDetails" in reply:
            raise BrowserError(f"{expression}: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    def wait_until(self, expression: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.evaluate(expression):
            if time.monotonic() > deadline:
                raise BrowserError(f"still false after {timeout} s: {expression}")
            time.sleep(0.05)

    def screenshot(self, x: float, y: float, width: float, height: float) -> bytes:
        """A PNG of that part of the page (page coordinates, CSS pixels)."""
        clip = {"x": x, "y": y, "width": width, "height": height, "scale": 1}
        reply = self.browser.send(
            "Page.captureScreenshot",
            {"format": "png", "clip": clip, "captureBeyondViewport": True},
            session=self.session,
        )
        return base64.b64decode(reply["data"])

    def _events(self, *methods: str) -> list[dict[str, Any]]:
        return [
            event["params"]
            for event in self.browser.events
            if event.get("sessionId") == self.session and event["method"] in methods
        ]

    def errors(self) -> list[str]:
        """Console errors, uncaught exceptions and errors Chromium logged for the page."""
        found = [
            " ".join(str(arg.get("value", arg.get("description"))) for arg in call["args"])
            for call in self._events("Runtime.consoleAPICalled")
            if call["type"] in ("error", "assert")
        ]
        found += [
            thrown["exceptionDetails"].get("exception", {}).get("description")
            or thrown["exceptionDetails"]["text"]
            for thrown in self._events("Runtime.exceptionThrown")
        ]
        found += [
            f"{entry['entry']['source']}: {entry['entry']['text']}"
            for entry in self._events("Log.entryAdded")
            if entry["entry"]["level"] == "error"
        ]
        return found

    def requests(self) -> list[str]:
        """The URL of every request the page made."""
        return [sent["request"]["url"] for sent in self._events("Network.requestWillBeSent")]
