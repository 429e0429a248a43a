"""What every API function is given about the request: the app's services, the service's
base URL and who is asking. Views build one per request; tests and commands build their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from geoservice.access import ANONYMOUS, Area, Principal

if TYPE_CHECKING:
    from geoservice.services import Services

GEOJSON = "application/geo+json"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
VIETNAM_BOUNDS = (102.14, 8.18, 109.47, 23.39)  # west, south, east, north (mainland)


@dataclass(frozen=True)
class RequestContext:
    """One request to the API."""

    services: Services
    base: str  # the service's base URL, no trailing slash
    principal: Principal = ANONYMOUS

    @property
    def store(self):
        """The app's store."""
        return self.services.store

    @property
    def catalog(self):
        """The app's layer catalogue."""
        return self.services.catalog

    @property
    def restricted_area(self) -> Area:
        """Where this reader may see restricted data (indicators, records)."""
        return Area.of_reader(self.principal)

    def url(self, path: str) -> str:
        """An absolute URL of the service (`path` starts with /)."""
        return f"{self.base}{path}"
