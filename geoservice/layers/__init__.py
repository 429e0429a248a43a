"""Published layers: their definitions, parameters, fields, sources and styles."""
