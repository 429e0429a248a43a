"""The kinds of security records, their fields, and what makes two rows the same record.

Every record is keyed to a 2025 commune (and so to its province) and carries provenance
(source file, row, who imported it, when) and a history of changes. A kind's `natural_key`
names the fields that identify a record across imports: re-importing the same row finds the
same record (nothing changes), and a correction file with the same key updates it and keeps
the old version in the history.

Header aliases (Vietnamese and English, compared after `text.name_key`, so diacritics,
case and spacing do not matter) let officials' spreadsheets be read as they are. The
values of the vocabularies officials extend (incident categories, model types, activity
types, severities, statuses) are the catalogue's (`geoservice.records.catalogue`); the
certification groups and the neighbouring countries are fixed here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from geoservice.records.catalogue import Choices
from geoservice.text import ascii_fold


@dataclass(frozen=True)
class FieldDef:
    """One field of a record kind."""

    name: str
    type: str  # str, int, date, enum, lon, lat, wkt
    required: bool = False
    aliases: tuple[str, ...] = ()
    choices: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # value -> spellings
    description: str = ""


@dataclass(frozen=True)
class KindDef:
    """A record kind: the collection it is served as, its fields and its identity."""

    id: str
    title: str
    title_en: str
    fields: tuple[FieldDef, ...]
    natural_key: tuple[str, ...]
    restricted: bool = False
    # Used instead of `natural_key` for rows that leave a natural-key field empty.
    fallback_key: tuple[str, ...] = ()
    date_field: str | None = None
    year_field: str | None = None
    category_field: str | None = None

    def field(self, name: str) -> FieldDef:
        """Return the field called `name`."""
        return next(f for f in self.fields if f.name == name)


# Columns naming the unit, shared by every kind; resolved to a 2025 commune code.
UNIT_FIELDS = (
    FieldDef("commune_code", "str", aliases=("ma xa", "ma don vi", "ma dvhc", "commune code",
                                             "unit code", "code", "ma")),
    FieldDef("commune", "str", aliases=("xa", "xa phuong", "ten xa", "phuong", "don vi",
                                        "ten don vi", "commune", "ward", "unit", "commune name")),
    FieldDef("district", "str", aliases=("huyen", "quan huyen", "quan", "district")),
    FieldDef("province", "str", aliases=("tinh", "tinh thanh", "tinh thanh pho", "province")),
)

LOCATION_FIELDS = (
    FieldDef("lon", "lon", aliases=("kinh do", "longitude", "lon", "lng", "x")),
    FieldDef("lat", "lat", aliases=("vi do", "latitude", "lat", "y")),
)

GROUPS = {
    "residential": ("khu dan cu", "thon to dan pho", "residential", "residential areas",
                    "thon", "to dan pho"),
    "commune": ("xa phuong", "cap xa", "don vi cap xa", "commune", "commune level"),
    "agencies": ("co quan", "agencies", "agency"),
    "enterprises": ("doanh nghiep", "enterprises", "enterprise"),
    "schools": ("co so giao duc", "nha truong", "truong hoc", "schools",
                "educational institutions"),
}

# The vocabularies officials can extend (incident categories, model types, activity types,
# severities, statuses) come from the catalogue file (`geoservice.records.catalogue`):
# live views of the installed catalogue, code -> spellings (labels, then aliases).
MODEL_TYPES = Choices("model_type")
STATUS = Choices("model_status")
INCIDENT_CATEGORIES = Choices("incident_category")
SEVERITY = Choices("severity")
HOTSPOT_STATUS = Choices("hot_spot_status")
ACTIVITY_TYPES = Choices("activity_type")

COUNTRIES = {
    "CN": ("trung quoc", "china", "cn"),
    "LA": ("lao", "laos", "la"),
    "KH": ("campuchia", "cambodia", "kh"),
}

YEAR = FieldDef("year", "int", True, ("nam", "year"))


KINDS: dict[str, KindDef] = {k.id: k for k in (
    KindDef(
        "certification", "Kết quả công nhận An toàn về ANTT", "Certification results",
        (YEAR,
         FieldDef("group", "enum", True, ("nhom", "loai", "doi tuong", "group"), GROUPS),
         # The wording of Circular 124/2021/TT-BCA too: "đăng ký", "được xét" / "xét công
         # nhận", "đạt chuẩn" / "được công nhận".
         FieldDef("registered", "int", False, ("dang ky", "so dang ky", "dang ky xet cong nhan",
                                               "so dang ky xet cong nhan", "registered")),
         FieldDef("reviewed", "int", True, ("danh gia", "so danh gia", "xet", "reviewed",
                                            "duoc xet", "so duoc xet", "xet cong nhan",
                                            "so xet cong nhan", "duoc xet cong nhan",
                                            "so duoc xet cong nhan")),
         FieldDef("certified", "int", True, ("dat", "cong nhan", "so dat", "certified",
                                             "dat chuan", "so dat chuan", "duoc cong nhan",
                                             "so duoc cong nhan"))),
        natural_key=("commune_code", "year", "group"), year_field="year",
        category_field="group",
    ),
    KindDef(
        "models", "Mô hình tự quản", "Self-management models",
        (FieldDef("model_type", "enum", True, ("loai mo hinh", "mo hinh", "type"), MODEL_TYPES),
         FieldDef("name", "str", True, ("ten mo hinh", "ten", "name")),
         FieldDef("host_unit", "str", False, ("don vi chu tri", "noi trien khai", "host unit")),
         *LOCATION_FIELDS,
         FieldDef("start_date", "date", False, ("ngay thanh lap", "ngay bat dau", "start date")),
         FieldDef("status", "enum", False, ("trang thai", "status"), STATUS)),
        natural_key=("commune_code", "model_type", "name"), date_field="start_date",
        category_field="model_type",
    ),
    KindDef(
        "incidents", "Vụ việc về ANTT", "Incidents",
        (FieldDef("ref", "str", False, ("so hieu", "ma vu viec", "reference", "ref")),
         FieldDef("date", "date", True, ("ngay", "ngay xay ra", "thoi gian", "date")),
         FieldDef("category", "enum", True, ("loai", "linh vuc", "category"),
                  INCIDENT_CATEGORIES),
         *(FieldDef(f.name, f.type, True, f.aliases) for f in LOCATION_FIELDS),
         FieldDef("severity", "enum", False, ("muc do", "severity"), SEVERITY),
         FieldDef("description", "str", False, ("mo ta", "tom tat", "description"))),
        natural_key=("ref",), fallback_key=("date", "category", "lon", "lat"),
        restricted=True, date_field="date", category_field="category",
    ),
    KindDef(
        "hot-spots", "Địa bàn, điểm nóng", "Designated hot spots",
        (FieldDef("name", "str", True, ("ten diem", "ten", "name")),
         FieldDef("category", "enum", True, ("loai", "linh vuc", "category"),
                  INCIDENT_CATEGORIES),
         *LOCATION_FIELDS,
         FieldDef("area_wkt", "wkt", False, ("vung wkt", "wkt", "area")),
         FieldDef("status", "enum", False, ("trang thai", "status"), HOTSPOT_STATUS),
         FieldDef("designated_on", "date", False, ("ngay xac dinh", "designated on")),
         FieldDef("resolved_on", "date", False, ("ngay chuyen hoa", "resolved on"))),
        natural_key=("commune_code", "name"), restricted=True, date_field="designated_on",
        category_field="category",
    ),
    KindDef(
        "cooperation", "Hợp tác biên giới", "Cross-border cooperation",
        (FieldDef("date", "date", True, ("ngay", "thoi gian", "date")),
         FieldDef("activity_type", "enum", True, ("hinh thuc", "loai hoat dong", "type"),
                  ACTIVITY_TYPES),
         FieldDef("border_station", "str", False, ("don bien phong", "border station")),
         FieldDef("partner_country", "enum", True, ("nuoc", "quoc gia", "partner country"),
                  COUNTRIES),
         FieldDef("partner_locality", "str", True, ("dia phuong doi dien", "doi tac",
                                                    "partner locality")),
         FieldDef("partner_lon", "lon", False, ("kinh do doi tac", "partner lon")),
         FieldDef("partner_lat", "lat", False, ("vi do doi tac", "partner lat")),
         FieldDef("participants", "int", False, ("so nguoi", "nguoi tham gia",
                                                 "participants")),
         FieldDef("outcome", "str", False, ("ket qua", "outcome"))),
        natural_key=("date", "commune_code", "activity_type", "partner_locality"),
        restricted=True, date_field="date", category_field="activity_type",
    ),
    KindDef(
        "awareness", "Tuyên truyền, khen thưởng", "Awareness work and commendations",
        (YEAR,
         FieldDef("sessions", "int", True, ("so buoi", "buoi tuyen truyen",
                                             "so buoi tuyen truyen", "sessions")),
         FieldDef("participants", "int", True, ("luot nguoi", "nguoi tham du",
                                                 "luot nguoi tham du", "so nguoi",
                                                 "so nguoi tham du", "participants")),
         FieldDef("commended_collectives", "int", False, ("tap the khen thuong",
                                                          "tap the duoc khen thuong",
                                                          "commended collectives")),
         FieldDef("commended_individuals", "int", False, ("ca nhan khen thuong",
                                                          "ca nhan duoc khen thuong",
                                                          "commended individuals"))),
        natural_key=("commune_code", "year"), year_field="year",
    ),
)}


def natural_key(kind: str, values: dict) -> str:
    """Return a record's natural key text: its kind's key fields joined by ``|``.

    The fallback key is used when a key field is empty; dates as ISO text; floats with six
    decimals. The importer and the demo data both key records with this.
    """
    definition = KINDS[kind]
    fields = definition.natural_key
    if definition.fallback_key and any(values.get(f) in (None, "") for f in fields):
        fields = definition.fallback_key
    parts = []
    for name in fields:
        value = values.get(name)
        if isinstance(value, float):
            value = f"{value:.6f}"
        elif isinstance(value, str):  # 'Vân Nam', 'Van  Nam' and 'VÂN NAM' are one locality
            value = " ".join(ascii_fold(value).lower().split())
        parts.append("" if value is None else str(value))
    return "|".join(parts)
