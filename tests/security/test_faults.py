"""Faults: an import killed half-way (a real process, SIGKILL) or whose PostGIS connection is
dropped writes nothing; a store that goes away answers 503 in the JSON error shape and
serving resumes when it is back; backups and restores of the embedded store."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading

import psycopg
import pytest
from click.testing import CliRunner

from geoservice.cli import main
from geoservice.store import open_store
from geoservice.store.records import RecordQuery
from geoservice.store.security import AuditQuery
from tests.conftest import POSTGIS_URL, REPO_ROOT
from tests.security.conftest import key_headers, make_world, new_store_url, seed
from tests.security.import_child import PAUSE_AT
from tests.web.helpers import assert_error, decode

ROWS = 1500


def big_file(path) -> None:
    """ROWS incidents in commune Lũng Cú (province 08)."""
    lines = ["Mã vụ việc,Tỉnh,Xã,Ngày,Loại,Kinh độ,Vĩ độ"]
    lines += [f"BIG-{i},Tuyên Quang,Lũng Cú,{1 + i % 28:02d}/0{1 + i % 9}/2024,ma tuý,"
              f"{105.30 + (i % 50) / 5000:.4f},{23.32 + (i // 50) / 5000:.4f}"
              for i in range(ROWS)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def snapshot(store) -> tuple:
    """What an import could change: the records, their history and the imports."""
    page = store.query_records("incidents", RecordQuery(limit=10**6))
    return (sorted((fid, props["version"]) for fid, props, _g in page.features),
            [i["id"] for i in store.imports()])


def start_child(url, path, mode="idle"):
    child = subprocess.Popen([sys.executable, "-m", "tests.security.import_child", url,
                              str(path), mode], cwd=REPO_ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True,
                             env={**os.environ, "PGAPPNAME": "geoservice-fault-test"})
    line = [None]
    reader = threading.Thread(target=lambda: line.__setitem__(0, child.stdout.readline()))
    reader.start()
    reader.join(240)
    assert line[0] and line[0].startswith(f"WRITING {PAUSE_AT}"), (line, child.poll())
    return child, int(line[0].split()[2])


@pytest.fixture(params=["sqlite", "postgis"])
def seeded(request, tmp_path_factory, loaded_db, built):
    url, cleanup = new_store_url(request.param, tmp_path_factory, loaded_db, built)
    store = open_store(url)
    seed(store)
    yield url, store
    store.close()
    cleanup()


def test_an_import_killed_half_way_leaves_the_store_as_before(seeded, tmp_path):
    url, store = seeded
    path = tmp_path / "lon-xon.csv"
    big_file(path)
    before = snapshot(store)
    child, _pid = start_child(url, path)
    os.kill(child.pid, signal.SIGKILL)  # mid-transaction: PAUSE_AT records written
    child.wait(30)
    store.close()
    after = open_store(url)
    assert snapshot(after) == before
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        conn.close()
    # Nothing is left locked or half-written: the same file now imports whole.
    from geoservice.records.importer import run_import

    report = run_import(after, "incidents", path.read_bytes(), "lon-xon.csv", "again")
    assert report.status == "applied" and report.outcome["inserted"] == ROWS
    after.close()


def test_a_dropped_postgis_connection_during_an_import_writes_nothing(tmp_path_factory,
                                                                     loaded_db, built,
                                                                     tmp_path):
    url, cleanup = new_store_url("postgis", tmp_path_factory, loaded_db, built)
    store = open_store(url)
    try:
        seed(store)
        path = tmp_path / "lon-xon.csv"
        big_file(path)
        before = snapshot(store)
        child, backend = start_child(url, path, "server")
        with psycopg.connect(POSTGIS_URL, autocommit=True) as admin:
            assert admin.execute("SELECT pg_terminate_backend(%s)", (backend,)).fetchone()[0]
        _out, err = child.communicate(timeout=60)
        assert child.returncode != 0 and "terminat" in err.lower(), err[-500:]
        assert snapshot(store) == before
    finally:
        store.close()
        cleanup()


def test_postgis_going_away_is_a_503_and_serving_resumes(tmp_path_factory, loaded_db, built):
    world, cleanup = make_world("postgis", tmp_path_factory, loaded_db, built)
    client, store = world.app.test_client(), world.store
    national = key_headers(store)
    url = "/collections/incidents/items"
    try:
        assert decode(client.get(url, headers=national))["numberMatched"] == 4
        backend = store._connect().info.backend_pid
        with psycopg.connect(POSTGIS_URL, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (backend,))
        dropped = client.get(url, headers=national)
        assert_error(decode(dropped, 503), 503, "StoreUnavailable")
        assert int(dropped.headers["Retry-After"]) > 0  # for the request in flight only
        assert decode(client.get(url, headers=national))["numberMatched"] == 4
        # The server unreachable (a closed port), then back.
        good = store.url
        store.close()
        store.url = "postgresql://postgres@127.0.0.1:1/test"
        unreachable = client.get(url, headers=national)
        assert_error(decode(unreachable, 503), 503, "StoreUnavailable")
        assert int(unreachable.headers["Retry-After"]) > 0
        assert_error(decode(client.get("/collections/provinces/items"), 503), 503)
        store.url = good
        assert decode(client.get(url, headers=national))["numberMatched"] == 4
    finally:
        store.close()
        cleanup()


def test_a_missing_or_damaged_database_file_is_a_503_and_serving_resumes(tmp_path_factory,
                                                                         loaded_db, built):
    world, cleanup = make_world("sqlite", tmp_path_factory, loaded_db, built)
    client, store = world.app.test_client(), world.store
    path = store.path
    url = "/collections/provinces/items"
    assert client.get(url).status_code == 200
    store.close()
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    moved = path.with_name("moved.sqlite")
    path.rename(moved)
    missing = client.get(url)
    assert_error(decode(missing, 503), 503, "StoreUnavailable")
    assert int(missing.headers["Retry-After"]) > 0
    assert not path.exists()  # a request never creates an empty database in its place
    path.write_bytes(b"this is not a database" * 100)
    assert_error(decode(client.get(url), 503), 503, "StoreUnavailable")
    path.unlink()
    moved.rename(path)
    assert decode(client.get(url))["numberMatched"] == 2
    store.close()
    cleanup()


def cli(instance, url, *args, stdin=None):
    return CliRunner().invoke(main, list(args), input=stdin, catch_exceptions=False, env={
        "GEOSERVICE_INSTANCE_PATH": str(instance), "GEOSERVICE_DATABASE_URL": url})


def test_backup_and_restore_of_the_embedded_store(tmp_path_factory, loaded_db, built,
                                                  tmp_path):
    world, _cleanup = make_world("sqlite", tmp_path_factory, loaded_db, built)
    app, store, client = world.app, world.store, world.app.test_client()
    national = key_headers(store)
    instance, url = app.instance_path, world.url
    backup = tmp_path / "sao-luu.sqlite"
    result = cli(instance, url, "backup", "-o", str(backup))
    assert result.exit_code == 0, result.output
    assert "'records': " in result.output and backup.exists()
    saved = snapshot(store)
    # Changes after the backup: an import, and a key.
    from geoservice.records.importer import run_import

    path = tmp_path / "them.csv"
    big_file(path)
    assert run_import(store, "incidents", path.read_bytes(), "them.csv", "x").status == \
        "applied"
    count = decode(client.get("/collections/incidents/items", headers=national))
    assert count["numberMatched"] == 4 + ROWS
    # Bad files are refused and change nothing.
    garbage = tmp_path / "rac.sqlite"
    garbage.write_bytes(b"SQLite format 3\x00" + b"\x00" * 5000)
    other = tmp_path / "khac.sqlite"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    truncated = tmp_path / "cut.sqlite"
    truncated.write_bytes(backup.read_bytes()[: backup.stat().st_size // 2])
    for bad in (garbage, other, truncated):
        refused = cli(instance, url, "restore", str(bad), "--yes")
        assert refused.exit_code == 2, (bad, refused.output)
    assert decode(client.get("/collections/incidents/items", headers=national))[
        "numberMatched"] == 4 + ROWS
    # Restore while the app keeps serving (and holds open connections).
    restored = cli(instance, url, "restore", str(backup), "--yes")
    assert restored.exit_code == 0, restored.output
    assert snapshot(store) == saved
    assert decode(client.get("/collections/incidents/items", headers=national))[
        "numberMatched"] == 4
    # The audit trail is not rewound: what happened after the backup is still there.
    actions = [r["action"] for r in store.audit_rows(AuditQuery(limit=100))[0]]
    assert actions[0] == "restore" and "backup" in actions and "key_use" in actions
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    store.close()


def test_backup_of_postgis_points_to_pg_dump(tmp_path_factory, loaded_db, built, tmp_path):
    world, cleanup = make_world("postgis", tmp_path_factory, loaded_db, built)
    try:
        result = cli(world.app.instance_path, world.url, "backup", str(tmp_path / "b"))
        assert result.exit_code == 2 and "pg_dump" in result.output
    finally:
        world.store.close()
        cleanup()


def test_backup_copies_survive_a_copy_elsewhere(tmp_path_factory, loaded_db, built, tmp_path):
    """A backup is a complete database on its own (no -wal file needed)."""
    world, _cleanup = make_world("sqlite", tmp_path_factory, loaded_db, built)
    out = tmp_path / "b.sqlite"
    assert cli(world.app.instance_path, world.url, "backup", str(out)).exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.sqlite"]  # no partial files
    lonely = tmp_path / "elsewhere" / "copy.sqlite"
    lonely.parent.mkdir()
    shutil.copy(out, lonely)
    copy = open_store(f"sqlite:///{lonely}")
    assert snapshot(copy) == snapshot(world.store)
    copy.close()
    world.store.close()
