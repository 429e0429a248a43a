"""The province load test (issue 9): officials open the map together, then pan and zoom.

:func:`run` (called by bench/run.py) runs locust headless over loopback for a bounded time
and reads back its CSV stats. Locust (PyPI, pinned with its dependencies in
bench/requirements-locust.txt) has its own venv, bench/.venv-locust, made on first use: its
Flask pins would clash with ours. Where locust is installed this file is also the
locustfile, defining the user `Official`. By hand, from the project folder:

    PYTHONPATH=. bench/.venv-locust/bin/locust -f bench/loadtest.py --headless -u 10 -r 2 \\
        -t 20s --host http://127.0.0.1:5080      # LOADTEST_API_KEY=gsk_… to sign in

An official does what the map page (geoservice/web/mappage.py, templates/map/page.html,
static/js/map.js) asks for, one visit per locust task in a fresh tab, the 1280×800 window
taken as the map (a few tiles more than the map beside the panel asks for):

1. opens the map: `/` as a browser asks for it, every script and style the HTML names, the
   legend JSON of each layer shown by default (as the page's config JSON says), then the MVT
   tiles of those layers covering the national start view (Leaflet's fitBounds);
2. clicks their province (the page asks which it is, then last year's figures), looks at it
   at zoom 8–9 and switches on the incidents layer, which the page fetches as features per
   view (restricted: the API key makes this a signed-in official);
3. pans 2–4 times by 1–3 tiles, clicks a commune and zooms in on it step by step to 10–13,
   then goes back to the province by the breadcrumb;
4. thinks 1–3 s between views (`between(1, 3)`, drawn from the official's own seed).

A view's requests go over six connections at once, as a browser's do, and a tile the tab
already has is not asked for again (tiles are cacheable for 60–300 s). Requests are named by
group ("/", "asset vendor", "legend json", "tile mvt z8-9", "features incidents", …);
:data:`GROUPS` gathers the names into the report's groups. When the time is up no view
starts; those under way have STOP_TIMEOUT to finish, and what is still unanswered then is
counted as such (locust itself drops it).
"""

from __future__ import annotations

import csv
import importlib.util
import itertools
import json
import logging
import math
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from bench.places import PLACES, tile_of

LOGGER = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / "bench" / ".venv-locust"
REQUIREMENTS = ROOT / "bench" / "requirements-locust.txt"

VIEWPORT = (1280, 800)        # map pixels (width, height)
MIN_ZOOM, MAX_ZOOM = 4, 16    # the map's (mappage.folium_parts)
BROWSER_CONNECTIONS = 6       # a browser's connections to one HTTP/1.1 host
SEED = 9                      # + the user's number: the same officials every run
STOP_TIMEOUT = 30             # s after the run time for views under way to finish (counted)
REQUEST_TIMEOUT = 60          # s an official waits for one answer before giving up on it
UNANSWERED_S = 10             # s in flight when the run ends that count as unanswered
# Each official's province: (name, where its view is centred, a place in it of
# bench/places.py, clicked to pick the province and zoomed in on as a commune).
PROVINCES = (
    ("Tuyên Quang", (105.10, 22.40), PLACES["Lũng Cú (CN border)"]),
    ("Điện Biên", (103.10, 21.60), PLACES["Điện Biên Phủ (LA border)"]),
    ("Hà Nội", (105.70, 21.00), PLACES["Hà Nội"]),
    ("Huế", (107.50, 16.35), PLACES["Huế"]),
    ("TP Hồ Chí Minh", (106.70, 10.90), PLACES["TP Hồ Chí Minh"]),
)
DIRECTIONS = [(e, s) for e in (-1, 0, 1) for s in (-1, 0, 1) if e or s]  # pans
POINT_LAYER = "incidents"     # the point layer the official switches on
HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
# The report's request groups: a request name's first word says which.
GROUPS = {"/": "page", "asset": "page", "legend": "style/json", "tile mvt": "mvt tile",
          "tile png": "png tile", "features": "features"}
_ASSET = re.compile(r"<(?:script|link)\b[^>]*?\b(?:src|href)=\"(/[^/\"][^\"]*)\"", re.I)
_CONFIG = re.compile(r"<script[^>]*\bid=\"map-config\"[^>]*>(.*?)</script>", re.S)


def group_of(name: str) -> str:
    """The report's group of a request name (see GROUPS)."""
    return next((group for prefix, group in GROUPS.items()
                 if name == prefix or name.startswith(prefix + " ")), "other")


