"""Printable area reports: a province, a commune or a border sector for one year.

The flow is one-way, like the rest of the service: `units` resolves what the report is
about, `content` gathers its figures from the indicator functions
(`geoservice.indicators.compute`), `restricted` adds the restricted sections when the
reader's area covers the unit, `maps` draws the map with the tile renderer and the layer
styles, `charts` draws SVG charts, and `pdf` renders the Jinja templates
(``templates/reports/``) to HTML and, with WeasyPrint, to a PDF (A4 unless asked). `batch` puts a
province's commune reports together, and `reads` lets a report (or a batch) read each
thing from the store once. `heading` holds the administrative document format (Decree
30/2020/NĐ-CP: title and signature blocks) and the request's options (number, signer,
page), `pages` the paper formats (A4, A3, portrait or landscape), `jobs` the batches made
in the background, one at a time. `document` and `pdf` run inside the app's context (the
translations and templates); the rest is plain functions. The command-line commands are
in `geoservice.cli.reports`.
"""
