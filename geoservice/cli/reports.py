"""`geoservice report` and `geoservice report-batch`: the same reports from the command line.

The person at the server's console is trusted like a national administrator by default
(``--area national``: every section); ``--area public`` makes the report anyone may get,
``--area 08`` the one a reader of province 08 gets. The report is rendered inside a
request context of the report's language, exactly as the web answers it.
"""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import replace
from pathlib import Path

import click
from flask.cli import with_appcontext

from geoservice import services
from geoservice.access import ANONYMOUS, Principal
from geoservice.cli.options import output_option, province_option
from geoservice.errors import GeoserviceError
from geoservice.reports.pages import DEFAULT_PAGE, PAGES
from geoservice.reports.units import KINDS, LANGUAGES

AREA_HELP = ("Whose report: 'national' (every section), 'public' (the public sections "
             "only) or a two-digit province code (what a reader of that province gets).")


def principal_for_area(store, area: str) -> Principal:
    """The principal a command-line report is made for (see AREA_HELP)."""
    if area == "public":
        return ANONYMOUS
    if area == "national":
        return Principal(name="command line", authenticated=True, role="admin",
                         kind="user", ident="command line")
    if store.get("provinces", area) is None:
        raise click.BadParameter(f"'{area}' is not 'national', 'public' or a province code "
                                 "in the store.", param_hint="--area")
    return Principal(name=f"command line ({area})", province_code=area, authenticated=True,
                     kind="user", ident="command line")


def _quiet() -> None:
    """WeasyPrint logs each rendering step at INFO: keep the console for our own lines."""
    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


def _in_language(lang: str):
    """A request context of the report's language (templates and labels read it)."""
    from flask import current_app

    return current_app.test_request_context("/", query_string={"lang": lang})


def _options(command):
    for option in reversed((
            click.option("--year", default=None, help="Year (default: the latest with "
                                                      "certification records)."),
            click.option("--lang", type=click.Choice(LANGUAGES), default="vi",
                         show_default=True),
            click.option("--area", default="national", show_default=True, help=AREA_HELP),
            click.option("--page", type=click.Choice(tuple(PAGES)), default=DEFAULT_PAGE,
                         show_default=True, help="Paper: A4 or A3, portrait or landscape."),
            output_option("Output file: .pdf (or .html for the print preview page)."))):
        command = option(command)
    return command


@click.command("report")
@click.argument("kind", type=click.Choice(KINDS))
@click.argument("code")
@_options
@click.option("--number", default=None,
              help="Document number: 15/BC-CAT (or 15, printed 15/BC); default a blank.")
@click.option("--signer-title", default=None, help="The signer's title, e.g. 'Giám đốc'.")
@click.option("--signer-name", default=None, help="The signer's name.")
@with_appcontext
def report_command(kind, code, year, lang, area, page, output: Path, number, signer_title,
                   signer_name) -> None:
    """Write the report of a province, commune or border sector (CN, LA, KH)."""
    _quiet()
    from geoservice.reports.document import report_context
    from geoservice.reports.heading import parse_options
    from geoservice.reports.output import REPORT_FORMATS, check_output
    from geoservice.reports.pdf import layout, render_html, write_document
    from geoservice.reports.units import parse_request

    current = services.current()
    store, node_modules = current.store, current.node_modules
    started = time.perf_counter()
    with _in_language(lang):
        try:
            check_output(output, REPORT_FORMATS)
            options = parse_options({"number": number, "signer_title": signer_title,
                                     "signer_name": signer_name, "page": page})
            request = parse_request(store, kind, code, year, lang, options)
        except GeoserviceError as error:
            click.echo(error.message, err=True)
            sys.exit(2)
        principal = principal_for_area(store, area)
        context = report_context(current, request, principal)
        html = render_html(context, node_modules=node_modules)
        if output.suffix.lower() == ".html":
            output.write_text(html, encoding="utf-8")
            click.echo(f"{output}: HTML print preview in {time.perf_counter() - started:.1f} s")
            return
        document = layout(html, node_modules)
        output.write_bytes(write_document(document))
    click.echo(f"{output}: {len(document.pages)} pages, {output.stat().st_size // 1024} KB, "
               f"in {time.perf_counter() - started:.1f} s")


@click.command("report-batch")
@province_option("The province whose commune reports are written.", required=True,
                 positional=True)
@_options
@click.option("--communes", default=None,
              help="Comma-separated commune codes of the province (default: every commune).")
@click.option("--max-units", type=click.IntRange(min=1), default=None,
              help="Most communes in the batch (default: the REPORT_BATCH_MAX_UNITS setting).")
@with_appcontext
def report_batch_command(province_code, year, lang, area, page, output: Path,
                         communes, max_units) -> None:
    """Write every commune report of a province (--province): one PDF with contents, or a
    .zip of PDFs (-o)."""
    _quiet()
    from geoservice.reports.batch import (
        MAX_UNITS_SETTING,
        batch_pdf,
        check_batch,
        commune_pdfs,
        select_communes,
        zip_stream,
    )
    from geoservice.reports.heading import ReportOptions
    from geoservice.reports.output import BATCH_FORMATS, check_output
    from geoservice.reports.units import parse_request

    current = services.current()
    store = current.store
    started = time.perf_counter()
    with _in_language(lang):
        try:
            check_output(output, BATCH_FORMATS)
            request = parse_request(store, "province", province_code, year, lang,
                                    ReportOptions(page=page))
            province = select_communes(request.unit, communes)
            check_batch(store, replace(request, unit=province),
                        max_units or int(current.settings[MAX_UNITS_SETTING]))
        except GeoserviceError as error:
            click.echo(error.message, err=True)
            sys.exit(2)
        principal = principal_for_area(store, area)
        label = f"{province.full_name}: {len(province.communes)} communes"
        with click.progressbar(length=len(province.communes), label=label) as bar:
            if output.suffix.lower() == ".zip":
                batch = replace(request, unit=province)
                files = commune_pdfs(current, batch, principal, progress=bar.update)
                with output.open("wb") as out:
                    for chunk in zip_stream(files):
                        out.write(chunk)
                pages = None
            else:
                pdf, pages = batch_pdf(current, replace(request, unit=province), principal,
                                       progress=bar.update)
                output.write_bytes(pdf)
    size = output.stat().st_size // 1024
    what = f"{pages} pages" if pages is not None else f"{len(province.communes)} PDFs"
    click.echo(f"{output}: {what}, {size} KB, in {time.perf_counter() - started:.1f} s")


COMMANDS = (report_command, report_batch_command)
