"""A small Slack Web API stand-in, served over HTTP on loopback for the tests.

The app under test talks to it through its ordinary `AsyncWebClient` (`SLACK_API_URL` points
here), so everything between our code and the wire — JSON vs form bodies, the bearer token,
slack_sdk's retry handlers honouring `Retry-After` — is exercised for real.

It records every call (`Call`: method, HTTP verb, headers, query + body params, time) and
answers like Slack does for the methods the app uses: `auth.test`, `views.open` /
`views.update` / `views.push` (a `view` object with an id and hash), `chat.postMessage`
(a `ts`), `chat.postEphemeral`, `users.info` (with `locale` / `tz`), `conversations.open`,
plus `POST /response_url/<id>` for `respond()`. Anything else answers `{"ok": true}`.

File uploads (slack_sdk's `files_upload_v2`): `files.getUploadURLExternal` answers a file id
and an `upload_url` on the stand-in itself (`POST /upload/<file_id>`, recorded as method
`upload` with the raw bytes kept: `uploaded(file_id)`), and `files.completeUploadExternal`
answers the completed files (`uploads()` lists them with their bytes, channel and thread).

For the OAuth install (multi-workspace): `add_workspace(team_id, code=…, bot_token=…)` makes
`oauth.v2.access` exchange that code (once, with the client id/secret given to
`set_app_credentials`, sent as HTTP Basic auth) for that workspace's bot token, and
`auth.test` with that token answer for that workspace; `auth.revoke` or `revoke(token)` kills
a token (`invalid_auth` afterwards). Any other token gets the default workspace `T0ACME`.

Tests script failures per method: `fail(method, status=429, retry_after=1, times=1)`,
`fail(method, status=500)`, `hang(method, seconds)`, or `error(method, "invalid_trigger")`.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

JSON = dict[str, Any]


@dataclass
class Call:
    """One request the app made to the stand-in."""

    method: str  # Web API method ("views.open") or "response_url"
    verb: str
    path: str
    headers: dict[str, str]
    params: JSON  # query string + form/JSON body, merged
    at: float
    status: int = 200

    def json_param(self, name: str) -> Any:
        """A parameter that slack_sdk may send JSON-encoded in a form body (view, blocks)."""
        value = self.params.get(name)
        if isinstance(value, str) and value[:1] in "[{":
            return json.loads(value)
        return value


@dataclass
class _Script:
    status: int = 200
    retry_after: int | None = None
    hang_seconds: float = 0.0
    slack_error: str | None = None
    times: int = 1


@dataclass
class Workspace:
    """A workspace that can install the app through the OAuth flow."""

    team_id: str
    team_name: str
    code: str
    bot_token: str
    bot_user_id: str
    bot_id: str
    installer: str
    scopes: str


@dataclass
class _State:
    calls: list[Call] = field(default_factory=list)
    scripts: dict[str, list[_Script]] = field(default_factory=dict)
    users: dict[str, JSON] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    seq: int = 0
    app_credentials: tuple[str, str] | None = None
    workspaces: dict[str, Workspace] = field(default_factory=dict)  # by team id
    used_codes: set[str] = field(default_factory=set)
    revoked: set[str] = field(default_factory=set)
    pending: dict[str, JSON] = field(default_factory=dict)  # file id → getUploadURLExternal args
    blobs: dict[str, bytes] = field(default_factory=dict)  # file id → bytes POSTed to /upload/
    completed: list[JSON] = field(default_factory=list)  # files.completeUploadExternal, in order


class MockSlackWebApi:
    """Run with `start()` / `stop()` (or as a context manager); `url` is the API base URL."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._state = _State()
        state = self._state

        class Handler(_Handler):
            shared = state

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="mock-slack-web-api", daemon=True
        )
        host_, port = self._server.server_address[:2]
        self.base = f"http://{host_!s}:{port}"
        self.url = f"{self.base}/api/"

    # --- lifecycle --------------------------------------------------------------------

    def start(self) -> MockSlackWebApi:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> MockSlackWebApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- scripting --------------------------------------------------------------------

    def fail(
        self, method: str, *, status: int, retry_after: int | None = None, times: int = 1
    ) -> None:
        """Answer the next `times` calls of `method` with an HTTP error status."""
        self._push(method, _Script(status=status, retry_after=retry_after, times=times))

    def hang(self, method: str, seconds: float, *, times: int = 1) -> None:
        """Answer the next `times` calls of `method` only after `seconds`."""
        self._push(method, _Script(hang_seconds=seconds, times=times))

    def error(self, method: str, slack_error: str, *, times: int = 1) -> None:
        """Answer HTTP 200 with `{"ok": false, "error": slack_error}`."""
        self._push(method, _Script(slack_error=slack_error, times=times))

    def set_user(
        self,
        user_id: str,
        *,
        locale: str = "en-US",
        tz: str = "Europe/Amsterdam",
        name: str | None = None,
        is_admin: bool = False,
    ) -> None:
        with self._state.lock:
            self._state.users[user_id] = {
                "locale": locale,
                "tz": tz,
                "name": name or user_id.lower(),
                "is_admin": is_admin,
            }

    def set_app_credentials(self, client_id: str, client_secret: str) -> None:
        """`oauth.v2.access` then requires these (HTTP Basic auth), like Slack."""
        with self._state.lock:
            self._state.app_credentials = (client_id, client_secret)

    def add_workspace(
        self,
        team_id: str,
        *,
        code: str,
        bot_token: str,
        team_name: str | None = None,
        installer: str = "U0INSTALLER",
        scopes: str = "commands,chat:write,im:write,users:read,team:read,files:write",
    ) -> Workspace:
        ws = Workspace(
            team_id=team_id,
            team_name=team_name or team_id.title(),
            code=code,
            bot_token=bot_token,
            bot_user_id=f"UBOT{team_id}",
            bot_id=f"BBOT{team_id}",
            installer=installer,
            scopes=scopes,
        )
        with self._state.lock:
            self._state.workspaces[team_id] = ws
        return ws

    def revoke(self, token: str) -> None:
        with self._state.lock:
            self._state.revoked.add(token)

    def _push(self, method: str, script: _Script) -> None:
        with self._state.lock:
            self._state.scripts.setdefault(method, []).append(script)

    # --- inspection -------------------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        with self._state.lock:
            return list(self._state.calls)

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def reset(self) -> None:
        with self._state.lock:
            self._state.calls.clear()
            self._state.scripts.clear()

    def uploaded(self, file_id: str) -> bytes | None:
        """The bytes POSTed to a file's upload URL, if any."""
        with self._state.lock:
            return self._state.blobs.get(file_id)

    def uploads(self) -> list[JSON]:
        """Completed uploads, in order: id, title, filename, alt_txt, channel_id, thread_ts,
        and the uploaded bytes as `content`."""
        with self._state.lock:
            return [
                {**done, "content": self._state.blobs.get(str(done["id"]))}
                for done in self._state.completed
            ]

    def response_url(self, name: str = "") -> str:
        return f"{self.base}/response_url/{name or uuid.uuid4().hex[:8]}"

    def wait_for(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5.0,
        where: Callable[[Call], bool] | None = None,
    ) -> list[Call]:
        """Block until at least `count` matching calls were made; fail loudly otherwise."""
        deadline = time.monotonic() + timeout
        while True:
            found = [c for c in self.calls_to(method) if where is None or where(c)]
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                seen = [c.method for c in self.calls]
                raise AssertionError(
                    f"expected {count} call(s) to {method} within {timeout}s, "
                    f"got {len(found)}; calls seen: {seen}"
                )
            time.sleep(0.01)