# --- what the map shows --------------------------------------------------------------------------

def _world(lon: float, lat: float) -> tuple[float, float]:
    """Web Mercator x, y of a point, 0–1 from the north-west corner of the world."""
    lat_r = math.radians(lat)
    return (lon + 180) / 360, (1 - math.asinh(math.tan(lat_r)) / math.pi) / 2


def _lonlat(x: float, y: float) -> tuple[float, float]:
    return x * 360 - 180, math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y))))


@dataclass(frozen=True)
class View:
    """What the map shows: its centre (Web Mercator, 0–1) and its zoom."""

    x: float
    y: float
    zoom: int

    @classmethod
    def at(cls, lon: float, lat: float, zoom: int) -> View:
        """The view centred on a point."""
        return cls(*_world(lon, lat), zoom)

    def moved(self, east: int, south: int) -> View:
        """The view panned by whole tiles."""
        n = 2 ** self.zoom
        return View(self.x + east / n, self.y + south / n, self.zoom)

    def bbox(self) -> tuple[float, float, float, float]:
        """West, south, east, north of the viewport (degrees)."""
        size = 256 * 2 ** self.zoom
        half_x, half_y = VIEWPORT[0] / 2 / size, VIEWPORT[1] / 2 / size
        west, north = _lonlat(self.x - half_x, self.y - half_y)
        east, south = _lonlat(self.x + half_x, self.y + half_y)
        return west, south, east, north

    def tiles(self, minzoom: int, maxzoom: int) -> list[tuple[int, int, int]]:
        """The tiles Leaflet loads for a layer of these zooms, nearest the centre first."""
        if not minzoom <= self.zoom <= MAX_ZOOM:
            return []
        z = min(self.zoom, maxzoom)  # past its last zoom a layer's tiles are scaled up
        west, south, east, north = self.bbox()
        (x0, y0), (x1, y1) = tile_of(west, north, z), tile_of(east, south, z)
        n = 2 ** z
        tiles = [(z, x, y) for x in range(x0, x1 + 1)
                 for y in range(max(0, y0), min(n - 1, y1) + 1)]
        return sorted(tiles, key=lambda t: (t[1] + 0.5 - self.x * n) ** 2
                      + (t[2] + 0.5 - self.y * n) ** 2)


def national_view(bounds: list[float], padding: int = 10) -> View:
    """The start view: Leaflet's fitBounds of the country's bounds (zoom snapped down)."""
    west, south, east, north = bounds
    (x0, y0), (x1, y1) = _world(west, north), _world(east, south)
    scale = min((VIEWPORT[0] - 2 * padding) / ((x1 - x0) * 256),
                (VIEWPORT[1] - 2 * padding) / ((y1 - y0) * 256))
    zoom = math.floor(round(math.log2(scale), 2))
    return View((x0 + x1) / 2, (y0 + y1) / 2, max(MIN_ZOOM, min(MAX_ZOOM, zoom)))


def page_assets(html: str) -> list[str]:
    """The scripts and styles the page loads from this service (its <script>/<link> URLs)."""
    return list(dict.fromkeys(_ASSET.findall(html)))


def page_config(html: str) -> dict:
    """The settings the page gives static/js/map.js (the map-config JSON)."""
    return json.loads(_CONFIG.search(html).group(1))


def _zoom_band(z: int) -> str:
    return "z4-7" if z <= 7 else "z8-9" if z <= 9 else "z10+"


