"""Benchmark: render a synthetic 256 px tile of 200 commune-like polygons to PNG.

Not a test. Run: ``.venv/bin/python bench/render_png.py [--runs 200] [--scale 2]``.
The polygons are Voronoi cells of 200 random points (neighbours share edges, as communes
do), densified to ~1 vertex per 2 px, filled in five classed colours at 80 % opacity and
outlined in grey, like the certification-rate layer. Prints p50/p99 of the full
render_png call (drawing, un-premultiplying and PNG encoding).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import shapely
from shapely.geometry import box

from geoservice.render.png import render_png
from geoservice.render.symbols import Symbol, parse_colour

CLASS_COLOURS = ["#d7191c", "#fdae61", "#ffffbf", "#a6d96a", "#1a9641"]


def synthetic_tile(count: int = 200, seed: int = 1) -> list[tuple]:
    """Return (geometry, Symbol) items: `count` adjacent polygons covering the tile."""
    rng = np.random.default_rng(seed)
    seeds = shapely.multipoints(rng.uniform(-16, 272, (count, 2)))
    cells = shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=box(-32, -32, 288, 288)))
    cells = shapely.segmentize(cells, 2.0)
    symbols = [Symbol(fill=parse_colour(colour, 0.8), stroke=parse_colour("#8c8c8c"),
                      stroke_width=0.5) for colour in CLASS_COLOURS]
    return [(cell, symbols[rng.integers(len(symbols))]) for cell in cells]


def main() -> None:
    """Render the tile `--runs` times and print the timing percentiles."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    items = synthetic_tile()
    vertices = int(sum(shapely.get_num_coordinates(g) for g, _ in items))
    png = render_png(items, scale=args.scale)  # warm-up: imports, caches
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        png = render_png(items, scale=args.scale)
        times.append((time.perf_counter() - start) * 1000)
    p50, p99 = np.percentile(times, [50, 99])
    print(f"{len(items)} polygons, {vertices} vertices, scale {args.scale:g}, "
          f"{len(png)} bytes PNG")
    print(f"render_png over {args.runs} runs: p50 {p50:.1f} ms, p99 {p99:.1f} ms")


if __name__ == "__main__":
    main()