class _Handler(BaseHTTPRequestHandler):
    shared: _State
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # silence stderr
        return

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, verb: str) -> None:
        split = urlsplit(self.path)
        params: JSON = {k: v[-1] for k, v in parse_qs(split.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        ctype = (self.headers.get("Content-Type") or "").lower()
        if split.path.startswith("/upload/"):
            with self.shared.lock:
                self.shared.blobs[split.path.rsplit("/", 1)[-1]] = raw
            params["length"] = len(raw)
        elif raw:
            if "json" in ctype:
                params.update(json.loads(raw.decode("utf-8")))
            else:
                params.update({k: v[-1] for k, v in parse_qs(raw.decode("utf-8")).items()})
        if split.path.startswith("/response_url/"):
            method = "response_url"
        elif split.path.startswith("/upload/"):
            method = "upload"
        else:
            method = split.path.rsplit("/", 1)[-1]
        state = self.shared
        with state.lock:
            script = None
            queue = state.scripts.get(method)
            if queue:
                script = queue[0]
                script.times -= 1
                if script.times <= 0:
                    queue.pop(0)
            call = Call(
                method=method,
                verb=verb,
                path=split.path,
                headers={k.lower(): v for k, v in self.headers.items()},
                params=params,
                at=time.monotonic(),
            )
            state.calls.append(call)
            state.seq += 1
            seq = state.seq
        if script is not None and script.hang_seconds:
            time.sleep(script.hang_seconds)
        if script is not None and script.status != 200:
            call.status = script.status
            headers = {"Retry-After": str(script.retry_after)} if script.retry_after else {}
            body = {"ok": False, "error": "ratelimited" if script.status == 429 else "fatal_error"}
            self._send(script.status, body, headers)
            return
        if script is not None and script.slack_error:
            self._send(200, {"ok": False, "error": script.slack_error})
            return
        self._send(200, self._answer(method, call, seq))

    def _bearer(self, call: Call) -> str:
        auth = call.headers.get("authorization", "")
        return auth[7:] if auth.lower().startswith("bearer ") else str(call.params.get("token", ""))

    def _oauth_v2_access(self, call: Call) -> JSON:
        state = self.shared
        auth = call.headers.get("authorization", "")
        with state.lock:
            expected = state.app_credentials
            code = str(call.params.get("code", ""))
            ws = next((w for w in state.workspaces.values() if w.code == code), None)
            if expected is not None:
                if not auth.startswith("Basic "):
                    return {"ok": False, "error": "invalid_client_id"}
                given = base64.b64decode(auth[6:]).decode("utf-8").split(":", 1)
                if given[0] != expected[0]:
                    return {"ok": False, "error": "invalid_client_id"}
                if len(given) < 2 or given[1] != expected[1]:
                    return {"ok": False, "error": "bad_client_secret"}
            if ws is None or code in state.used_codes:
                return {"ok": False, "error": "invalid_code"}
            state.used_codes.add(code)
        return {
            "ok": True,
            "app_id": "A0DEALCOACH",
            "authed_user": {"id": ws.installer},
            "scope": ws.scopes,
            "token_type": "bot",
            "access_token": ws.bot_token,
            "bot_user_id": ws.bot_user_id,
            "team": {"id": ws.team_id, "name": ws.team_name},
            "enterprise": None,
            "is_enterprise_install": False,
        }

    def _auth_test(self, call: Call) -> JSON:
        token = self._bearer(call)
        with self.shared.lock:
            if token in self.shared.revoked:
                return {"ok": False, "error": "invalid_auth"}
            ws = next((w for w in self.shared.workspaces.values() if w.bot_token == token), None)
        if ws is not None:
            return {
                "ok": True,
                "url": f"https://{ws.team_id.lower()}.slack.com/",
                "team": ws.team_name,
                "user": "dealcoach",
                "team_id": ws.team_id,
                "user_id": ws.bot_user_id,
                "bot_id": ws.bot_id,
                "is_enterprise_install": False,
            }
        return {
            "ok": True,
            "url": "https://acme.slack.com/",
            "team": "Acme",
            "user": "dealcoach",
            "team_id": "T0ACME",
            "user_id": "UBOT",
            "bot_id": "BBOT",
            "is_enterprise_install": False,
        }

    def _answer(self, method: str, call: Call, seq: int) -> JSON:
        if method == "oauth.v2.access":
            return self._oauth_v2_access(call)
        if method == "auth.revoke":
            with self.shared.lock:
                self.shared.revoked.add(self._bearer(call))
            return {"ok": True, "revoked": True}
        if method == "auth.test":
            return self._auth_test(call)
        if method in ("views.open", "views.push", "views.update"):
            view = call.json_param("view") or {}
            view_id = call.params.get("view_id") or f"V{seq:06d}"
            return {
                "ok": True,
                "view": {
                    **view,
                    "id": view_id,
                    "team_id": "T0ACME",
                    "hash": f"{seq}.{uuid.uuid4().hex[:8]}",
                    "state": {"values": {}},
                    "root_view_id": view_id,
                    "app_id": "A0DEALCOACH",
                    "bot_id": "BBOT",
                },
            }
        if method == "chat.postMessage":
            channel = call.params.get("channel", "")
            return {
                "ok": True,
                "channel": channel,
                "ts": f"{int(time.time())}.{seq:06d}",
                "message": {"text": call.params.get("text", ""), "user": "UBOT"},
            }
        if method == "files.getUploadURLExternal":
            file_id = f"F{seq:08d}"
            with self.shared.lock:
                self.shared.pending[file_id] = dict(call.params)
            host, port = self.server.server_address[:2]
            return {
                "ok": True,
                "file_id": file_id,
                "upload_url": f"http://{host!s}:{port}/upload/{file_id}",
            }
        if method == "upload":
            return {"ok": True}
        if method == "files.completeUploadExternal":
            return self._complete_upload(call)
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": f"{int(time.time())}.{seq:06d}"}
        if method == "conversations.open":
            users = str(call.params.get("users", ""))
            return {"ok": True, "channel": {"id": "D" + users.split(",")[0]}}
        if method == "users.info":
            user_id = str(call.params.get("user", ""))
            with self.shared.lock:
                user = self.shared.users.get(user_id, {})
            return {
                "ok": True,
                "user": {
                    "id": user_id,
                    "team_id": "T0ACME",
                    "name": user.get("name", user_id.lower()),
                    "real_name": user.get("name", user_id.lower()).title(),
                    "tz": user.get("tz", "Europe/Amsterdam"),
                    "locale": user.get("locale", "en-US"),
                    "is_admin": user.get("is_admin", False),
                    "profile": {"display_name": user.get("name", user_id.lower())},
                },
            }
        return {"ok": True}

    def _complete_upload(self, call: Call) -> JSON:
        files = call.json_param("files") or []
        done: list[JSON] = []
        with self.shared.lock:
            for item in files:
                file_id = str(item.get("id", ""))
                asked = self.shared.pending.get(file_id)
                if asked is None or file_id not in self.shared.blobs:
                    return {"ok": False, "error": "file_not_found"}
                record = {
                    "id": file_id,
                    "title": item.get("title"),
                    "filename": asked.get("filename"),
                    "alt_txt": asked.get("alt_txt"),
                    "length": asked.get("length"),
                    "channel_id": call.params.get("channel_id"),
                    "thread_ts": call.params.get("thread_ts"),
                }
                self.shared.completed.append(record)
                done.append({"id": file_id, "title": item.get("title"), "name": record["filename"]})
        return {"ok": True, "files": done}

    def _send(self, status: int, body: JSON, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
