"""Names of groups, countries and sections in reports; the words for record codes come from
the categories catalogue (`term`).

The values are English message ids; templates translate them with the catalogue
(`geoservice/translations`). Texts that layer files already define (hot-spot statuses,
border lines) are taken from the layer catalogue instead.
"""

from __future__ import annotations

GROUPS = {
    "residential": "Residential areas",
    "commune": "Commune-level units",
    "agencies": "Agencies",
    "enterprises": "Enterprises",
    "schools": "Educational institutions",
    "agencies_enterprises_schools": "Agencies, enterprises and schools",
}

def term(vocabulary: str, code: str | None, lang: str) -> str:
    """The catalogue's word for a record code (model types, incident categories, activity
    types: `geoservice.records.catalogue`, a deployment's own codes included)."""
    from geoservice.records import catalogue

    if vocabulary == "model_type" and code == ANY_MODEL:  # a row over every model type
        from flask_babel import gettext

        return gettext("Any model")
    return catalogue.label(vocabulary, code or "other", lang)


ANY_MODEL = "any"


COUNTRIES = {"CN": "China", "LA": "Laos", "KH": "Cambodia"}

# How a restricted section is named inside the sentence saying it was left out.
SECTIONS = {
    "incidents": "incidents",
    "hot_spots": "designated hot spots",
    "cooperation": "cross-border cooperation details",
}

# Partner localities across the border as Vietnamese texts name them (the records hold the
# names in their own romanisation). Cambodian provinces keep their Latin names, as
# Vietnamese texts write them.
PARTNER_LOCALITIES_VI = {
    "Yunnan": "Vân Nam",
    "Guangxi": "Quảng Tây",
    "Phongsaly": "Phông Sa Lỳ",
    "Luang Prabang": "Luông Pha Bang",
    "Houaphanh": "Hủa Phăn",
    "Xiengkhouang": "Xiêng Khoảng",
    "Bolikhamxay": "Bô Ly Khăm Xay",
    "Khammouane": "Khăm Muộn",
    "Savannakhet": "Xa Vẳn Na Khẹt",
    "Salavan": "Sa Lạ Văn",
    "Sekong": "Sê Kông",
    "Attapeu": "Át Tạ Pư",
}


def partner_name(name: str | None, lang: str) -> str:
    """A partner locality's name in the report's language (Vietnamese where known)."""
    if not name:
        return ""
    return PARTNER_LOCALITIES_VI.get(name, name) if lang == "vi" else name
