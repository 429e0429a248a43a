"""The planted hot areas: clusters of incidents for the hot-spot analysis to find.

Each is a cluster of `PlantedArea.per_year` incidents a year, normally distributed around
the centre with σ = radius / 2 (kept inside the commune), of the one category, plus an
active designated hot spot with a circular polygon of that radius. A planted area is
generated only when its commune is among the communes given.

  key  commune                    centre (lon, lat)    radius  a year  category
  H1   00715 Lũng Cú (08)         105.3020, 23.3241    1.5 km  30      illegal_border_crossing
  H2   00694 Hà Giang 1 (08)      104.9350, 22.8072    1.0 km  30      drugs
  H3   03158 Sín Thầu (11)        102.2930, 22.3799    1.5 km  30      drugs
  H4   03127 Điện Biên Phủ (11)   103.0670, 21.4061    0.8 km  30      public_order
  H5   06184 Đồng Đăng (20)       106.7220, 21.9461    1.5 km  30      smuggling
  H6   19432 Lao Bảo (44)         106.6330, 16.6362    1.2 km  30      drugs
  H7   30316 Châu Đốc (91)        105.1170, 10.6837    1.0 km  30      smuggling
  H8   26743 Bến Thành (79)       106.6940, 10.7713    0.3 km  30      public_order

H1–H4 lie in the two-province test fixture (provinces 08 and 11). Each centre is the
commune's recorded centroid (inside its polygon); `PLANTED_AREAS` holds the same values.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PlantedArea:
    """A planted cluster of incidents (see the module docstring)."""

    key: str
    commune_code: str
    lon: float
    lat: float
    radius_km: float
    per_year: int
    category: str
    name: str


PLANTED_AREAS = (
    PlantedArea("H1", "00715", 105.3020, 23.3241, 1.5, 30, "illegal_border_crossing",
                "Khu vực biên giới xã Lũng Cú"),
    PlantedArea("H2", "00694", 104.9350, 22.8072, 1.0, 30, "drugs",
                "Khu vực trung tâm phường Hà Giang 1"),
    PlantedArea("H3", "03158", 102.2930, 22.3799, 1.5, 30, "drugs",
                "Khu vực ngã ba biên giới xã Sín Thầu"),
    PlantedArea("H4", "03127", 103.0670, 21.4061, 0.8, 30, "public_order",
                "Khu vực chợ trung tâm phường Điện Biên Phủ"),
    PlantedArea("H5", "06184", 106.7220, 21.9461, 1.5, 30, "smuggling",
                "Khu vực cửa khẩu xã Đồng Đăng"),
    PlantedArea("H6", "19432", 106.6330, 16.6362, 1.2, 30, "drugs",
                "Khu vực cửa khẩu xã Lao Bảo"),
    PlantedArea("H7", "30316", 105.1170, 10.6837, 1.0, 30, "smuggling",
                "Khu vực biên giới phường Châu Đốc"),
    PlantedArea("H8", "26743", 106.6940, 10.7713, 0.3, 30, "public_order",
                "Khu vực chợ Bến Thành"),
)
