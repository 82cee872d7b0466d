"""HTTP client for the local inference server (stdlib urllib only; safe to use from a worker thread)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

HOST = "127.0.0.1"


class BackendError(Exception):
    """A backend failure with a message for the user, a hint saying what to do about it and, where a
    button can do it, an action (an operator id from ``actions.py``)."""

    def __init__(self, message: str, hint: str = "", action: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.action = action

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class Client:
    """One server at ``http://127.0.0.1:<port>`` guarded by a bearer token."""

    def __init__(self, port: int, token: str, timeout: float = 10.0) -> None:
        self.base_url = f"http://{HOST}:{port}"
        self.token = token
        self.timeout = timeout

    def health(self) -> dict[str, Any]:
        return self._request("GET", "/v1/health", auth=False)

    def submit(self, mesh: dict[str, Any], options: dict[str, Any]) -> str:
        reply = self._request("POST", "/v1/jobs", {"mesh": mesh, "options": options})
        job_id = reply.get("id")
        if not isinstance(job_id, str):
            raise BackendError(f"the backend answered a job submission without an id: {reply!r}")
        return job_id

    def job(self, job_id: str) -> dict[str, Any]:
        return self._request("GET", f"/v1/jobs/{job_id}")

    def cancel(self, job_id: str) -> None:
        self._request("DELETE", f"/v1/jobs/{job_id}")

    def export(self, program: dict[str, Any], fmt: str, name: str) -> dict[str, Any]:
        """The program as a file's text: {"format", "suffix", "content", ...} (fmt: step | cadquery)."""
        return self._request("POST", "/v1/export", {"program": program, "format": fmt, "name": name})

    def _request(self, method: str, path: str, body: Any = None, auth: bool = True) -> dict[str, Any]:
        data = None if body is None else json.dumps(body).encode("utf-8")
        req = urllib.request.Request(self.base_url + path, data=data, method=method)
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if auth:
            req.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            raise _http_error(exc, method, path) from None
        except (TimeoutError, urllib.error.URLError, ConnectionError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, TimeoutError) or isinstance(exc, TimeoutError):
                raise BackendError(
                    f"the backend did not answer {method} {path} within {self.timeout:g} s",
                    "it may be busy; raise the request timeout in the add-on preferences",
                ) from None
            raise BackendError(
                f"the backend is not reachable at {self.base_url} ({reason})",
                "press Start Backend in the CAD panel (or enable auto-start in the preferences)",
            ) from None
        if not raw:
            return {}
        try:
            reply = json.loads(raw)
        except ValueError:
            raise BackendError(f"the backend sent a reply that is not JSON for {method} {path}") from None
        if not isinstance(reply, dict):
            raise BackendError(f"the backend sent an unexpected reply for {method} {path}: {reply!r}")
        return reply


def _http_error(exc: urllib.error.HTTPError, method: str, path: str) -> BackendError:
    try:
        detail = json.loads(exc.read() or b"{}").get("detail", "")
    except (ValueError, AttributeError, OSError):
        detail = ""
    if not isinstance(detail, str):
        detail = json.dumps(detail)
    detail = detail or exc.reason or "no detail"
    if exc.code in (401, 403):
        return BackendError(
            f"the backend rejected the access token ({detail})",
            "stop and start the backend from the CAD panel",
        )
    if exc.code == 404 and path.startswith("/v1/jobs/"):
        return BackendError(
            f"the backend does not know this job ({detail})",
            "the backend was probably restarted; reconstruct again",
        )
    if 400 <= exc.code < 500:
        return BackendError(
            f"the backend refused {method} {path} ({exc.code}): {detail}",
            "check the selected mesh (it must have faces and finite coordinates)",
        )
    return BackendError(
        f"the backend failed on {method} {path} ({exc.code}): {detail}",
        "see the backend log; restart it from the CAD panel",
    )
