"""Reading an official's CSV or Excel file into validated values of one record kind.

Three steps, all plain functions (no Flask, no database), one module each:

1. `reading.read_table` turns the uploaded bytes (``.csv`` or ``.xlsx``) into a `Table`: the
   header texts and, for every non-empty data row, its row number *as the official sees it
   in the spreadsheet* and the raw cell values. Files that cannot be read at all are
   rejected with `InvalidParameter`; nothing else in this package raises for bad data.
2. `headers.map_headers` matches the header texts with the kind's fields (by name or alias,
   compared with `text.name_key`, so diacritics, case, spacing and "Tỉnh/Thành phố"-style
   slashes do not matter).
3. `rows.parse_rows` parses every cell with the parser of its field type (`values`:
   `parse_int`, `parse_date`, `parse_enum`, `parse_str`; `coordinates`: `parse_lon`,
   `parse_lat`, `parse_wkt`), applies the kind's cross-field checks and finds rows repeated
   within the file. Every problem becomes a `RowError` (row, column header, value, reason,
   suggestion); `report.errors_csv` turns them into the downloadable report.

The other modules: `results` (the dataclasses the steps return), `cells` (what the parsers
share: the ``(value, None)`` / ``(None, reason, suggestion)`` outcome, a cell as text, cached
name keys) and `vn2000` (VN-2000 grid coordinates and their conversion to WGS 84, with the
notes on which column is X and which Y).
"""
