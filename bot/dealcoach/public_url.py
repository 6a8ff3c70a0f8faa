"""The rules for the app's public base URL, shared by the Slack manifest and the Teams package.

Both platforms call back to the same server, so one definition of "a usable public URL" lives
here, outside either adapter (adapters never import each other): https:// unless the host is
local, no query or fragment, no trailing slash. `EXAMPLE_URL` is what the checked-in
manifests under `deploy/` are rendered for and what an error message suggests.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from dealcoach.errors import InputError

EXAMPLE_URL = "https://dealcoach.example.com"

_LOCAL_HOSTS = {"localhost"}


def validate_public_url(url: str) -> str:
    """The app's public base URL without a trailing slash; https:// unless it is local."""
    text = url.strip()
    parts = urlsplit(text)
    host = parts.hostname or ""
    problem = None
    if not parts.scheme or not host or any(c.isspace() for c in text):
        problem = "is not an absolute URL"
    elif parts.scheme not in {"https", "http"}:
        problem = "must start with https://"
    elif parts.scheme == "http" and not _is_local(host):
        problem = "must use https:// (plain http:// only for localhost)"
    elif parts.query or parts.fragment:
        problem = "must not carry a query or fragment"
    if problem:
        raise InputError(f"public URL {url!r} {problem}, e.g. {EXAMPLE_URL}")
    return text.rstrip("/")


def _is_local(host: str) -> bool:
    if host in _LOCAL_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