class MapPage:
    """One tab of the map page: the requests static/js/map.js makes, as (path, name) pairs."""

    def __init__(self, config: dict):
        self.config = config
        self.urls, self.year = config["urls"], config["year"]
        self.layers = [layer for layer in config["layers"]  # shown by default
                       if layer["visible"] or layer["id"] == config["indicator"]]
        self.points: list[dict] = []  # point layers switched on
        self.seen: set[str] = set()   # tiles this tab already has

    def _params(self, layer: dict) -> dict:
        if layer["kind"] != "indicator":
            return {}
        values = {"year": self.year} if self.year else {}
        if "group" in layer["params"]:
            values["group"] = "residential"  # the page's default group
        if "model_type" in layer["params"]:
            values["model_type"] = "any"
        return values

    def legends(self, layers: list[dict] | None = None) -> list[tuple[str, str]]:
        """The legend JSON of each layer shown (fetched before its tiles)."""
        return [(f"{self.urls['tiles']}/{layer['id']}/legend.json?"
                 + urlencode({**self._params(layer), "lang": self.config["lang"]}),
                 "legend json") for layer in (self.layers if layers is None else layers)]

    def view(self, view: View) -> list[tuple[str, str]]:
        """The new tiles of a view, then the features of each point layer switched on."""
        out = []
        for layer in self.layers:
            query = urlencode(self._params(layer))
            for z, x, y in view.tiles(layer["minzoom"], layer["maxzoom"]):
                path = f"{self.urls['tiles']}/{layer['id']}/{z}/{x}/{y}.mvt"
                path += f"?{query}" if query else ""
                if path not in self.seen:
                    self.seen.add(path)
                    out.append((path, f"tile mvt {_zoom_band(z)}"))
        return out + [self._points(layer, view) for layer in self.points
                      if view.zoom >= layer["minzoom"]]

    def switch_on(self, layer_id: str) -> list[dict]:
        """Tick a point layer's box (when this reader may see it): its legend follows."""
        layer = next((layer for layer in self.config["layers"] if layer["id"] == layer_id
                      and layer["kind"] == "points"), None)
        self.points += [layer] if layer else []
        return [layer] if layer else []

    def _points(self, layer: dict, view: View) -> tuple[str, str]:
        values = {"bbox": ",".join(f"{v:.5f}" for v in view.bbox()),
                  "limit": self.config["points_limit"]}
        if layer["id"] == "incidents" and self.year:  # the default period: the year shown
            values["datetime"] = f"{self.year}-01-01/{self.year}-12-31"
        return (f"{self.urls['collections']}/{layer['collection']}/items?{urlencode(values)}",
                f"features {layer['id']}")

    def click(self, level: str, lon: float, lat: float) -> tuple[str, str]:
        """Which province or commune is at a point (a click on the map)."""
        d = 1e-5
        bbox = ",".join(f"{v:.6f}" for v in (lon - d, lat - d, lon + d, lat + d))
        query = urlencode({"bbox": bbox, "limit": 1, "year": self.year})
        return (f"{self.urls['collections']}/{level}s/items?{query}", f"features {level}s click")

    def unit(self, level: str, code: str, years_back: int = 0) -> list[tuple[str, str]]:
        """A province's or commune's figures of the year shown or one before (when any)."""
        year = self.year - years_back if self.year else None
        if year not in self.config["years"]:
            return []
        return [(f"{self.urls['collections']}/{level}s/items/{code}?year={year}",
                 f"features {level}s item")]


# --- running locust ------------------------------------------------------------------------------

def run(base: str, users: int, seconds: int, key: str | None) -> dict:
    """Run `users` officials against `base` for `seconds` (locust headless); the figures."""
    locust = _locust()
    with tempfile.TemporaryDirectory(prefix="geoservice-load-") as tmp:
        prefix = Path(tmp) / "load"
        env = {k: v for k, v in os.environ.items() if k != "LOADTEST_API_KEY"}
        env.update({"PYTHONPATH": str(ROOT), "LOADTEST_SAMPLES": f"{prefix}-samples.json",
                    **({"LOADTEST_API_KEY": key} if key else {})})
        command = [str(locust), "-f", __file__, "--headless", "-u", str(users),
                   "-r", str(max(1, users // 5)), "-t", f"{seconds}s", "--host", base,
                   "--stop-timeout", str(STOP_TIMEOUT), "--csv", str(prefix),
                   "--only-summary", "--exit-code-on-error", "0", "--loglevel", "WARNING"]
        LOGGER.info("load test: %s users for %s s against %s", users, seconds, base)
        done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True,
                              timeout=seconds + STOP_TIMEOUT + 120)
        if done.returncode != 0 or not Path(f"{prefix}_stats.csv").exists():
            return {"users": users, "seconds": seconds,
                    "error": f"locust exited {done.returncode}: {done.stderr[-2000:]}"}
        return {"users": users, "seconds": seconds, **_figures(prefix),
                "warnings": _warnings(done.stderr)}


def _locust() -> Path:
    """locust from its venv, made (with the pinned packages) when missing."""
    locust = VENV / "bin" / "locust"
    if not locust.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(VENV / "bin" / "pip"), "install", "--quiet", "-r",
                        str(REQUIREMENTS)], check=True)
    return locust


