"""Names of groups, model types, incident categories and activity types in reports.

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

MODEL_TYPES = {
    "self_management": "Self-management",
    "self_prevention": "Self-prevention",
    "self_protection": "Self-protection",
    "self_reconciliation": "Self-reconciliation",
    "security_cameras": "Cameras for security and order",
    "school_gate_traffic": "Traffic-safe school gates",
    "school_drug_prevention": "Drug prevention in schools",
    "enterprise_security_team": "Security teams of enterprises",
    "any": "Any model",
}

INCIDENT_CATEGORIES = {
    "drugs": "Drugs",
    "smuggling": "Smuggling",
    "illegal_border_crossing": "Illegal border crossing",
    "human_trafficking": "Human trafficking",
    "disputes_petitions": "Disputes and petitions",
    "public_order": "Public order",
    "other": "Other",
}

ACTIVITY_TYPES = {
    "joint_patrol": "Joint patrols",
    "village_twinning": "Twinning of border villages",
    "information_exchange": "Information exchange meetings",
    "joint_operation": "Joint operations",
    "handover": "Handovers of persons",
    "training": "Training",
    "other": "Other",
}

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
