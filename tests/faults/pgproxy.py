"""A loopback TCP proxy in front of PostgreSQL, to restart "the database" safely in a test.

The machine's PostgreSQL service is shared and may not be restarted, so the app under test
connects through this proxy instead. `down()` does to the app what a PostgreSQL restart does:
every open connection is cut (the client sees the server close the connection) and new
connections are refused until `up()`. Nothing else on the machine notices.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from urllib.parse import urlsplit, urlunsplit


class PgProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port = int(self._listener.getsockname()[1])
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._accepting = True
        self._closed = False
        self.connections = 0  # accepted while up
        self._thread = threading.Thread(target=self._accept_loop, daemon=True, name="pgproxy")

    @classmethod
    def for_url(cls, sqlalchemy_url: str) -> PgProxy:
        parts = urlsplit(sqlalchemy_url)
        return cls(parts.hostname or "127.0.0.1", parts.port or 5432)

    def url(self, sqlalchemy_url: str) -> str:
        """`sqlalchemy_url` pointed at the proxy (same user, database and options)."""
        parts = urlsplit(sqlalchemy_url)
        netloc = parts.netloc.rsplit("@", 1)
        host = f"127.0.0.1:{self.port}"
        new = f"{netloc[0]}@{host}" if len(netloc) == 2 else host
        return urlunsplit((parts.scheme, new, parts.path, parts.query, parts.fragment))

    def start(self) -> PgProxy:
        self._thread.start()
        return self

    def down(self) -> None:
        """Cut every connection and refuse new ones (the database is restarting)."""
        with self._lock:
            self._accepting = False
            victims = list(self._open)
            self._open.clear()
        for sock in victims:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()

    def up(self) -> None:
        with self._lock:
            self._accepting = True

    def close(self) -> None:
        self.down()
        self._closed = True
        with contextlib.suppress(OSError):
            self._listener.close()

    def _accept_loop(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                accepting = self._accepting
            if not accepting:
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open.update((client, upstream))
                self.connections += 1
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                with self._lock:
                    self._open.discard(sock)
