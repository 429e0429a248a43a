"""The synthetic demo data set: every record kind, for every commune, for a few years.

Nothing here is real. Every record is written with ``synthetic=True`` (and
``"synthetic": True`` in its properties), imported as ``synthetic-demo-seed-<seed>`` by
``geoservice demo-data``, so it can be told apart from (and filtered out of) officials'
data. The same seed and the same communes give the same records, byte for byte.

What is generated (per commune, in code order; random streams are separate per kind), one
module per kind:

* `certification` — one row per commune, year and group with registered ≥ reviewed ≥
  certified, rates improving over the years; An Giang (province ``91``) in 2024 is
  calibrated to the public figures (DOMAIN.md).
* `awareness` — sessions, participants and commendations per commune and year (An Giang
  2024 sums to the public figures).
* `models` — every model type, hosted by numbered residential areas, schools or
  enterprises.
* `incidents` — clustered in wards, near the land border in border communes, a thin
  background elsewhere; plus the planted hot areas (`planted`).
* `hot_spots` — designated hot spots, a few per province, and one per planted hot area.
* `cooperation` — only in border communes; the partner point lies across the border line.

The others: `dataset` (`generate_demo` and `load_demo`: the whole set, and importing it
into a store), `places` (the communes as arrays; placing points in a commune or near its
border), `common` (random streams, province effects, host counts, the record of one row)
and `planted` (the hot areas planted for the hot-spot analysis to find).
"""
