"""The HTML print preview in a real browser (Debian's Chromium, headless) under the strict
Content-Security-Policy: no refused resource, DejaVu Sans loaded from this service, the map
and legend images decoded, the charts drawn, and the browser prints it to A4 PDF pages."""

from __future__ import annotations

from tests.reports.helpers import read_pdf
from tests.web.helpers import serving


def test_preview_page_renders_in_chromium_under_the_csp(demo_db, tmp_path, browser):
    with serving(demo_db, tmp_path) as server:
        page = browser.new_page()
        messages: list[str] = []
        page.on("console", lambda message: messages.append(message.text))
        page.on("pageerror", lambda error: messages.append(str(error)))
        response = page.goto(f"{server.url}/reports/commune/00715.html?year=2024&lang=en",
                             wait_until="load", timeout=120_000)
        assert response.status == 200
        page.wait_for_function("() => document.fonts.status === 'loaded'")
        state = page.evaluate("""() => ({
            font: document.fonts.check('12px "DejaVu Sans"'),
            loaded: [...document.fonts].filter(f => f.status === 'loaded').length,
            images: [...document.images].map(i => i.complete && i.naturalWidth > 0),
            svg: document.querySelectorAll('svg text').length,
            title: document.querySelector('h1').textContent,
            family: getComputedStyle(document.body).fontFamily,
        })""")
        pdf = page.pdf(format="A4", print_background=True)
        page.close()
    assert not messages, messages  # a CSP refusal or script error would be reported here
    assert not server.failures(), server.failures()
    assert state["font"] and state["loaded"] >= 1 and "DejaVu Sans" in state["family"]
    assert state["images"] and all(state["images"]), state["images"]
    assert state["svg"] > 5
    assert state["title"] == "Security and order report: Lũng Cú Commune"
    assert len(read_pdf(pdf).pages) >= 2
