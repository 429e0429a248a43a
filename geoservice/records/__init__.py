"""Security records: types, imports, unit resolution and indicators."""
