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


def content_security_policy(nonce: str | None) -> str:
    """Return the Content-Security-Policy header value for a response using `nonce` (None:
    a response that drew no page with inline code, which then may run none)."""
    own = f"'self' 'nonce-{nonce}'" if nonce else "'self'"
    return "; ".join([
        "default-src 'self'",
        f"script-src {own}",
        f"style-src {own}",
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


FIXED_HEADERS = (("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY"),
                 ("Referrer-Policy", "same-origin"),
                 ("Cross-Origin-Opener-Policy", "same-origin"))
NO_INLINE_POLICY = content_security_policy(None)


def _headers(response: Response) -> Response:
    headers = response.headers
    if "Content-Security-Policy" not in headers:
        nonce = g.get("csp_nonce")  # set only when a page used it
        headers["Content-Security-Policy"] = (content_security_policy(nonce) if nonce
                                              else NO_INLINE_POLICY)
    for name, value in FIXED_HEADERS:
        if name not in headers:
            headers.add(name, value)
    return response


def init_app(app: Flask) -> None:
    """Give templates `csp_nonce` and every response the security headers."""
    app.context_processor(lambda: {"csp_nonce": _nonce()})
    app.after_request(_headers)
