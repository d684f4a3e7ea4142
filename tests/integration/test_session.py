"""SPEC section 4 GET /account/session and POST /account/logout; section 3 session lifetimes."""

import time

import pytest

import natomm as ne
from natomm import expect_error, expect_json

VIDEO = "/videos/sample.mp4"


def test_logout_ends_session(server, new_client):
    acc = ne.create_account(server, client=new_client())
    c = acc.client
    name = list(c.cookies)[0]
    old_cookie = "%s=%s" % (name, c.cookies[name])
    assert c.get(VIDEO, headers={"Range": "bytes=0-0"}).status_code == 206

    # logout sends an empty body without Content-Type (SPEC section 4)
    r = c.request("POST", "/account/logout")
    assert expect_json(r, 200) == {"status": "logged_out"}
    cleared = [x for x in ne.set_cookies(r) if x[0] == name]
    assert cleared, "logout did not clear the cookie: %r" % ne.set_cookie_headers(r)
    _, value, attrs = cleared[0]
    assert value == "" or ne.cookie_is_deletion(value, attrs), attrs
    assert attrs.get("path") == "/", attrs

    # the old cookie, replayed, is refused everywhere (deleted server-side)
    other = new_client()
    r = other.get(VIDEO, cookie=old_cookie)
    assert r.status_code == 401, r.status_code
    assert r.json().get("error") == "not_authenticated"
    r = other.get(VIDEO, cookie=old_cookie, headers={"Accept": ne.BROWSER_ACCEPT})
    assert r.status_code == 302
    assert expect_json(other.session(cookie=old_cookie), 200) == {"authenticated": False}


def test_logout_cross_site_refused(server, new_client):
    acc = ne.create_account(server, client=new_client())
    r = acc.client.post("/account/logout", origin="http://evil.example")
    expect_error(r, 403, "forbidden_origin")
    assert expect_json(acc.client.session(), 200)["authenticated"] is True


def test_logout_without_session(client):
    r = client.post("/account/logout")
    assert r.status_code in (200, 401), r.status_code
    expect_json(r, r.status_code)


def test_logout_other_sessions_survive(server, new_client):
    acc = ne.create_account(server, client=new_client())
    c2 = new_client()
    assert expect_json(c2.login(acc.email), 200)["status"] == "logged_in"
    assert expect_json(acc.client.logout(), 200) == {"status": "logged_out"}
    assert expect_json(c2.session(), 200)["authenticated"] is True
    assert expect_json(acc.client.session(), 200) == {"authenticated": False}


# ---------------------------------------------------------------------------
# idle and absolute timeouts on a server with short lifetimes

@pytest.fixture(scope="module")
def short_session_server(module_server_factory):
    return module_server_factory("NatommSessionIdle 2s\nNatommSessionLifetime 5s\n",
                                 name="shortsess")


@pytest.mark.slow
def test_session_idle_timeout(short_session_server):
    acc = ne.create_account(short_session_server)
    c = short_session_server.client()
    assert expect_json(c.login(acc.email), 200)["status"] == "logged_in"
    assert expect_json(c.session(), 200)["authenticated"] is True
    time.sleep(3.2)
    assert expect_json(c.session(), 200) == {"authenticated": False}


@pytest.mark.slow
def test_session_absolute_lifetime(short_session_server):
    """Session times are whole seconds: a 5 s lifetime ends between 4 and 5 s
    after the login. Busy every 0.5 s (the 2 s idle timeout never fires), the
    session answers before t0 + 3.5 s and is gone after the login's end + 5 s."""
    acc = ne.create_account(short_session_server)
    c = short_session_server.client()
    t0 = time.time()
    assert expect_json(c.login(acc.email), 200)["status"] == "logged_in"
    t1 = time.time()
    checked = 0
    while True:
        time.sleep(0.5)
        sent = time.time()
        if sent - t0 >= 3.5:
            break
        assert expect_json(c.session(), 200)["authenticated"] is True, sent - t0
        checked += 1
    assert checked >= 5, checked
    while time.time() - t1 < 5.2:
        time.sleep(0.5)
        expect_json(c.session(), 200)
    assert expect_json(c.session(), 200) == {"authenticated": False}


def test_settings_follow_the_directives(server, server_factory, client):
    """GET /account/settings: what the pages show comes from the server."""
    body = expect_json(client.get("/account/settings"), 200)
    assert body["password_min"] == 12 and body["password_max"] == 128
    assert body["code_kind"] == "letters" and body["code_length"] == 8
    assert body["resend_interval"] == 60 and body["session_remember"] == 30 * 86400
    assert body["register_code_lifetime"] == 1800
    other = server_factory("NatommPasswordLength 14 64\nNatommCodeFormat digits 6\n"
                           "NatommResendInterval 2m\nNatommSessionRemember 7d\n")
    body = expect_json(other.client().get("/account/settings"), 200)
    assert (body["password_min"], body["password_max"]) == (14, 64)
    assert (body["code_kind"], body["code_length"]) == ("digits", 6)
    assert body["resend_interval"] == 120 and body["session_remember"] == 7 * 86400
    expect_error(client.post("/account/settings", data={}), 405, "method_not_allowed")
