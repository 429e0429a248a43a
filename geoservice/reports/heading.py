"""The administrative document format of Vietnamese reports (Decree 30/2020/NĐ-CP) and the
per-request options of a report: document number, signer, page size.

A Vietnamese report opens with the title block: the issuing authority (setting
``REPORT_ISSUING_AUTHORITY``) over its issuing unit (``REPORT_ISSUING_UNIT``) and the
document number on the left; the national motto, and under it the place and date
("Tuyên Quang, ngày 02 tháng 12 năm 2026"), on the right. It ends with the signature block
(the signer's title and name). The words are the Decree's own, so they are Vietnamese
here, not translated: an English report has a plain heading instead (`geoservice.reports`'
templates), with the number and signer only when given.

`parse_options` validates the request's options once, for the web and the command line:
free text is NFC-normalised, at most a few dozen characters, and refused when it holds
control characters.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from geoservice.errors import InvalidParameter
from geoservice.reports.pages import DEFAULT_PAGE, PAGES

MOTTO = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO_LINE = "Độc lập - Tự do - Hạnh phúc"
BLANK = "……"  # a dotted blank, filled in by hand
REPORT_SYMBOL = "BC"  # the kind of document: báo cáo (a report)
UNIT_SETTING = "REPORT_ISSUING_UNIT"
PLACE_SETTING = "REPORT_ISSUING_PLACE"
NUMBER_CHARS, SIGNER_CHARS = 30, 80
NUMBER = re.compile(r"[^\W_]+(?:[/.\-][^\W_]+)*")  # 15, 15/BC-CAT, 07/BC-PV05.TH
PREFIXES = ("Thành phố ", "Tỉnh ")
OPTIONS = ("number", "signer_title", "signer_name", "page")


@dataclass(frozen=True)
class ReportOptions:
    """What a request may set on one report besides its unit, year and language."""

    number: str | None = None  # "15/BC-CAT", or "15" (printed 15/BC)
    signer_title: str | None = None  # "GIÁM ĐỐC"
    signer_name: str | None = None  # "Nguyễn Văn A"
    page: str = DEFAULT_PAGE  # a key of `geoservice.reports.pages.PAGES`


def clean_text(value: str, name: str, max_chars: int) -> str:
    """`value` NFC-normalised and trimmed; refused when empty, too long or holding control
    (or other invisible format) characters."""
    text = unicodedata.normalize("NFC", value)
    if any(unicodedata.category(ch)[0] == "C" for ch in text):
        raise InvalidParameter(f"{name} must not contain control characters (line breaks, "
                               "tabs or invisible characters).", parameter=name)
    text = text.strip()
    if not text:
        raise InvalidParameter(f"{name} must not be empty.", parameter=name)
    if len(text) > max_chars:
        raise InvalidParameter(f"{name} is at most {max_chars} characters.", parameter=name)
    return text


def document_number(value: str, name: str = "number") -> str:
    """A document number: a sequence number (15) or the number with its symbol
    (15/BC-CAT): letters and digits joined by '/', '-' or '.'."""
    text = clean_text(value, name, NUMBER_CHARS)
    if not NUMBER.fullmatch(text):
        raise InvalidParameter(f"{name} must be a document number such as 15 or 15/BC-CAT "
                               "(letters and digits joined by /, - or .).", parameter=name)
    return text


def page_size(value: str, name: str = "page") -> str:
    """One of the page formats (a4, a4-landscape, a3, a3-landscape)."""
    if value not in PAGES:
        raise InvalidParameter(f"{name} must be one of {', '.join(PAGES)}.", parameter=name)
    return value


def parse_options(args: Mapping[str, str | None], accepted=OPTIONS) -> ReportOptions:
    """The validated options among `args` (None or absent: not given)."""
    def given(key: str) -> str | None:
        return args.get(key) if key in accepted else None

    number, title, name = given("number"), given("signer_title"), given("signer_name")
    page = given("page")
    return ReportOptions(
        number=None if number is None else document_number(number),
        signer_title=None if title is None else clean_text(title, "signer_title",
                                                            SIGNER_CHARS),
        signer_name=None if name is None else clean_text(name, "signer_name", SIGNER_CHARS),
        page=DEFAULT_PAGE if page is None else page_size(page))


def printed_number(number: str | None) -> str:
    """'Số: 15/BC-CAT'; a bare sequence number gets the report's symbol (15/BC); none: a
    dotted blank to fill in."""
    if number is None:
        return f"Số: {BLANK}/{REPORT_SYMBOL}-{BLANK}"
    return f"Số: {number if '/' in number else f'{number}/{REPORT_SYMBOL}'}"


def place_and_date(place: str | None, day: date) -> str:
    """'Tuyên Quang, ngày 02 tháng 12 năm 2026': days below 10 and the months January and
    February written with a leading zero, as the Decree asks."""
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"{place or BLANK}, ngày {day.day:02d} tháng {month} năm {day.year}"


def place_name(full_name: str | None) -> str | None:
    """A province's name without its unit type: 'Tỉnh Tuyên Quang' -> 'Tuyên Quang'."""
    if not full_name:
        return None
    for prefix in PREFIXES:
        if full_name.startswith(prefix):
            return full_name[len(prefix):]
    return full_name


def heading(settings: Mapping, authority: str, province_full_name: str | None,
            options: ReportOptions, issued: date) -> dict:
    """What the title and signature blocks print (the template lays them out)."""
    unit = (settings.get(UNIT_SETTING) or "").strip()
    place = (settings.get(PLACE_SETTING) or "").strip() or place_name(province_full_name)
    return {
        "authority": authority, "unit": unit,
        "number": printed_number(options.number), "number_given": options.number,
        "motto": MOTTO, "motto_line": MOTTO_LINE,
        "place_date": place_and_date(place, issued),
        "signer_title": (unicodedata.normalize("NFC", options.signer_title.upper())
                         if options.signer_title else None),
        "signer_name": options.signer_name, "blank": BLANK * 4,
    }
