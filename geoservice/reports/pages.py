"""The page formats a report is printed on: A4 or A3, portrait or landscape.

The body pages take the format asked; the map page of a province or border sector is
always the landscape sheet of the same size (the map is wider than tall). Maps are sized
to the page: `map_mm` is the printed width of the landscape map and `portrait_mm` that of
a commune's map in the body, and `magnify` how many times larger than on A4 the map is
printed (its names keep their printed size, so a larger sheet names more communes).
"""

from __future__ import annotations

from dataclasses import dataclass

# Margins (mm) of the body pages (top, right, bottom, left) and of the map page: as in
# templates/reports/report.css.
BODY_MARGINS = (20, 15, 18, 15)
MAP_MARGINS = (16, 14, 14, 14)
LEGEND_MM, GAP_MM = 62, 4  # the legends beside the landscape map, and the gap between
A4_MAP_MM = 192.0  # the landscape map's width on A4
PORTRAIT_SHARE = 0.88  # a commune map's share of the body's width (on A4 portrait)
PORTRAIT_ASPECT = 560 / 680  # height / width of a commune map (geoservice.reports.maps)
LANDSCAPE_ASPECT = 560 / 760
# Kept free beside a commune's map on its page: its heading and caption, and the signature
# block that follows (on a landscape sheet the map's height is what limits it).
BELOW_MAP_MM = 80
MAP_PAGE_BELOW_MM = 38  # the heading and caption around the map on its own page


@dataclass(frozen=True)
class PageFormat:
    """One paper format: the sheet (width, height in mm) of the body pages."""

    key: str
    sheet: str  # "A4", "A3"
    width: float
    height: float

    @property
    def landscape(self) -> bool:
        """True when the body pages are wider than tall."""
        return self.width > self.height

    @property
    def css(self) -> str:
        """The CSS page size of the body pages: 'A4', 'A3 landscape'."""
        return f"{self.sheet} landscape" if self.landscape else self.sheet

    @property
    def map_css(self) -> str:
        """The CSS page size of the map page: the landscape sheet."""
        return f"{self.sheet} landscape"

    @property
    def map_mm(self) -> float:
        """The printed width of the landscape map on its page (legends beside it)."""
        long_side, short_side = max(self.width, self.height), min(self.width, self.height)
        across = long_side - MAP_MARGINS[1] - MAP_MARGINS[3] - LEGEND_MM - GAP_MM
        down = ((short_side - MAP_MARGINS[0] - MAP_MARGINS[2] - MAP_PAGE_BELOW_MM)
                / LANDSCAPE_ASPECT)
        return round(min(across, down, A4_MAP_MM * long_side / 297), 1)

    @property
    def portrait_mm(self) -> float:
        """The printed width of a commune's map in the body pages."""
        across = (self.width - BODY_MARGINS[1] - BODY_MARGINS[3]) * PORTRAIT_SHARE
        if self.landscape:  # the legends stand beside the map, not under it
            across = self.width - BODY_MARGINS[1] - BODY_MARGINS[3] - LEGEND_MM - GAP_MM
        down = (self.height - BODY_MARGINS[0] - BODY_MARGINS[2] - BELOW_MAP_MM) / PORTRAIT_ASPECT
        return round(min(across, down), 1)

    def magnify(self, orientation: str) -> float:
        """How many times wider than on A4 (portrait) the map of `orientation` is printed."""
        if orientation == "portrait":
            return self.portrait_mm / PAGES[DEFAULT_PAGE].portrait_mm
        return self.map_mm / PAGES[DEFAULT_PAGE].map_mm


PAGES = {format_.key: format_ for format_ in (
    PageFormat("a4", "A4", 210, 297), PageFormat("a4-landscape", "A4", 297, 210),
    PageFormat("a3", "A3", 297, 420), PageFormat("a3-landscape", "A3", 420, 297))}
DEFAULT_PAGE = "a4"
