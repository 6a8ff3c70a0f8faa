"""The Teams app package: manifest.json + icons, the client id filled in from settings."""

from __future__ import annotations

import io
import json
import os
import re
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pytest

from dealcoach.errors import ConfigError
from dealcoach.teams.manifest import (
    CLIENT_ID_PLACEHOLDER,
    build_teams_manifest,
    build_teams_package,
    color_icon,
    outline_icon,
    render_teams_manifest,
)

REPO = Path(__file__).resolve().parents[2]
TEAMS = REPO / "deploy" / "teams"
CLIENT_ID = "0b0e5c4a-1f2d-4e3b-9a8c-7d6e5f4a3b2c"


def png_info(data: bytes) -> tuple[int, int, list[tuple[int, int, int, int]]]:
    """Width, height and RGBA pixels of an 8-bit RGBA, unfiltered PNG (what we write)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + body), f"bad CRC in {kind!r}"
        if kind == b"IHDR":
            width, height, depth, color_type = struct.unpack(">IIBB", body[:10])
            assert (depth, color_type) == (8, 6)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = 1 + 4 * width
    assert len(raw) == stride * height
    pixels = []
    for y in range(height):
        row = raw[y * stride + 1 : (y + 1) * stride]
        pixels += [tuple(row[i : i + 4]) for i in range(0, len(row), 4)]
    return width, height, pixels  # type: ignore[return-value]


def test_the_manifest_is_a_personal_bot_with_the_command_menu() -> None:
    manifest = build_teams_manifest(CLIENT_ID)
    assert manifest["manifestVersion"] == "1.22"
    assert manifest["$schema"].endswith("/v1.22/MicrosoftTeams.schema.json")
    [bot] = manifest["bots"]
    assert bot["botId"] == CLIENT_ID == manifest["id"]
    assert bot["scopes"] == ["personal"]
    [commands] = bot["commandLists"]
    assert commands["scopes"] == ["personal"]
    titles = [c["title"] for c in commands["commands"]]
    assert titles == ["dealcoach", "review", "history", "digest", "lang", "help"]


def test_the_manifest_stays_inside_the_schemas_limits() -> None:
    manifest = build_teams_manifest(CLIENT_ID, "https://coach.acme.test")
    assert re.fullmatch(r"\d+\.\d+\.\d+", manifest["version"])
    assert len(manifest["name"]["short"]) <= 30
    assert len(manifest["name"]["full"]) <= 100
    assert len(manifest["description"]["short"]) <= 80
    assert len(manifest["description"]["full"]) <= 4000
    assert re.fullmatch(r"#[0-9A-F]{6}", manifest["accentColor"])
    for key in ("websiteUrl", "privacyUrl", "termsOfUseUrl"):
        assert manifest["developer"][key].startswith("https://coach.acme.test")
    assert manifest["validDomains"] == ["coach.acme.test"]
    commands = manifest["bots"][0]["commandLists"][0]["commands"]
    assert len(commands) <= 10
    for command in commands:
        assert len(command["title"]) <= 32 and len(command["description"]) <= 128


def test_the_checked_in_manifest_and_icons_match_what_the_package_holds() -> None:
    checked_in = json.loads((TEAMS / "manifest.json").read_text())
    assert checked_in == json.loads(render_teams_manifest())
    assert checked_in["id"] == CLIENT_ID_PLACEHOLDER == checked_in["bots"][0]["botId"]
    assert (TEAMS / "color.png").read_bytes() == color_icon()
    assert (TEAMS / "outline.png").read_bytes() == outline_icon()


def test_the_colour_icon_is_192_square_and_opaque() -> None:
    width, height, pixels = png_info(color_icon())
    assert (width, height) == (192, 192)
    assert all(p[3] == 255 for p in pixels)
    assert len(set(pixels)) == 2  # background and mark


def test_the_outline_icon_is_32_square_white_on_transparent() -> None:
    width, height, pixels = png_info(outline_icon())
    assert (width, height) == (32, 32)
    assert {p for p in pixels} == {(255, 255, 255, 255), (0, 0, 0, 0)}


def unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.testzip() is None
        return {name: zf.read(name) for name in zf.namelist()}


def test_the_package_zips_manifest_and_icons_at_the_root_with_the_client_id() -> None:
    files = unzip(build_teams_package(CLIENT_ID, "https://coach.acme.test"))
    assert set(files) == {"manifest.json", "color.png", "outline.png"}
    manifest: dict[str, Any] = json.loads(files["manifest.json"])
    assert manifest["id"] == CLIENT_ID
    assert manifest["bots"][0]["botId"] == CLIENT_ID
    assert "${{" not in files["manifest.json"].decode()
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}
    assert files["color.png"] == color_icon()


def test_the_package_is_reproducible() -> None:
    assert build_teams_package(CLIENT_ID) == build_teams_package(CLIENT_ID)


@pytest.mark.parametrize("client_id", [None, "", "   ", "not-a-guid", CLIENT_ID_PLACEHOLDER])
def test_a_missing_or_malformed_client_id_is_one_config_error(client_id: str | None) -> None:
    with pytest.raises(ConfigError, match="TEAMS_CLIENT_ID"):
        build_teams_package(client_id)


def run_cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DEALCOACH_", "TEAMS_"))}
    return subprocess.run(
        [sys.executable, "-m", "dealcoach.cli", *args],
        cwd=tmp_path,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_dealcoach_teams_package_writes_the_zip_for_the_configured_client_id(
    tmp_path: Path,
) -> None:
    out = tmp_path / "pkg.zip"
    result = run_cli(tmp_path, "teams-package", "--out", str(out), TEAMS_CLIENT_ID=CLIENT_ID)
    assert result.returncode == 0, result.stderr
    files = unzip(out.read_bytes())
    assert json.loads(files["manifest.json"])["bots"][0]["botId"] == CLIENT_ID


def test_dealcoach_teams_package_without_a_client_id_says_so_in_one_line(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "teams-package")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "TEAMS_CLIENT_ID" in result.stderr
    assert not (tmp_path / "dealcoach-teams.zip").exists()
