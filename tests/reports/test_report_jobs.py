"""Issue 18, background batches: POST starts a job (202 and its Location), GET follows its
progress, the finished ZIP or PDF is downloaded from its link; one job runs at a time;
only the job's owner can see it; the batch limits hold as for a batch made at once."""

from __future__ import annotations

import io
import time
import zipfile

from geoservice.services import of as services_of
from geoservice.store import FeatureQuery
from tests.reports.conftest import key_headers
from tests.reports.helpers import flat, page_texts, read_pdf
from tests.web.helpers import assert_error, decode

YEAR = 2024


def codes_of(app, count: int) -> list[str]:
    page = services_of(app).store.query("communes", FeatureQuery(limit=count,
                                                                 province_code="11"))
    return [fid for fid, _props, _geometry in page.features]


def wait(client, url: str, headers: dict, seconds: float = 300) -> dict:
    """Follow the job until it is finished; every answer on the way is a valid status."""
    deadline = time.monotonic() + seconds
    seen = []
    while time.monotonic() < deadline:
        body = decode(client.get(url, headers=headers))
        seen.append(body["progress"]["done"])
        assert 0 <= body["progress"]["done"] <= body["progress"]["total"]
        if body["status"] in ("done", "failed", "cancelled"):
            assert seen == sorted(seen)  # progress never goes back
            return body
        time.sleep(0.5)
    raise AssertionError(f"the job did not finish: {body}")


def test_a_background_zip_is_made_followed_and_downloaded(app):
    client, headers = app.test_client(), key_headers(app, "national")
    codes = codes_of(app, 2)
    response = client.post(f"/reports/province/11/batches?year={YEAR}&format=zip"
                           f"&communes={','.join(codes)}", headers=headers)
    started = decode(response, 202, "application/json")
    location = response.headers["Location"]
    assert location.endswith(f"/reports/batches/{started['id']}")
    assert started["progress"]["total"] == 2
    body = wait(client, location, headers)
    assert body["status"] == "done" and body["progress"]["percent"] == 100
    link = next(item["href"] for item in body["links"] if item["rel"] == "enclosure")
    download = client.get(link, headers=headers)
    assert download.status_code == 200 and download.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(download.data))
    assert archive.namelist() == [f"report-commune-{code}-{YEAR}-vi.pdf" for code in codes]
    store = services_of(app).store
    for code in codes:
        text = flat(" ".join(page_texts(read_pdf(archive.read(
            f"report-commune-{code}-{YEAR}-vi.pdf")))))
        assert store.get("communes", code)[1]["full_name"] in text
    # only its owner sees it: another key gets the same answer as for no job at all
    other = key_headers(app, "national")
    for url in (location, link):
        assert_error(decode(client.get(url, headers=other), 404, "application/json"), 404)
        assert_error(decode(client.get(url), 404, "application/json"), 404)


def test_a_background_pdf_and_one_job_at_a_time(app):
    client, headers = app.test_client(), key_headers(app, "national")
    codes = codes_of(app, 2)
    first = client.post(f"/reports/province/11/batches?year={YEAR}&format=pdf"
                        f"&communes={codes[0]}", headers=headers)
    second = client.post(f"/reports/province/11/batches?year={YEAR}&format=pdf"
                         f"&communes={codes[1]}", headers=headers)
    assert first.status_code == second.status_code == 202
    urls = (first.headers["Location"], second.headers["Location"])
    deadline, states = time.monotonic() + 300, []
    while time.monotonic() < deadline:  # never two running together
        states = [decode(client.get(url, headers=headers))["status"] for url in urls]
        assert states != ["running", "running"]
        if states == ["done", "done"]:
            break
        time.sleep(0.3)
    for response, code in ((first, codes[0]), (second, codes[1])):
        done = wait(client, response.headers["Location"], headers)
        assert done["status"] == "done", done
        link = next(item["href"] for item in done["links"] if item["rel"] == "enclosure")
        pdf = client.get(link, headers=headers)
        assert pdf.mimetype == "application/pdf"
        texts = page_texts(read_pdf(pdf.data))
        assert "Mục lục" in texts[0]
        name = services_of(app).store.get("communes", code)[1]["full_name"]
        assert name in flat(" ".join(texts[1:]))


def test_a_job_not_done_cannot_be_downloaded_and_can_be_cancelled(app):
    client, headers = app.test_client(), key_headers(app, "national")
    codes = codes_of(app, 3)
    running = client.post(f"/reports/province/11/batches?year={YEAR}"
                          f"&communes={','.join(codes[:2])}", headers=headers)
    waiting = client.post(f"/reports/province/11/batches?year={YEAR}&communes={codes[2]}",
                          headers=headers)
    location = waiting.headers["Location"]
    # one job at a time: the second is still queued behind the first, and stops there
    assert decode(client.get(location, headers=headers))["status"] == "queued"
    assert_error(decode(client.get(f"{location}/download", headers=headers), 409,
                        "application/json"), 409, parameter="job")
    assert decode(client.delete(location, headers=headers))["status"] == "cancelled"
    first = wait(client, running.headers["Location"], headers)
    assert first["status"] == "done"
    final = decode(client.get(location, headers=headers))
    assert final["status"] == "cancelled" and final["progress"]["done"] == 0
    assert client.get(f"{location}/download", headers=headers).status_code == 409
    assert not any(item["rel"] == "enclosure" for item in final["links"])


def test_the_batch_limits_hold_for_background_jobs(make_app, demo_db):
    app = make_app(demo_db, REPORT_BATCH_MAX_UNITS=1)
    client, headers = app.test_client(), key_headers(app, "national")
    codes = codes_of(app, 2)
    for url, parameter in ((f"/reports/province/11/batches?year={YEAR}"
                            f"&communes={','.join(codes)}", "communes"),
                           (f"/reports/province/11/batches?year=1900&communes={codes[0]}",
                            "year"),
                           ("/reports/province/11/batches?format=docx", "format"),
                           ("/reports/province/11/batches?number=1", "number")):
        body = decode(client.post(url, headers=headers), 400, "application/json")
        assert_error(body, 400, parameter=parameter)
    assert not services_of(app).instance_path.joinpath("report-batches").exists()
