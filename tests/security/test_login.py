"""Signing in and out through the real form, on both backends: the page (Vietnamese, English
on request), cookie flags, session rotation, lock-out, disabled users, logout, CSRF on
session-authenticated changes (keys exempt), safe redirects and rate limits."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest

from geoservice import users
from geoservice.services import of as services_of
from geoservice.store.security import AuditQuery
from tests.security.conftest import (
    CSRF_INPUT,
    PASSWORD,
    add_user,
    csrf_token,
    key_headers,
    session_token,
    sign_in,
)
from tests.web.helpers import assert_error, decode


def session_of(app, client) -> dict:
    """The decoded (signed) session cookie of a test client."""
    cookie = client.get_cookie("geoservice_session")
    if cookie is None:
        return {}
    return app.session_interface.get_signing_serializer(app).loads(cookie.value)


def targeted(store, target) -> list[str]:
    """The audit actions about `target`, oldest first."""
    rows, _total = store.audit_rows(AuditQuery(limit=1000))
    return [r["action"] for r in reversed(rows) if r["target"] == target]


def test_the_sign_in_page_speaks_vietnamese_and_english(world):
    client = world.app.test_client()
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="vi">' in page and "Đăng nhập" in page and "Mật khẩu" in page
    assert 'name="csrf_token"' in page
    english = client.get("/login?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in english and "Password" in english
    assert "Content-Security-Policy" in client.get("/login").headers


def test_sign_in_sets_a_fresh_http_only_lax_session(world):
    app, store = world.app, world.store
    name = add_user(store, "viewer", "08")
    client = app.test_client()
    client.get("/login")
    before = session_of(app, client)
    assert "sid" not in before
    response = client.post("/login", data={"username": name, "password": PASSWORD,
                                           "csrf_token": csrf_token(client),
                                           "next": "/collections"})
    assert response.status_code == 303 and response.headers["Location"] == "/collections"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    first = session_of(app, client)["sid"]
    who = decode(client.get("/auth/session"))
    assert (who["kind"], who["name"], who["role"], who["area"]) == ("user", name, "viewer",
                                                                      "08")
    # Signing in again (same browser) rotates the session id; the old one is dead.
    client.post("/login", data={"username": name, "password": PASSWORD,
                                "csrf_token": session_token(client)})
    second = session_of(app, client)["sid"]
    assert second != first
    assert users.session_principal(store, first) is None
    assert users.session_principal(store, second).ident == name
    assert targeted(store, name).count("login") == 2


def test_secure_cookie_when_served_over_https(make_app, loaded_db):
    app = make_app(loaded_db, SESSION_COOKIE_SECURE="true")
    name = add_user(services_of(app).store)
    client = app.test_client()
    response = client.post("/login", base_url="https://localhost", data={
        "username": name, "password": PASSWORD,
        "csrf_token": csrf_token(client)}, headers={"Referer": "https://localhost/login"})
    assert response.status_code == 303
    assert "Secure" in response.headers["Set-Cookie"]


def test_wrong_names_and_passwords_get_one_answer_and_lock_the_account(world):
    app, store = world.app, world.store
    name = add_user(store, "editor", "11")
    client = app.test_client()
    answers = []
    for username, password in [("nobody-here", PASSWORD)] + [(name, "wrong password!")] * 5:
        response = client.post("/login", data={"username": username, "password": password,
                                               "csrf_token": csrf_token(client)})
        assert response.status_code == 401
        page = response.get_data(as_text=True).split("<main>")[1].replace(username, "NAME")
        answers.append(CSRF_INPUT.sub("", page))
    assert len(set(answers)) == 1  # an unknown name reads like a wrong password
    locked = client.post("/login", data={"username": name, "password": PASSWORD,
                                         "csrf_token": csrf_token(client)})
    assert locked.status_code == 401  # the right password does not open a locked account
    user = store.get_user(name)
    until = datetime.fromisoformat(user["locked_until"])
    assert timedelta(minutes=14) < until - datetime.now(UTC) <= timedelta(minutes=15)
    actions = targeted(store, name)
    assert actions.count("login_failed") == 6 and actions.count("lockout") == 1
    store.update_user(name, {"locked_until": (datetime.now(UTC) - timedelta(seconds=1))
                             .isoformat(timespec="seconds")})
    sign_in(app, name, client=client)
    assert store.get_user(name)["failed_logins"] == 0


def test_disabling_a_user_ends_their_session_at_once(world):
    app, store = world.app, world.store
    name = add_user(store, "viewer", "08")
    client = sign_in(app, name)
    assert client.get("/collections/incidents/items").status_code == 200
    users.set_enabled(store, name, False)
    assert_error(decode(client.get("/collections/incidents/items"), 401), 401)
    users.set_enabled(store, name, True)
    assert client.get("/collections/incidents/items").status_code == 401  # signs in again
    response = client.post("/login", data={"username": name, "password": PASSWORD,
                                           "csrf_token": csrf_token(client)})
    assert response.status_code == 303


def test_an_expired_session_is_anonymous(world):
    store = world.store
    name = add_user(store)
    sid = users.open_session(store, name, 1, "127.0.0.1")
    assert users.session_principal(store, sid).ident == name
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat(timespec="seconds")
    store.delete_sessions(session_id=users._digest(sid))
    store.add_session({"id": users._digest(sid), "username": name, "created_at": past,
                       "expires_at": past, "remote_addr": None})
    assert users.session_principal(store, sid) is None


def test_logout_needs_the_token_and_ends_the_session_server_side(world):
    app, store = world.app, world.store
    client = sign_in(app, add_user(store, "viewer", "08"))
    sid = session_of(app, client)["sid"]
    assert_error(decode(client.post("/logout"), 400), 400, "CSRFError")
    assert client.get("/logout").status_code == 405
    response = client.post("/logout", data={"csrf_token": session_token(client)})
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert users.session_principal(store, sid) is None
    # A copy of the old cookie (say, stolen before sign-out) opens nothing.
    thief = app.test_client()
    thief.set_cookie("geoservice_session", app.session_interface.get_signing_serializer(app)
                     .dumps({"sid": sid}))
    assert decode(thief.get("/auth/session"))["authenticated"] is False


CSV = ("Mã vụ việc,Tỉnh,Xã,Ngày,Loại,Kinh độ,Vĩ độ\n"
       "CSRF-1,Tuyên Quang,Lũng Cú,01/04/2024,ma tuý,105.31,23.33\n")


def upload(client, headers=None, data=None):
    form = {"file": (io.BytesIO(CSV.encode()), "vu-viec.csv"), **(data or {})}
    return client.post("/imports/incidents", headers=headers or {}, data=form,
                       content_type="multipart/form-data")


def test_session_changes_need_the_csrf_token_keys_do_not(fresh_world):
    app, store = fresh_world.app, fresh_world.store
    client = sign_in(app, add_user(store, "editor", "08"))
    assert_error(decode(upload(client), 400), 400, "CSRFError")
    assert_error(decode(upload(client, {"X-CSRFToken": "forged"}), 400), 400, "CSRFError")
    assert decode(upload(client, {"X-CSRFToken": session_token(client)}), 201)
    assert decode(upload(client, data={"csrf_token": session_token(client)}), 201)
    # Another browser's token does not fit this session.
    other = sign_in(app, add_user(store, "editor", "08"))
    assert_error(decode(upload(client, {"X-CSRFToken": session_token(other)}), 400), 400)
    # A key is never sent by a browser on its own: no token needed.
    assert decode(upload(app.test_client(), key_headers(store, "editor", "08")), 201)
    # Without a session or key there is nothing to protect: 401 first.
    assert_error(decode(upload(app.test_client()), 401), 401, "Unauthorized")


@pytest.mark.parametrize("target, expected", [
    ("/collections", "/collections"),
    ("/collections/incidents/items?limit=5", "/collections/incidents/items?limit=5"),
    ("//evil.example/", "/"),
    ("https://evil.example/", "/"),
    ("/\\evil.example", "/"),
    ("javascript:alert(1)", "/"),
])
def test_after_sign_in_only_local_paths(world, target, expected):
    client = world.app.test_client()
    response = client.post("/login", data={"username": add_user(world.store),
                                           "password": PASSWORD, "next": target,
                                           "csrf_token": csrf_token(client)})
    assert response.headers["Location"] == expected


def test_sign_in_attempts_are_rate_limited(make_app, loaded_db):
    app = make_app(loaded_db, LOGIN_RATE_LIMIT="3 per minute")
    client = app.test_client()
    token = csrf_token(client)
    statuses = [client.post("/login", data={"username": "x", "password": "y" * 10,
                                            "csrf_token": token}).status_code
                for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    body = decode(client.post("/login", data={"csrf_token": token}), 429)
    assert_error(body, 429, "TooManyRequests")
    assert int(client.post("/login", data={"csrf_token": token}).headers["Retry-After"]) > 0
    assert client.get("/login").status_code == 200  # the page itself is not limited


def test_heavy_routes_are_rate_limited_per_caller(make_app, loaded_db):
    from geoservice import access

    app = make_app(loaded_db, HEAVY_RATE_LIMIT="2 per minute")
    app.add_url_rule("/probe", "probe", access.heavy(access.public(lambda: "ok")))
    store, client = services_of(app).store, app.test_client()
    assert [client.get("/probe").status_code for _ in range(3)] == [200, 200, 429]
    editor = key_headers(store, "editor", "08")
    other = key_headers(store, "editor", "08")
    assert [upload(client, editor).status_code for _ in range(3)][2] == 429
    assert upload(client, other).status_code in (201, 422)  # its own budget
    assert client.get("/collections").status_code == 200  # other routes are not limited