def _figures(prefix: Path) -> dict:
    """Totals and each request name's figures from locust's CSV stats, each group's
    percentiles from every response time, what was still unanswered, failures' reasons."""
    rows = _csv(f"{prefix}_stats.csv")
    failures = [{"request": r["Name"], "count": int(r["Occurrences"]),
                 "error": re.sub(r"^CatchResponseError\((['\"])(.*)\1\)$", r"\2", r["Error"])}
                for r in _csv(f"{prefix}_failures.csv")]
    samples = json.loads(Path(f"{prefix}-samples.json").read_text())
    times = samples["times"]
    by_name = {r["Name"]: _row(r) for r in rows if r["Name"] != "Aggregated"}
    # Sent within UNANSWERED_S of the run's end and cut off by it: not counted unanswered.
    cut_off = [name for name, waited in samples.get("cut_off", ()) if waited < UNANSWERED_S]
    for name, count in samples["started"].items():
        row = by_name.setdefault(name, {"requests": 0, "failures": 0, "unfinished": 0})
        row["unfinished"] = count - len(times.get(name, ())) - cut_off.count(name)
    groups: dict = {}
    for name, row in sorted(by_name.items()):
        group = groups.setdefault(group_of(name), {"requests": 0, "failures": 0,
                                                   "unfinished": 0})
        for figure in group:
            group[figure] += row[figure]
    for name, group in groups.items():
        group.update(_percentiles([t for n, ms in times.items() if group_of(n) == name
                                   for t in ms]))
    aggregated = next(r for r in rows if r["Name"] == "Aggregated")
    total, requests = _row(aggregated), int(aggregated["Request Count"])
    return {**total, "unfinished": sum(row["unfinished"] for row in by_name.values()),
            "cut_off_at_stop": len(cut_off),
            "error_rate_pct": round(100 * total["failures"] / requests, 3) if requests else None,
            "requests_per_s": round(float(aggregated["Requests/s"]), 1),
            "max_ms": _number(aggregated["Max Response Time"]), "groups": groups,
            "by_name": by_name, "failure_reasons": sorted(failures, key=lambda f: -f["count"])}


def _csv(path: str) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _row(row: dict) -> dict:
    """One line of locust's stats CSV: counts and p50/p95/p99 (ms)."""
    return {"requests": int(row["Request Count"]), "failures": int(row["Failure Count"]),
            "unfinished": 0, **{f"p{q}_ms": _number(row[f"{q}%"]) for q in (50, 95, 99)}}


def _percentiles(ms: list[float]) -> dict:
    """p50/p95/p99 (ms) of response times, nearest rank as bench.run.percentiles."""
    ms = sorted(ms)
    if not ms:
        return {}
    return {f"p{q}_ms": round(ms[min(len(ms) - 1, int(round(q / 100 * (len(ms) - 1))))], 1)
            for q in (50, 95, 99)}


def _number(text: str) -> float | None:
    try:
        return round(float(text), 1)
    except ValueError:  # locust writes N/A where there is nothing to measure
        return None


def _warnings(log: str) -> list[str]:
    """Locust's own warnings (e.g. its CPU overloaded, which would skew the figures)."""
    lines = [line.split("/", 1)[-1].strip() for line in log.splitlines()
             if "WARNING/" in line or "ERROR/" in line]
    return list(dict.fromkeys(lines))[:10]


# --- the locust user (only where locust is installed: bench/.venv-locust) -----------------------

