"""Province names officials use that are in neither list of the registry.

The registry's lists give every 2025 province and every pre-reform province (63) by its
name, so those need nothing here: the resolver and the search derive them from the data.
What they lack are the abbreviations and the older names still typed in spreadsheets and
search boxes ("TP.HCM", "BR-VT", "Thừa Thiên Huế" — Huế became a centrally run city, and
took the name "Huế", in January 2025, before the reform). Each alias names the unit it
means by a name the registry does know (2025 or pre-reform); a name that would be
ambiguous ("ĐN": Đà Nẵng, Đồng Nai or Đắk Nông) is deliberately left out.
"""

from __future__ import annotations

from geoservice.text import name_key

PROVINCE_ALIASES: dict[str, tuple[str, ...]] = {
    "Hồ Chí Minh": ("TP HCM", "TP.HCM", "TPHCM", "HCM", "HCMC", "TP. Hồ Chí Minh",
                    "Sài Gòn", "Sai Gon", "SG", "Sài Gòn - Gia Định"),
    "Hà Nội": ("HN", "TP HN", "TP.HN", "TPHN", "Hà Tây"),
    "Hải Phòng": ("HP", "TP HP", "TP.HP", "TPHP"),
    "Đà Nẵng": ("TP ĐN", "TP.ĐN", "TPĐN"),
    "Cần Thơ": ("TP CT", "TP.CT", "TPCT"),
    "Huế": ("Thừa Thiên Huế", "Thừa Thiên - Huế", "TT Huế", "TT-Huế", "TTH", "Thừa Thiên"),
    "Bà Rịa - Vũng Tàu": ("BR-VT", "BRVT", "BR VT", "Vũng Tàu - Bà Rịa"),
    "Đắk Lắk": ("Đắc Lắc", "Đắk Lăk", "Đăk Lăk", "Đắc Lắk"),
    "Đắk Nông": ("Đắc Nông", "Đăk Nông"),
    "Bắc Kạn": ("Bắc Cạn",),
    "Kon Tum": ("KonTum",),
}


def province_aliases() -> dict[str, str]:
    """Return name key of each alias -> the registry name it stands for."""
    return {name_key(alias): canonical
            for canonical, aliases in PROVINCE_ALIASES.items() for alias in aliases}


def province_alias(text: str | None) -> str | None:
    """Return the registry name an alias stands for ("TP.HCM" -> "Hồ Chí Minh"), or None."""
    return province_aliases().get(name_key(text)) if text else None
