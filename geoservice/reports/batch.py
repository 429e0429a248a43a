"""A province's commune reports together: one PDF with a contents page, or a ZIP of PDFs.

The combined PDF starts with a contents page listing every commune and the page its
report starts on; each report keeps its own headings, so the PDF outline (bookmarks)
lists the communes with their sections. The ZIP is written as it goes (`zip_stream`), so
a web client receives the first reports while the others are being made.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING

from flask_babel import gettext as _

from geoservice.access import Principal
from geoservice.errors import InvalidParameter
from geoservice.indicators import published
from geoservice.reports.document import AUTHORITY_SETTING, metadata, report_context
from geoservice.reports.heading import ReportOptions
from geoservice.reports.pages import PAGES
from geoservice.reports.pdf import layout, render_html, write_document
from geoservice.reports.reads import ReportReads
from geoservice.reports.units import ReportRequest, Unit, find_unit

if TYPE_CHECKING:
    from geoservice.services import Services

CONTENTS_TEMPLATE = "reports/contents.html"
MAX_UNITS_SETTING = "REPORT_BATCH_MAX_UNITS"
# Anonymous callers get small batches only (a few communes); a whole province's reports
# are for signed-in readers and the command line.
ANONYMOUS_MAX_UNITS = 10
YEAR_KINDS = ("certification", "awareness")  # the records a commune report's figures read


def batch_limit(settings, principal: Principal) -> int:
    """The most communes a batch of `principal` may hold (REPORT_BATCH_MAX_UNITS; lower for
    anonymous callers)."""
    limit = int(settings.get(MAX_UNITS_SETTING) or 1)
    return limit if principal.authenticated else min(limit, ANONYMOUS_MAX_UNITS)


def data_years(store) -> list[int]:
    """The years for which the store holds the records commune reports are made of."""
    return sorted({year for kind in YEAR_KINDS for year in store.record_years(kind)})


def check_batch(store, batch: ReportRequest, limit: int) -> None:
    """Refuse a batch before any work: more communes than `limit`, or a year without
    records (it would be a pile of empty reports)."""
    count = len(batch.unit.communes)
    if count > limit:
        raise InvalidParameter(
            f"A batch holds at most {limit} commune reports; {batch.unit.full_name} has "
            f"{count}. Name some of them with communes=code,code,… (or sign in: anonymous "
            f"batches hold at most {ANONYMOUS_MAX_UNITS}).", parameter="communes")
    years = data_years(store)
    if batch.year not in years:
        have = (f"Years with records: {', '.join(map(str, years))}." if years
                else "The store holds no certification or awareness records yet.")
        raise InvalidParameter(f"There are no records for {batch.year}, so every report of "
                               f"the batch would be empty. {have}", parameter="year")


def select_communes(province: Unit, codes: str | None) -> Unit:
    """The province with only the communes named in `codes` ("00715,00718"; None: all)."""
    if codes is None:
        return province
    wanted = [c.strip() for c in codes.split(",") if c.strip()]
    known = set(province.commune_codes)
    strangers = [c for c in wanted if c not in known]
    if not wanted or strangers:
        raise InvalidParameter(
            f"communes must be comma-separated codes of communes of {province.full_name}"
            + (f"; {strangers[0]} is not one." if strangers else "."), parameter="communes")
    return replace(province, communes=tuple(c for c in province.communes
                                            if c["code"] in wanted))


def commune_requests(store, batch: ReportRequest) -> list[ReportRequest]:
    """One report request per commune of the batch's province, in code order, with the
    batch's page format (a document number or signer is one report's, not a batch's)."""
    options = ReportOptions(page=batch.options.page)
    return [ReportRequest(find_unit(store, "commune", c["code"]), batch.year, batch.lang,
                          options) for c in batch.unit.communes]


def commune_documents(services: Services, requests: list[ReportRequest],
                      principal: Principal, progress: Callable[[int], None] | None = None,
                      first_page: int | None = None):
    """Lay out each commune's report (WeasyPrint documents), reporting progress.

    With `first_page` the reports are numbered on from it, one after the other, as the
    pages of one PDF (each footer then shows the page's number in that PDF).
    """
    node_modules = services.node_modules
    reads = ReportReads(services.store)  # the province's records, read once for its communes
    for request in requests:
        context = report_context(services, request, principal, reads=reads)
        if first_page is not None:
            context["first_page"] = first_page
        document = layout(render_html(context, node_modules=node_modules), node_modules)
        if first_page is not None:
            first_page += len(document.pages)
        yield request.unit, document
        if progress:
            progress(1)


def batch_pdf(services: Services, batch: ReportRequest, principal: Principal,
              progress: Callable[[int], None] | None = None) -> tuple[bytes, int]:
    """The commune reports of the province of `batch` (its unit, maybe limited to some
    communes by `select_communes`) as one PDF after a contents page; (PDF, pages)."""
    province, year, lang = batch.unit, batch.year, batch.lang
    node_modules = services.node_modules
    requests = commune_requests(services.store, batch)
    name = province.full_name if lang == "vi" else province.english_name()
    context = {"province": province, "year": year, "lang": lang, "first_page": 1,
               "page": PAGES[batch.options.page],
               "title": _("Commune reports: %(unit)s", unit=name),
               "notice": published.synthetic_notice(services.store), **metadata(
                   (services.settings.get(AUTHORITY_SETTING) or "").strip())}
    # The contents page's length depends only on how many communes it lists: lay it out
    # first with blank numbers, then number the reports on from it.
    draft = [(request.unit, 0) for request in requests]
    length = len(layout(_contents_html(context, draft, node_modules), node_modules).pages)
    documents = list(commune_documents(services, requests, principal, progress,
                                       first_page=length + 1))
    entries, first = [], length + 1
    for unit, document in documents:
        entries.append((unit, first))
        first += len(document.pages)
    contents = layout(_contents_html(context, entries, node_modules), node_modules)
    if len(contents.pages) != length:  # not expected: the rows have one height
        raise RuntimeError("the batch contents page changed length when numbered")
    pages = [*contents.pages, *(page for _unit, document in documents
                                for page in document.pages)]
    return write_document(contents.copy(pages)), len(pages)


def _contents_html(context: dict, entries: list, node_modules) -> str:
    return render_html({**context, "entries": entries}, node_modules=node_modules,
                       template=CONTENTS_TEMPLATE)


def commune_pdfs(services: Services, batch: ReportRequest, principal: Principal,
                 progress: Callable[[int], None] | None = None
                 ) -> Iterator[tuple[str, bytes]]:
    """(file name, PDF) of each commune report of the province of `batch`, one by one."""
    requests = commune_requests(services.store, batch)
    for unit, document in commune_documents(services, requests, principal, progress):
        yield (report_filename("commune", unit.code, batch.year, batch.lang),
               write_document(document))


def report_filename(kind: str, code: str, year: int, lang: str, suffix: str = "pdf") -> str:
    """The file name of a report: report-province-08-2024-vi.pdf."""
    return f"report-{kind}-{code}-{year}-{lang}.{suffix}"


class _Sink(io.RawIOBase):
    """A write-only stream whose bytes are taken away as they come (not seekable)."""

    def __init__(self):
        super().__init__()
        self.chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.chunks.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        out = b"".join(self.chunks)
        self.chunks.clear()
        return out


def zip_stream(files: Iterable[tuple[str, bytes]]) -> Iterator[bytes]:
    """A ZIP archive of (name, bytes) files, yielded piece by piece as each file is added."""
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, data in files:
            archive.writestr(name, data)
            yield sink.take()
    yield sink.take()