if importlib.util.find_spec("locust") is not None:
    import gevent.pool
    from locust import HttpUser, events, task

    # By request name: ms of each answer, requests sent; and (name, seconds in flight) of
    # each request the run's end cut off (its official stopped mid-view).
    SAMPLES: dict = {"times": {}, "started": {}, "cut_off": []}

    @events.request.add_listener
    def _record(name: str, response_time: float, **_kwargs) -> None:
        SAMPLES["times"].setdefault(name, []).append(response_time)

    @events.test_stop.add_listener
    def _write_samples(**_kwargs) -> None:
        if os.environ.get("LOADTEST_SAMPLES"):
            Path(os.environ["LOADTEST_SAMPLES"]).write_text(json.dumps(SAMPLES))

    class Official(HttpUser):
        """A provincial official with the map open: one visit per task, in a fresh tab."""

        numbers = itertools.count()

        def on_start(self) -> None:
            """Seed the official's choices; sign in with the API key when one is given."""
            self.rng = random.Random(SEED + next(Official.numbers))
            if os.environ.get("LOADTEST_API_KEY"):
                self.client.headers["X-API-Key"] = os.environ["LOADTEST_API_KEY"]

        def wait_time(self) -> float:
            """Think time between views: between(1, 3) s from the official's own seed."""
            return self.rng.uniform(1, 3)

        @task
        def visit(self) -> None:
            """Open the map, go to the province, pan, zoom in on a commune and back."""
            self.client.cookies.clear()
            page = self.open_map()
            if page is None:
                return
            _name, centre, commune = self.rng.choice(PROVINCES)
            self.wait()
            view = View.at(*centre, self.rng.choice((8, 9)))
            province = self.pick(page, "province", commune, view)
            self.wait()
            self.fetch(page.legends(page.switch_on(POINT_LAYER)))
            self.fetch(page.view(view))
            for _ in range(self.rng.randint(2, 4)):
                self.wait()
                east, south = self.rng.choice(DIRECTIONS)
                step = self.rng.randint(1, 3)
                view = view.moved(east * step, south * step)
                self.fetch(page.view(view))
            self.wait()
            self.pick(page, "commune", commune, None)
            for zoom in range(view.zoom + 1, self.rng.randint(10, 13) + 1):
                self.wait()
                self.fetch(page.view(View.at(*commune, zoom)))
            if province:  # the breadcrumb: the province again, at its view
                self.wait()
                self.fetch(page.unit("province", province))
                self.fetch(page.unit("province", province, years_back=1)
                           + page.view(View.at(*centre, view.zoom)))

        def open_map(self) -> MapPage | None:
            """The page, its scripts and styles, the legends and the national view's tiles."""
            html = self.get("/", "/", accept=HTML, expect='id="map-config"')
            if html is None:
                return None
            page = MapPage(page_config(html))
            self.fetch([(path, f"asset {path.split('/')[1]}") for path in page_assets(html)])
            self.fetch(page.legends())
            self.fetch(page.view(national_view(page.config["bounds"])))
            return page

        def pick(self, page: MapPage, level: str, at: tuple, view: View | None) -> str | None:
            """Click a province or commune: which it is, then its figures a year before,
            with the tiles of the view the map moves to; the unit's code."""
            body = self.get(*page.click(level, *at), json_body=True)
            features = (body or {}).get("features") or [{}]
            code = features[0].get("id")
            later = page.unit(level, code, years_back=1) if code else []
            self.fetch(later + (page.view(view) if view else []))
            return code

        def fetch(self, requests: list[tuple[str, str]]) -> None:
            """GET every (path, name) over a browser's connections at once."""
            pool = gevent.pool.Pool(BROWSER_CONNECTIONS)
            try:
                for path, name in requests:
                    pool.spawn(self.get, path, name)
                pool.join()
            finally:  # the run's end stops the official mid-view: stop the downloads too
                pool.kill()

        def get(self, path: str, name: str, accept: str = "*/*", expect: str | None = None,
                json_body: bool = False):
            """GET one URL; a failure is named by its status and error code. The page's text
            (with `expect`) or the JSON (with `json_body`); None when it failed."""
            started = SAMPLES["started"]
            started[name] = started.get(name, 0) + 1  # less the answers: still waiting at the end
            sent = time.monotonic()
            try:
                with self.client.get(path, name=name, headers={"Accept": accept},
                                     timeout=REQUEST_TIMEOUT, catch_response=True) as response:
                    if response.status_code == 0 or response.status_code >= 400:
                        response.failure(_reason(response))
                        return None
                    if expect and expect not in response.text:
                        response.failure(f"HTTP {response.status_code} without {expect}")
                        return None
                    try:
                        return (response.json() if json_body
                                else response.text if expect else "")
                    except ValueError:
                        response.failure(f"HTTP {response.status_code} not JSON")
                        return None
            except gevent.GreenletExit:  # the run's end: how long it had been waiting
                SAMPLES["cut_off"].append((name, time.monotonic() - sent))
                raise

    def _reason(response) -> str:
        """'HTTP 503 StoreUnavailable', or what became of the connection."""
        if response.status_code == 0:
            detail = re.sub(r"HTTPConnectionPool\([^)]*\): |with url: \S+ |<[^>]*>", "",
                            str(response.error))  # no URL or address: failures aggregate
            return f"no response: {type(response.error).__name__}: {detail[:120]}"
        try:
            code = response.json().get("code", "")
        except ValueError:
            code = ""
        return f"HTTP {response.status_code} {code}".strip()
