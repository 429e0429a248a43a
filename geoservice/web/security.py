"""Security headers on every response, with a per-request nonce for our own inline code.

Pages include inline `<script>`/`<style>` only with `nonce="{{ csp_nonce }}"`; everything
else (scripts, styles, fonts, images, tiles) comes from our own origin, so the
Content-Security-Policy below allows nothing from elsewhere. Workers and images may also be
`blob:` (MapLibre builds its workers and sprites that way) and images `data:`.
"""

from __future__ import annotations

import secrets

from flask import Flask, Response, g


def _nonce() -> str:
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def content_security_policy(nonce: str) -> str:
    """Return the Content-Security-Policy header value for a response using `nonce`."""
    return "; ".join([
        "default-src 'self'",
        f"script-src 'self' 'nonce-{nonce}'",
        f"style-src 'self' 'nonce-{nonce}'",
        # Leaflet and MapLibre position elements with style attributes they set themselves.
        "style-src-attr 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "worker-src 'self' blob:",
        "child-src 'self' blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def _headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", content_security_policy(_nonce()))
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    return response


def init_app(app: Flask) -> None:
    """Give templates `csp_nonce` and every response the security headers."""
    app.context_processor(lambda: {"csp_nonce": _nonce()})
    app.after_request(_headers)
