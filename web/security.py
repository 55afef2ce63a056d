"""Refusing cross-site requests: another web page must not drive a student's broker.

A browser names the page a request comes from in the `Origin` header (on every POST/PUT/DELETE
and on every websocket handshake). When it names another site than the one serving QueueLab
(the `Host` header), the request is refused. curl and scripts send no Origin and are served:
QueueLab has no users or passwords, so this guards only against other pages in the same browser.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Request

STATE_CHANGING = frozenset({"POST", "PUT", "DELETE", "PATCH"})


def cross_site_reason(request: Request) -> str | None:
    """Why this request looks cross-site (a sentence for the error), or None when it is fine."""
    origin = request.headers.get("Origin")
    if origin is None:
        if request.headers.get("Sec-Fetch-Site") == "cross-site":
            return "the browser says this request comes from another site (Sec-Fetch-Site)"
        return None
    try:
        parts = urlsplit(origin)
        netloc = parts.netloc.lower()
        scheme = parts.scheme.lower()
    except ValueError:
        return f"the Origin header '{origin[:100]}' is not a URL"
    if origin == "null" or not netloc:
        return "requests from a page without an origin (a file or sandbox) are refused"
    host = (request.host or "").lower()
    if scheme not in ("http", "https"):
        return f"requests from origin '{origin[:100]}' are refused"
    if _with_port(netloc, scheme) != _with_port(host, request.scheme):
        return f"requests from origin '{origin[:100]}' to host '{host[:100]}' are refused"
    return None


def _with_port(netloc: str, scheme: str) -> str:
    """host:port with the scheme's default port written out, so 'h' and 'h:80' compare equal."""
    if netloc.endswith("]") or ":" not in netloc.rsplit("]", 1)[-1]:
        return f"{netloc}:{443 if scheme == 'https' else 80}"
    return netloc
