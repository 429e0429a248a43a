"""Decoding report PDFs (pypdf) and formatting figures the way a reader expects to see them.

The expected texts are made here with Babel's CLDR patterns directly, not with the report
code's own formatter: Vietnamese 1.234 and 78,3 %, English 1,234 and 78.3%.
"""

from __future__ import annotations

import io
import math
import unicodedata
from decimal import ROUND_HALF_UP, Decimal

import pypdf
from babel.numbers import format_decimal, format_percent
from PIL import Image

MINUS = "\u2212"
MISSING = "\u2013"  # a figure that does not exist (no previous year, no target basis)


def read_pdf(data: bytes) -> pypdf.PdfReader:
    """Open PDF bytes, checking the signature first."""
    assert data.startswith(b"%PDF-"), data[:20]
    return pypdf.PdfReader(io.BytesIO(data))


def page_texts(reader: pypdf.PdfReader) -> list[str]:
    """The text of every page, checked to be NFC (composed Vietnamese letters)."""
    texts = [page.extract_text() or "" for page in reader.pages]
    for number, text in enumerate(texts, 1):
        assert unicodedata.normalize("NFC", text) == text, f"page {number} is not NFC"
    return texts


def flat(text: str) -> str:
    """Text with line breaks and runs of spaces made single spaces."""
    return " ".join(text.split())


def rate(value: float, lang: str = "vi") -> str:
    """A rate as printed: 78,3 % (vi) or 78.3% (en)."""
    pattern = "#,##0.0 %" if lang == "vi" else "#,##0.0%"
    return format_percent(value, format=pattern, locale=lang)


def exact_rate(part: int, whole: int, lang: str = "vi", target: int = 1) -> str:
    """part ÷ whole as printed: rounded once, half-up, to one decimal (27/38 → 71,1 %),
    with more decimals when one decimal would print a rate short of `target` (a share)
    as reaching it (9.999/10.000 → 99,99 %, never 100,0 %)."""
    for digits in (1, 2, 3):
        value = (Decimal(part) * 100 / Decimal(whole)).quantize(
            Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
        if part * 1 >= target * whole or value < target * 100:
            break
    text = format_decimal(value, format="#,##0." + "0" * digits, locale=lang,
                          decimal_quantization=False)
    return f"{text} %" if lang == "vi" else f"{text}%"


def units_short(certified: int, basis: int, target: float = 1.0) -> int:
    """How many more units the target needs, from the printed counts."""
    return max(0, math.ceil(target * basis) - certified)


def count(value: int, lang: str = "vi") -> str:
    """A count as printed: 1.234 (vi) or 1,234 (en)."""
    return format_decimal(value, format="#,##0", locale=lang)


def points(value: float, lang: str = "vi") -> str:
    """A change in percentage points as printed: +2,1 or −1,0 (a true minus sign)."""
    text = format_decimal(abs(value), format="#,##0.0", locale=lang)
    if text == format_decimal(0, format="#,##0.0", locale=lang):
        return f"±{text}"
    return f"+{text}" if value > 0 else f"{MINUS}{text}"


def unsigned(value: float, lang: str = "vi") -> str:
    """Percentage points without a plus sign (a gap): 21,7 (a negative gap: −3,0)."""
    text = format_decimal(abs(value), format="#,##0.0", locale=lang)
    return text if value >= 0 else f"{MINUS}{text}"


def fonts(reader: pypdf.PdfReader) -> list[dict]:
    """Every font the pages use: subtype, base font, and whether its file is embedded."""
    found = {}
    for page in reader.pages:
        resources = page.get("/Resources") or {}
        for _name, ref in (resources.get("/Font") or {}).items():
            font = ref.get_object()
            descendants = [d.get_object() for d in font.get("/DescendantFonts", [])]
            descriptor = (descendants[0] if descendants else font).get("/FontDescriptor")
            descriptor = descriptor.get_object() if descriptor is not None else {}
            found[str(font.get("/BaseFont"))] = {
                "subtype": str(font.get("/Subtype")),
                "descendant": str(descendants[0].get("/Subtype")) if descendants else None,
                "embedded": "/FontFile2" in descriptor,
            }
    return [{"name": name, **info} for name, info in found.items()]


def largest_image(reader: pypdf.PdfReader) -> Image.Image:
    """The largest image of the document (the map), decoded to RGB."""
    images = []
    for page in reader.pages:
        for image in page.images:
            images.append(image.image.convert("RGB"))
    assert images, "the PDF has no image"
    return max(images, key=lambda image: image.width * image.height)


def landscape_pages(reader: pypdf.PdfReader) -> list[int]:
    """The (0-based) numbers of the pages wider than tall."""
    return [i for i, page in enumerate(reader.pages)
            if float(page.mediabox.width) > float(page.mediabox.height)]
