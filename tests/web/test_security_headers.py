"""Every response carries the security headers; pages' inline code carries the nonce."""

from __future__ import annotations

import re


def test_every_response_has_security_headers(empty_app):
    client = empty_app.test_client()
    for path in ("/conformance", "/collections/nowhere", "/viewer"):
        response = client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-eval" not in csp
        script = re.search(r"script-src ([^;]*)", csp).group(1)
        if path == "/viewer":  # a page with inline code names this response's nonce
            assert re.fullmatch(r"'self' 'nonce-[\w-]+'", script), script
        else:  # JSON drew no page: no inline code may run at all
            assert script == "'self'", script
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_inline_scripts_carry_this_responses_nonce(empty_app):
    response = empty_app.test_client().get("/viewer")
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
    page = response.get_data(as_text=True)
    inline = re.findall(r"<(script|style)(?![^>]*\bsrc=)([^>]*)>", page)
    assert inline, "the viewer has inline code to check"
    for _tag, attributes in inline:
        assert f'nonce="{nonce}"' in attributes
    second = empty_app.test_client().get("/viewer").headers["Content-Security-Policy"]
    assert nonce not in second, "a nonce is used once"
