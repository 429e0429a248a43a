"""What a boundary or border-designation import tells its user: the summary lines the
command prints, the row errors, and the import's row in the audit trail."""

from __future__ import annotations

import hashlib

from geoservice import audit

LISTED = 50  # errors, missing units … printed at most


def summary_lines(report) -> list[str]:
    """The lines `geoservice import-boundaries` prints for a `BoundaryReport`."""
    lines = [f"note: {note}" for note in report.notes]
    lines += [f"warning: {warning}" for warning in report.warnings[:LISTED]]
    if report.crs:
        lines.append(f"coordinate system: {report.crs}")
    if report.missing:
        shown = ", ".join(f"{m['code']} {m['name']}" for m in report.missing[:LISTED])
        more = f" … and {len(report.missing) - LISTED} more" if len(report.missing) > LISTED \
            else ""
        lines.append(f"missing from the file ({len(report.missing)}, their geometry stays): "
                     f"{shown}{more}")
    for change in report.border_changes[:LISTED]:
        lines.append(f"border: {change['code']} faced {_faces(change['before'])}, now "
                     f"{_faces(change['after'])}")
    if report.status == "applied":
        lines.append(f"{report.filename}: {report.units} units loaded as boundary version "
                     f"{report.version_id}; {len(report.missing)} missing, "
                     f"{len(report.overlaps)} overlaps, {len(report.repaired)} repaired, "
                     f"{len(report.border_changes)} border changes")
    elif report.status == "preview":
        lines.append(f"{report.filename}: dry run, nothing was written - {report.units} units "
                     f"would be loaded; {len(report.missing)} missing, {len(report.overlaps)} "
                     f"overlaps, {len(report.repaired)} repaired, "
                     f"{len(report.border_changes)} border changes")
    return lines


def _faces(neighbours: list[str]) -> str:
    return ", ".join(neighbours) if neighbours else "nothing"


def error_lines(filename: str, errors: list) -> list[str]:
    """The row errors of a rejected file, as the records import prints them."""
    lines = [f"{filename}: rejected, nothing was written - {len(errors)} errors:"]
    for error in errors[:LISTED]:
        hint = f" (did you mean: {error.suggestion})" if error.suggestion else ""
        lines.append(f"  row {error.row}, {error.column}: {error.value!r}: {error.reason}{hint}")
    return lines


def audit_boundary_import(store, actor: str | None, kind: str, filename: str, data: bytes,
                          report, refused: str | None = None,
                          remote_addr: str | None = "local") -> None:
    """The audit row of a boundary or designation import: applied (``import``), a dry run
    (``import_preview``) or refused and rejected files (``import_rejected``)."""
    detail = {"kind": kind, "filename": filename, "sha256": hashlib.sha256(data).hexdigest()}
    if report is None:
        audit.record(store, "import_rejected", actor, kind,
                     {**detail, "reason": (refused or "")[:300]}, remote_addr)
        return
    counts = report.as_dict()
    detail |= {key: counts[key] if not isinstance(counts[key], list) else len(counts[key])
               for key in ("units", "rows", "missing", "overlaps", "repaired", "designated",
                           "crs") if key in counts}
    if report.status == "applied":
        target = getattr(report, "version_id", None) or getattr(report, "import_id", None)
        audit.record(store, "import", actor, target, detail, remote_addr)
    elif report.status == "preview":
        audit.record(store, "import_preview", actor, kind, {**detail, "dry_run": True},
                     remote_addr)
    else:
        audit.record(store, "import_rejected", actor, kind,
                     {**detail, "errors": len(report.errors)}, remote_addr)
