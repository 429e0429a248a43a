"""Fixtures of the access-control tests: an app on each backend whose store holds the
fixture boundaries (provinces 08 and 11) and restricted records in both provinces — each
carrying a marker text, so a test can look for a province's secrets in any response —
and helpers to sign in through the real form and to make keys."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field

import pytest

from geoservice.auth import create_key
from geoservice.records.importer import run_import
from geoservice.services import of as services_of
from geoservice.store.records import RecordQuery

PASSWORD = "Mật khẩu đủ dài 2025!"
# Restricted records of each province; the marker texts are what must never leak.
INCIDENTS = (
    "Mã vụ việc,Tỉnh,Xã,Ngày,Loại,Kinh độ,Vĩ độ,Mức độ,Mô tả\n"
    "TQSECRET-1,Tuyên Quang,Lũng Cú,05/03/2024,ma tuý,105.31,23.33,cao,TQSECRET note\n"
    "TQSECRET-2,Tuyên Quang,Lũng Cú,07/03/2024,buôn lậu,105.32,23.34,thấp,TQSECRET note\n"
    "DBSECRET-1,Điện Biên,Sín Thầu,06/03/2024,ma tuý,102.29,22.38,thấp,DBSECRET note\n"
    "DBSECRET-2,Điện Biên,Sín Thầu,09/03/2024,mua bán người,102.30,22.39,cao,DBSECRET note\n")
HOT_SPOTS = (
    "Tỉnh,Xã,Tên điểm,Loại,Kinh độ,Vĩ độ,Trạng thái\n"
    "Tuyên Quang,Lũng Cú,TQSECRET chợ biên giới,ma tuý,105.31,23.33,đang theo dõi\n"
    "Điện Biên,Sín Thầu,DBSECRET bến đò,buôn lậu,102.29,22.38,đang theo dõi\n")
COOPERATION = (  # partner points placed on the commune's own point: one tile shows all
    "Tỉnh,Xã,Ngày,Hình thức,Nước,Địa phương đối diện,Kinh độ đối tác,Vĩ độ đối tác,Số người,"
    "Kết quả\n"
    "Tuyên Quang,Lũng Cú,05/03/2024,tuan tra chung,Trung Quốc,Vân Nam,105.31,23.33,12,"
    "TQSECRET kết quả\n"
    "Điện Biên,Sín Thầu,06/03/2024,tuan tra chung,Lào,Phongsaly,102.29,22.38,8,"
    "DBSECRET kết quả\n")
CERTIFICATION = (  # public figures, so that communes carry a year of indicators
    "Tỉnh,Xã,Năm,Nhóm,Số đánh giá,Số đạt\n"
    "Tuyên Quang,Lũng Cú,2024,khu dân cư,10,7\n"
    "Điện Biên,Sín Thầu,2024,khu dân cư,8,8\n")
SEEDS = {"incidents": INCIDENTS, "hot-spots": HOT_SPOTS, "cooperation": COOPERATION,
         "certification": CERTIFICATION}
RESTRICTED_SEEDS = ("incidents", "hot-spots", "cooperation")
MARKERS = {"08": "TQSECRET", "11": "DBSECRET"}
POINTS = {"08": (105.31, 23.33), "11": (102.29, 22.38)}


@dataclass
class World:
    """An app with restricted records in provinces 08 and 11."""

    app: object
    url: str
    record_ids: dict = field(default_factory=dict)  # province -> ids of its records

    @property
    def store(self):
        """The app's store."""
        return services_of(self.app).store


def seed(store) -> dict[str, list[str]]:
    """Import the restricted records; return each province's record ids."""
    for kind, text in SEEDS.items():
        report = run_import(store, kind, text.encode(), f"{kind}.csv", "seed")
        assert report.status == "applied", report.errors
    ids: dict[str, list[str]] = {"08": [], "11": []}
    for kind in RESTRICTED_SEEDS:
        for fid, props, _geometry in store.query_records(kind, RecordQuery(limit=100)).features:
            ids[props["province_code"]].append(fid)
    assert len(ids["08"]) == len(ids["11"]) == 4
    return ids


def new_store_url(kind: str, tmp_path_factory, loaded_db, built) -> tuple[str, object]:
    """A fresh store with the fixture boundaries: (database URL, cleanup)."""
    from geoservice.boundaries.load import load_boundaries
    from geoservice.store import open_store
    from tests.conftest import (
        _copy_database,
        _drop_schema,
        _postgis_schema_url,
        _require_postgis,
    )

    if kind == "sqlite":
        path = tmp_path_factory.mktemp("security-store") / "geoservice.sqlite"
        _copy_database(loaded_db, path)
        return f"sqlite:///{path}", lambda: None
    _require_postgis()
    schema = f"a_{uuid.uuid4().hex[:12]}"
    url = _postgis_schema_url(schema)
    store = open_store(url)
    load_boundaries(store, built.gpkg)
    store.close()
    return url, lambda: _drop_schema(schema)


def make_world(kind, tmp_path_factory, loaded_db, built, **config):
    """Create a World (and its cleanup) on a backend."""
    from geoservice import create_app

    url, cleanup = new_store_url(kind, tmp_path_factory, loaded_db, built)
    instance = tmp_path_factory.mktemp("security-instance")
    app = create_app({"INSTANCE_PATH": str(instance), "DATABASE_URL": url, **config})
    world = World(app, url)
    world.record_ids = seed(world.store)
    return world, cleanup


@pytest.fixture(scope="module", params=["sqlite", "postgis"])
def world(request, tmp_path_factory, loaded_db, built):
    """A World on each backend, shared by the tests of a module (they only add users/keys)."""
    made, cleanup = make_world(request.param, tmp_path_factory, loaded_db, built)
    yield made
    services_of(made.app).close()  # its work after imports done, then its store
    cleanup()


@pytest.fixture(params=["sqlite", "postgis"])
def fresh_world(request, tmp_path_factory, loaded_db, built):
    """A World of its own for one test, on each backend."""
    made, cleanup = make_world(request.param, tmp_path_factory, loaded_db, built)
    yield made
    services_of(made.app).close()  # its work after imports done, then its store
    cleanup()


def key_headers(store, role="viewer", area="national", layers=None) -> dict:
    """Headers carrying a new API key."""
    text = create_key(store, f"test-{uuid.uuid4().hex[:6]}", role, area, layers=layers)[1]
    return {"X-API-Key": text}


def add_user(store, role="viewer", area="national", name=None) -> str:
    """Create a user with PASSWORD; return the name."""
    from geoservice import users

    name = name or f"u{uuid.uuid4().hex[:8]}"
    users.create_user(store, name, PASSWORD, role, area, "test")
    return name


CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client, path="/login") -> str:
    """The CSRF token of the sign-in form as a browser gets it."""
    page = client.get(path, headers={"Accept": "text/html"})
    assert page.status_code == 200, page.status_code
    return CSRF_INPUT.search(page.get_data(as_text=True)).group(1)


def sign_in(app, username, password=PASSWORD, client=None):
    """A test client signed in through the real form (GET the form, POST it)."""
    client = client or app.test_client()
    response = client.post("/login", data={"username": username, "password": password,
                                           "csrf_token": csrf_token(client)})
    assert response.status_code == 303, (response.status_code, response.get_data()[:300])
    return client


def session_token(client) -> str:
    """The CSRF token a script gets for its session (GET /auth/session)."""
    return client.get("/auth/session").get_json()["csrf_token"]
