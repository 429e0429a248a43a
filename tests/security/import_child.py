"""A process that imports a file and is stopped half-way by the fault tests.

`python -m tests.security.import_child DATABASE_URL FILE [MODE]` runs the real import into
the real store. When the import transaction has written PAUSE_AT records it prints
`WRITING <n> <backend pid or 0>` and holds the transaction open, so that the test can kill
this process (or drop its database connection) at a known point inside the transaction:
MODE `idle` waits in this process (the transaction idle in the server, which notices at once
when the process dies); `server` (PostGIS) waits inside the server, where a terminated
connection shows at once.
"""

from __future__ import annotations

import sys
import time

PAUSE_AT = 200


def main(url: str, path: str, mode: str = "idle") -> None:
    """Import `path` into the store at `url`, pausing inside the transaction."""
    from geoservice.records.importer import run_import
    from geoservice.store import open_store, postgis_records, sqlite_records

    store = open_store(url)
    written = [0]

    def pausing(insert):
        def wrapped(self, *args, **kwargs):
            insert(self, *args, **kwargs)
            written[0] += 1
            if written[0] == PAUSE_AT:
                pid = getattr(getattr(self.conn, "info", None), "backend_pid", 0)
                print(f"WRITING {written[0]} {pid}", flush=True)
                if mode == "server":
                    self.conn.execute("SELECT pg_sleep(120)")
                else:
                    time.sleep(120)
        return wrapped

    for tx in (sqlite_records.SqliteRecordTx, postgis_records.PostgisRecordTx):
        tx.insert = pausing(tx.insert)
    with open(path, "rb") as file:
        report = run_import(store, "incidents", file.read(), "lon-xon.csv", "child")
    print(f"DONE {report.status}", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:4])
