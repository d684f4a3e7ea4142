"""SPEC section 4: POST /account/password/change (current_password, password).

200 {"status":"password_updated"}; the other sessions of the account end, the
one making the change stays. Runs on a server whose gate trusts its cache for
1 s only, so revocation can be checked through the gate too."""

import time

import pytest

import natomm as ne
from natomm import GOOD_PASSWORD, OTHER_PASSWORD, expect_error, expect_json

VIDEO = "/videos/sample.mp4"
CHANGE = "/account/password/change"
THIRD_PASSWORD = "Zr5&yP9*kD2!wF"
WEAK = "qzvxkjwtrplmnb"


def change(client, current, new, **kw):
    return client.post(CHANGE, {"current_password": current, "password": new}, **kw)


def gate_status(client, cookie=None):
    kw = {"cookie": cookie} if cookie else {}
    return client.get(VIDEO, headers={"Range": "bytes=0-0"}, **kw).status_code


@pytest.fixture(scope="module")
def srv(module_server_factory):
    return module_server_factory("NatommSessionCacheTTL 1s\n", name="pwchange")


@pytest.fixture(scope="module")
def accounts(srv):
    return ne.create_accounts(srv, 3)


def test_change_needs_session(srv):
    c = srv.client()
    expect_error(change(c, GOOD_PASSWORD, OTHER_PASSWORD), 401, "not_authenticated")
    # a made-up cookie is no session either
    r = change(c, GOOD_PASSWORD, OTHER_PASSWORD, cookie="natomm_session=" + "Q" * 43)
    expect_error(r, 401, "not_authenticated")


def test_change_refusals_keep_password(srv, accounts):
    acc = accounts[0]
    c = acc.client
    # wrong current password: the generic 401, session kept
    r = change(c, OTHER_PASSWORD, THIRD_PASSWORD)
    expect_error(r, 401, "invalid_credentials")
    assert not [x for x in ne.set_cookies(r) if x[0].endswith("natomm_session")]
    # weak new password: every unmet rule at once
    body = expect_error(change(c, GOOD_PASSWORD, WEAK), 400, "weak_password")
    assert {"upper", "digit", "symbol"} <= set(body["failed"]), body
    body = expect_error(change(c, GOOD_PASSWORD, "Ab1!"), 400, "weak_password")
    assert "length" in body["failed"], body
    # missing fields
    expect_error(c.post(CHANGE, {"password": THIRD_PASSWORD}), 400, "invalid_request")
    expect_error(c.post(CHANGE, {"current_password": GOOD_PASSWORD}), 400, "invalid_request")
    # cross-site
    expect_error(change(c, GOOD_PASSWORD, THIRD_PASSWORD, origin="http://evil.example"),
                 403, "forbidden_origin")
    assert expect_json(c.session(), 200)["authenticated"] is True
    # nothing changed
    r = srv.client().login(acc.email, GOOD_PASSWORD)
    assert expect_json(r, 200)["status"] == "logged_in"


@pytest.mark.slow
def test_change_ends_other_sessions_keeps_current(srv, accounts):
    acc = accounts[1]
    a = acc.client                                   # makes the change
    b = srv.client()                                 # another browser
    assert expect_json(b.login(acc.email), 200)["status"] == "logged_in"
    cookie_a, cookie_b = a.cookie_header(), b.cookie_header()
    assert gate_status(a) == 206 and gate_status(b) == 206   # both cached by the gate

    seen = srv.mail_names(acc.email)
    r = change(a, GOOD_PASSWORD, OTHER_PASSWORD)
    assert expect_json(r, 200) == {"status": "password_updated"}
    assert not [x for x in ne.set_cookies(r) if x[1]], ne.set_cookie_headers(r)

    other = srv.client()
    s = expect_json(other.session(cookie=cookie_a), 200)
    assert s["authenticated"] is True and s["email"] == acc.email
    assert expect_json(other.session(cookie=cookie_b), 200) == {"authenticated": False}
    time.sleep(1.2)                                  # NatommSessionCacheTTL 1s
    assert gate_status(other, cookie_a) == 206
    assert gate_status(other, cookie_b) == 401

    msg = srv.wait_for_mail(acc.email, since=seen)
    assert "password was changed" in str(msg["Subject"]), msg["Subject"]
    assert ne.extract_code(msg) is None

    expect_error(srv.client().login(acc.email, GOOD_PASSWORD), 401, "invalid_credentials")
    assert expect_json(srv.client().login(acc.email, OTHER_PASSWORD), 200)["status"] == "logged_in"

    # the new password is now the current one
    expect_error(change(a, GOOD_PASSWORD, THIRD_PASSWORD), 401, "invalid_credentials")
    assert expect_json(change(a, OTHER_PASSWORD, THIRD_PASSWORD), 200) == \
        {"status": "password_updated"}
    assert expect_json(a.session(), 200)["authenticated"] is True

    aid = ne.account_id(srv, acc.email)
    ne.wait_event(srv, "password_change", aid, a.source_ip)
    # only the current session remains in the database
    assert srv.db_rows("SELECT COUNT(*) FROM natomm_session WHERE account_id = ?",
                   (int(aid),))[0][0] == 1
