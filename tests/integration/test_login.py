"""SPEC section 4 POST /account/login; section 3 throttles; section 8 cookies and return."""

import email.utils
import time

import pytest

import natomm as ne
from natomm import GOOD_PASSWORD, OTHER_PASSWORD, expect_error, expect_json, unique_email
from natomm import assert_session_cookie


def logged_in(r, ret="/"):
    assert expect_json(r, 200) == {"status": "logged_in", "return": ret}
    return assert_session_cookie(r)


def test_login_ok_new_cookie(account, new_client):
    old_name = list(account.client.cookies)[0]
    old = account.client.cookies[old_name]
    c = new_client()
    name, value, _ = logged_in(c.login(account.email))
    assert name == old_name
    assert value != old
    s = expect_json(c.session(), 200)
    assert s["authenticated"] is True and s["email"] == account.email
    # a second login gets yet another token, and both sessions are valid
    c2 = new_client()
    _, value2, _ = logged_in(c2.login(account.email))
    assert value2 not in (value, old)
    assert expect_json(c.session(), 200)["authenticated"] is True


def test_planted_cookie_not_adopted(account, new_client):
    name = list(account.client.cookies)[0]
    planted = "P" * 43
    c = new_client()
    c.cookies[name] = planted
    _, value, _ = logged_in(c.login(account.email))
    assert value != planted
    r = new_client().session(cookie="%s=%s" % (name, planted))
    assert expect_json(r, 200) == {"authenticated": False}


def test_login_address_case_insensitive(account, new_client):
    logged_in(new_client().login(account.email.upper()))


@pytest.mark.parametrize("ret", [
    "/videos/sample.mp4?x=1",
    "/",
    "/news/item.html?id=3&lang=fr",
    "/account/session",
])
def test_login_return_local_path_echoed(account, new_client, ret):
    logged_in(new_client().login(account.email, **{"return": ret}), ret)


@pytest.mark.parametrize("ret", [
    "https://evil.example",
    "http://evil.example/videos/",
    "//evil.example",
    "//evil.example/videos/sample.mp4",
    "/\\evil.example",
    "\\\\evil.example",
    "/%2F%2Fevil.example",
    "/%5Cevil.example",
    "%2F%2Fevil.example",
    "javascript:alert(1)",
    "evil.example/path",
    "http:evil.example",
    "///evil.example",
])
def test_login_return_offsite_becomes_root(account, new_client, ret):
    logged_in(new_client().login(account.email, **{"return": ret}), "/")


@pytest.mark.parametrize("ret", ["/x\r\nSet-Cookie: a=b", "/x\nLocation: //evil"])
def test_login_return_crlf_never_echoed(account, new_client, ret):
    r = new_client().login(account.email, **{"return": ret})
    if r.status_code == 400:
        expect_error(r, 400, "invalid_request")
    else:
        logged_in(r, "/")


def test_wrong_password_and_unknown_address_identical(account, new_client):
    r_wrong = new_client().login(account.email, OTHER_PASSWORD)
    r_unknown = new_client().login(unique_email(), OTHER_PASSWORD)
    b_wrong = expect_error(r_wrong, 401, "invalid_credentials")
    b_unknown = expect_error(r_unknown, 401, "invalid_credentials")
    assert b_wrong == b_unknown
    assert r_wrong.content == r_unknown.content
    hdr = lambda r: sorted(k.lower() for k in r.headers if k.lower() != "date")
    assert hdr(r_wrong) == hdr(r_unknown)
    assert not ne.set_cookies(r_wrong) and not ne.set_cookies(r_unknown)


@pytest.mark.parametrize("raw", ["email=j-x@example.org", "password=Kx7%23mQ2%21vR9%40pL", ""])
def test_login_missing_fields(client, raw):
    r = client.post("/account/login", raw, content_type="application/x-www-form-urlencoded")
    expect_error(r, 400, "invalid_request")


def test_remember_me_cookie_lasts_30_days(account, new_client):
    r = new_client().login(account.email, remember="1")
    name, value, attrs = logged_in(r)
    day = 86400
    if "max-age" in attrs:
        assert 29 * day <= int(attrs["max-age"]) <= 31 * day, attrs
    else:
        assert "expires" in attrs, "remember=1 gave a session cookie: %r" % attrs
        exp = email.utils.parsedate_to_datetime(attrs["expires"]).timestamp()
        assert 29 * day <= exp - time.time() <= 31 * day, attrs


def test_account_lockout_one_answer(server, new_client):
    acc = ne.create_account(server, client=new_client())
    c = new_client()
    wrong = expect_error(c.login(acc.email, OTHER_PASSWORD), 401, "invalid_credentials")
    for _ in range(4):
        expect_error(c.login(acc.email, OTHER_PASSWORD), 401, "invalid_credentials")
    # locked now for that client address (SPEC section 3: per account and
    # client): even the right password gets the same answer, and no cookie
    r = c.login(acc.email, GOOD_PASSWORD)
    assert expect_error(r, 401, "invalid_credentials") == wrong
    assert not ne.set_cookies(r)
    # another client's failures never lock the owner out of their own address
    expect_json(new_client().login(acc.email, GOOD_PASSWORD), 200)


def test_failed_logins_per_ip_throttled(server, client):
    # SPEC section 3: failed logins 10/min per IP
    for i in range(10):
        expect_error(client.login(unique_email(), OTHER_PASSWORD), 401, "invalid_credentials")
    r = client.login(unique_email(), OTHER_PASSWORD)
    expect_error(r, 429, "rate_limited")
    assert r.headers.get("Retry-After", "").isdigit(), r.headers


# ---------------------------------------------------------------------------
# unverified accounts (on the fast server: resend interval 2 s)

def test_unverified_right_password_needs_verification(fast_server):
    srv = fast_server
    c = srv.client()
    t0 = time.time()
    addr, code1, _ = ne.register_and_get_code(c, srv)
    time.sleep(max(0, t0 + 3.1 - time.time()))

    # wrong password: the generic answer, not a hint about verification
    expect_error(c.login(addr, OTHER_PASSWORD), 401, "invalid_credentials")

    seen = srv.mail_names(addr)
    r = c.login(addr, GOOD_PASSWORD)
    expect_error(r, 403, "verification_required")
    assert r.json()["code_sent"] is True
    assert not [x for x in ne.set_cookies(r) if x[1]], "unverified login got a session"
    # inside the resend interval no new code goes out, and the answer says so
    again = c.login(addr, GOOD_PASSWORD)
    expect_error(again, 403, "verification_required")
    assert again.json()["code_sent"] is False
    msg = srv.wait_for_mail(addr, since=seen)
    code2 = ne.extract_code(msg)
    assert code2, ne.mail_text(msg)
    r = c.verify(addr, code2)
    assert expect_json(r, 200) == {"status": "verified"}
    logged_in(srv.client().login(addr, GOOD_PASSWORD))
