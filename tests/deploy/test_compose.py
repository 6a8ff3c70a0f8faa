"""deploy/compose.yaml (+ the Socket Mode override) and deploy/.env.example, read statically."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from dealcoach.config import Settings, _is_placeholder
from dealcoach.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
SOCKET = DEPLOY / "compose.socket.yaml"
ENV_EXAMPLE = DEPLOY / ".env.example"

SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|PRIVATE|API_KEY", re.IGNORECASE)
INTERPOLATION = re.compile(r"^\$\{[A-Z_][A-Z0-9_]*(?::?[-?][^}]*)?\}$")
SLACK_TOKEN = re.compile(r"xox[a-z]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+")


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    return load(COMPOSE)["services"]


def test_compose_has_postgres_a_one_shot_migration_and_the_app(services: dict[str, Any]) -> None:
    assert {"postgres", "migrate", "app"} <= set(services)


def test_postgres_is_health_checked_and_keeps_its_data_in_a_named_volume(
    services: dict[str, Any],
) -> None:
    postgres = services["postgres"]
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    [volume] = postgres["volumes"]
    name, _, target = volume.partition(":")
    assert target == "/var/lib/postgresql/data"
    assert name in load(COMPOSE)["volumes"]


def test_migrations_run_once_after_postgres_is_healthy(services: dict[str, Any]) -> None:
    migrate = services["migrate"]
    assert migrate["command"] == ["db", "upgrade"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_the_app_starts_only_after_a_successful_migration(services: dict[str, Any]) -> None:
    app = services["app"]
    assert app["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert app["command"][:1] == ["serve"] and "--socket" not in app["command"]
    assert any(str(p).endswith(":3000") for p in app["ports"])


def test_the_app_is_health_checked_on_healthz(services: dict[str, Any]) -> None:
    check = services["app"]["healthcheck"]
    assert check["test"][0] == "CMD"
    assert "/healthz" in " ".join(check["test"])
    assert check["interval"] and check["retries"] >= 1


def test_app_and_migration_share_one_image_env_file_and_postgres_url(
    services: dict[str, Any],
) -> None:
    for name in ("app", "migrate"):
        service = services[name]
        assert service["env_file"] == ".env"
        assert service["build"]["dockerfile"] == "deploy/Dockerfile"
        assert service["environment"]["DATABASE_URL"].startswith("postgresql+psycopg://")
        assert service["read_only"] is True
    assert services["app"]["image"] == services["migrate"]["image"]


def _strings(node: object, path: str = "") -> list[tuple[str, str]]:
    if isinstance(node, dict):
        return [s for k, v in node.items() for s in _strings(v, f"{path}.{k}")]
    if isinstance(node, list):
        return [s for i, v in enumerate(node) for s in _strings(v, f"{path}[{i}]")]
    return [(path, str(node))] if isinstance(node, str | int | float) else []


@pytest.mark.parametrize("path", [COMPOSE, SOCKET], ids=lambda p: p.name)
def test_no_secret_is_written_inline(path: Path) -> None:
    data = load(path)
    for where, value in _strings(data):
        assert not SLACK_TOKEN.search(value), f"{where} holds a Slack token"
    for service_name, service in data["services"].items():
        environment = service.get("environment") or {}
        assert isinstance(environment, dict), f"{service_name}: use a mapping for environment"
        for key, value in environment.items():
            if SECRET_NAME.search(key):
                assert INTERPOLATION.match(str(value)), f"{service_name}.{key} is inline"
            if key == "DATABASE_URL":
                password = re.match(r"^[^:]+://[^:]+:(.*)@", str(value))
                assert password and INTERPOLATION.match(password.group(1)), (
                    f"{service_name}.DATABASE_URL carries a literal password"
                )


def test_socket_mode_override_switches_the_app_to_socket_mode_only() -> None:
    override = load(SOCKET)["services"]
    assert set(override) == {"app"}
    assert override["app"]["command"][:2] == ["serve", "--socket"]


def _env_example() -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        line = line.strip()
        if line.startswith("#"):
            line = line.lstrip("# ")
            if not re.match(r"^[A-Z][A-Z0-9_]*=", line):
                continue
        if "=" in line:
            key, _, value = line.partition("=")
            values[key] = value
    return values


def test_env_example_names_only_real_settings_and_compose_variables() -> None:
    fields = {name.upper() for name in Settings.model_fields}
    compose_vars = {"POSTGRES_PASSWORD", "DEALCOACH_PORT", "DEALCOACH_IMAGE"}
    unknown = set(_env_example()) - fields - compose_vars
    assert unknown == set()
    for var in re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", COMPOSE.read_text()):
        assert var in _env_example(), f"compose uses ${{{var}}} but .env.example omits it"


def test_env_example_holds_no_real_secret_only_placeholders_or_blanks() -> None:
    for key, value in _env_example().items():
        assert not SLACK_TOKEN.fullmatch(value), key
        if SECRET_NAME.search(key):
            assert value == "" or _is_placeholder(value), f"{key}={value!r} looks real"


def test_the_app_refuses_to_start_on_the_unedited_env_example(tmp_path: Path) -> None:
    settings = Settings(_env_file=ENV_EXAMPLE)
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET still holds a placeholder"):
        settings.require_slack()


def test_the_filled_in_env_file_is_git_ignored() -> None:
    result = subprocess.run(
        ["git", "check-ignore", "-q", "deploy/.env"], cwd=REPO, capture_output=True
    )
    assert result.returncode == 0, "deploy/.env would be committable"


def test_docker_compose_accepts_both_files(tmp_path: Path) -> None:
    docker = shutil.which("docker")
    if (
        docker is None
        or subprocess.run([docker, "compose", "version"], capture_output=True).returncode
    ):
        pytest.skip("the docker compose plugin is not installed (files are checked above)")
    env = tmp_path / ".env"
    env.write_text(
        ENV_EXAMPLE.read_text().replace("POSTGRES_PASSWORD=\n", "POSTGRES_PASSWORD=x1\n")
    )
    for files in ([COMPOSE], [COMPOSE, SOCKET]):
        args = [a for f in files for a in ("-f", str(f))]
        result = subprocess.run(
            [docker, "compose", *args, "--env-file", str(env), "config", "--quiet"],
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stderr
