"""Where a report is written: the output file's format from its suffix, checked before any
work is done, so that `-o report.docx` or a missing folder is a clear error, not a PDF under
a wrong name or a traceback after a minute of layout."""

from __future__ import annotations

from pathlib import Path

from geoservice.errors import InvalidParameter

REPORT_FORMATS = ("pdf", "html")  # `geoservice report`
BATCH_FORMATS = ("pdf", "zip")  # `geoservice report-batch`


def check_output(path: Path | str, formats: tuple[str, ...] = REPORT_FORMATS) -> str:
    """Return the format ('pdf', 'html', 'zip') the output file's suffix names.

    Raises `InvalidParameter` (parameter "output") when the suffix is not one of
    `formats`, when the folder does not exist, or when the path is a folder.
    """
    path = Path(path)
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in formats:
        raise InvalidParameter(
            f"The output file must end in {' or '.join('.' + f for f in formats)}, not "
            f"'{path.name}'.", parameter="output")
    if path.is_dir():
        raise InvalidParameter(f"The output '{path}' is a folder; give a file name.",
                               parameter="output")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise InvalidParameter(f"The output folder '{folder}' does not exist.",
                               parameter="output")
    return suffix
