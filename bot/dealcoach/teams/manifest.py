"""The Microsoft Teams app package: manifest.json plus two icons, zipped for upload.

`dealcoach teams-package --out dealcoach-teams.zip` writes it with `TEAMS_CLIENT_ID` (the
Azure Bot's Microsoft App ID) filled in; upload the zip in Teams (*Apps → Manage your apps →
Upload an app*) or the Teams admin center. The checked-in `deploy/teams/` holds the same
manifest with the `${{TEAMS_CLIENT_ID}}` placeholder and the icons; a test keeps them equal.

The icons are drawn here (a tiny PNG writer on zlib), so the package needs no image library
and no file from `deploy/`: a 192×192 colour icon and a 32×32 white-on-transparent outline,
as Teams requires.
"""

from __future__ import annotations

import io
import json
import re
import struct
import zipfile
import zlib
from collections.abc import Callable
from typing import Any

from dealcoach import __version__
from dealcoach.errors import ConfigError
from dealcoach.public_url import EXAMPLE_URL, validate_public_url

MANIFEST_VERSION = "1.22"
SCHEMA_URL = (
    f"https://developer.microsoft.com/json-schemas/teams/v{MANIFEST_VERSION}"
    "/MicrosoftTeams.schema.json"
)
CLIENT_ID_PLACEHOLDER = "${{TEAMS_CLIENT_ID}}"
ACCENT = (0x1D, 0x4E, 0x89)
COLOR_ICON = "color.png"
OUTLINE_ICON = "outline.png"

# (title, description) of the personal-scope command menu; titles are what the user types.
COMMANDS: list[tuple[str, str]] = [
    ("dealcoach", "Start a deal review (add a deal name to name it)"),
    ("review", "Start or resume a deal review"),
    ("history", "Your last reviews"),
    ("digest", "Preview your team's weekly digest (managers)"),
    ("lang", "Set your language: lang en or lang nl"),
    ("help", "What dealcoach can do"),
]

_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


def build_teams_manifest(
    client_id: str = CLIENT_ID_PLACEHOLDER, public_url: str | None = None
) -> dict[str, Any]:
    """The Teams app manifest (schema 1.22) for a personal-scope bot."""
    base = validate_public_url(public_url) if public_url else EXAMPLE_URL
    host = base.split("://", 1)[1].split("/", 1)[0]
    version = re.match(r"^\d+\.\d+\.\d+", __version__)
    return {
        "$schema": SCHEMA_URL,
        "manifestVersion": MANIFEST_VERSION,
        "version": version.group(0) if version else "1.0.0",
        "id": client_id,
        "developer": {
            "name": "dealcoach",
            "websiteUrl": base,
            "privacyUrl": f"{base}/privacy",
            "termsOfUseUrl": f"{base}/terms",
        },
        "name": {"short": "dealcoach", "full": "dealcoach: deal coaching for sales teams"},
        "description": {
            "short": "Review a deal and get coaching advice: fit, agendas, win-win.",
            "full": (
                "dealcoach walks a salesperson through a structured review of one deal: does "
                "the offer pass the buyer's business round, what does each decision-maker "
                "personally want from it, and is the deal a real win-win or should we walk "
                "away? It answers with concrete coaching advice and next steps, keeps a "
                "history of your reviews, and sends managers a weekly digest of their team's "
                "deals. Write 'help' to the bot to see every command."
            ),
        },
        "icons": {"color": COLOR_ICON, "outline": OUTLINE_ICON},
        "accentColor": "#{:02X}{:02X}{:02X}".format(*ACCENT),
        "bots": [
            {
                "botId": client_id,
                "scopes": ["personal"],
                "isNotificationOnly": False,
                "supportsFiles": False,
                "commandLists": [
                    {
                        "scopes": ["personal"],
                        "commands": [{"title": t, "description": d} for t, d in COMMANDS],
                    }
                ],
            }
        ],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": [host],
    }


def render_teams_manifest(
    client_id: str = CLIENT_ID_PLACEHOLDER, public_url: str | None = None
) -> str:
    return json.dumps(build_teams_manifest(client_id, public_url), indent=2) + "\n"


# --- icons ------------------------------------------------------------------------------------

Pixel = tuple[int, int, int, int]


def _png(size: int, pixel: Callable[[int, int], Pixel]) -> bytes:
    """An 8-bit RGBA PNG of `size`×`size`, each pixel from `pixel(x, y)`."""
    raw = bytearray()
    for y in range(size):
        raw.append(0)  # filter type: none
        for x in range(size):
            raw.extend(pixel(x, y))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(raw), 9))
        + chunk(b"IEND", b"")
    )


def _in_mark(u: float, v: float) -> bool:
    """The mark on a unit square: a ring (the deal) around an upward check (the coaching)."""
    du, dv = u - 0.5, v - 0.5
    r2 = du * du + dv * dv
    ring = 0.30**2 <= r2 <= 0.40**2

    # check mark: two thick strokes, (0.32,0.52)→(0.45,0.65)→(0.70,0.38)
    def near(ax: float, ay: float, bx: float, by: float) -> bool:
        vx, vy = bx - ax, by - ay
        t = max(0.0, min(1.0, ((u - ax) * vx + (v - ay) * vy) / (vx * vx + vy * vy)))
        px, py = ax + t * vx - u, ay + t * vy - v
        return px * px + py * py <= 0.045**2

    check = near(0.32, 0.52, 0.45, 0.65) or near(0.45, 0.65, 0.70, 0.38)
    return ring or check


def color_icon() -> bytes:
    """192×192, full colour: a white mark on the accent colour."""
    size = 192

    def pixel(x: int, y: int) -> Pixel:
        if _in_mark((x + 0.5) / size, (y + 0.5) / size):
            return (255, 255, 255, 255)
        return (*ACCENT, 255)

    return _png(size, pixel)


def outline_icon() -> bytes:
    """32×32, white on transparent (Teams tints it)."""
    size = 32

    def pixel(x: int, y: int) -> Pixel:
        inside = _in_mark((x + 0.5) / size, (y + 0.5) / size)
        return (255, 255, 255, 255) if inside else (0, 0, 0, 0)

    return _png(size, pixel)


# --- the package ------------------------------------------------------------------------------


def build_teams_package(client_id: str | None, public_url: str | None = None) -> bytes:
    """The zip Teams accepts: manifest.json, color.png, outline.png at its root."""
    if not client_id or not client_id.strip():
        raise ConfigError(
            "TEAMS_CLIENT_ID is not set: it is the Azure Bot's Microsoft App ID (a GUID)"
        )
    if not _GUID.match(client_id.strip()):
        raise ConfigError(f"TEAMS_CLIENT_ID {client_id!r} is not a GUID (the Microsoft App ID)")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in (
            ("manifest.json", render_teams_manifest(client_id.strip(), public_url).encode()),
            (COLOR_ICON, color_icon()),
            (OUTLINE_ICON, outline_icon()),
        ):
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return buffer.getvalue()
