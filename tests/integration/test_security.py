"""SPEC section 8 (security behaviour) and the parts of sections 3 and 4 it leans on:
equalised login failures (answer and timing), origin checks on every POST,
return-URL validation, session cookies (attributes, fixation, new token per
login), idle and absolute session lifetimes through the gate, account-event
logging, and CR/LF or control characters in input."""

import random
import re
import statistics
import string
import time

import pytest

import natomm as ne
from natomm import GOOD_PASSWORD, OTHER_PASSWORD, expect_error, expect_json, unique_email

VIDEO = "/videos/sample.mp4"
COOKIE = "natomm_session"
B64URL = string.ascii_letters + string.digits + "-_"

# failed logins from one address are not limited here (timing and return-URL
# samples), everything else keeps its SPEC default
SEC_CONF = "NatommIPLimit login-failures 1000/1m\n"
SESS_CONF = "NatommSessionIdle 2s\nNatommSessionLifetime 5s\nNatommSessionCacheTTL 1s\n"


# ---------------------------------------------------------------------------
# local helpers

def random_token():
    t = "".join(random.choice(B64URL) for _ in range(43))
    ne.remember_secret(t)
    return t


def session_cookies(r):
    return [c for c in ne.set_cookies(r) if c[0] == COOKIE and c[1]]


def gate_status(client, cookie):
    return client.get(VIDEO, cookie=cookie, headers={"Range": "bytes=0-0"}).status_code


@pytest.fixture(scope="module")
def sec(module_server_factory):
    return module_server_factory(SEC_CONF, name="security")


@pytest.fixture(scope="module")
def sec_accounts(sec):
    return ne.create_accounts(sec, 4)


@pytest.fixture(scope="module")
def sess(module_server_factory):
    return module_server_factory(SESS_CONF, name="sesslife")


# ---------------------------------------------------------------------------
# equalised login failures: timing (the answers are compared in test_login.py
# and, with a locked account, in test_throttle.py)

@pytest.mark.slow
def test_login_failure_timing_equalised(sec, sec_accounts):
    c = sec.client()
    n = 15

    def timed(addr):
        t = time.perf_counter()
        r = c.login(addr, OTHER_PASSWORD)
        dt = time.perf_counter() - t
        expect_error(r, 401, "invalid_credentials")
        return dt

    for i in range(2):                                   # warm up connection and hashing
        timed(unique_email("warm"))
    unknown, wrong = [], []
    for i in range(n):
        # at most 4 failures per account (lockout after 5): none locks
        acc = sec_accounts[i % len(sec_accounts)]
        if i % 2:
            unknown.append(timed(unique_email("nobody")))
            wrong.append(timed(acc.email))
        else:
            wrong.append(timed(acc.email))
            unknown.append(timed(unique_email("nobody")))
    mu, mw = statistics.median(unknown), statistics.median(wrong)
    ratio = mu / mw
    assert 0.5 <= ratio <= 2.0, ("unknown-address logins take %.1f ms, wrong-password "
                                 "logins %.1f ms (ratio %.2f): not equalised"
                                 % (mu * 1000, mw * 1000, ratio))
    # and both really hash (argon2id, m=19456 KiB, t=2): not a fast path
    assert mu > 0.005 and mw > 0.005, (mu, mw)
    for acc in sec_accounts:
        assert sec.db_rows("SELECT locked_until FROM natomm_account WHERE email_norm = ?",
                       (acc.email.lower(),))[0][0] == 0


# ---------------------------------------------------------------------------
# origin checks on every POST (SPEC section 8)

def post_bodies(acc):
    return [
        ("/account/register", {"email": unique_email("xo"), "password": GOOD_PASSWORD}),
        ("/account/verify", {"email": acc.email, "code": "BCDF-GHJK"}),
        ("/account/resend", {"email": acc.email, "purpose": "register"}),
        ("/account/login", {"email": acc.email, "password": GOOD_PASSWORD}),
        ("/account/logout", None),
        ("/account/password/forgot", {"email": acc.email}),
        ("/account/password/verify", {"email": acc.email, "code": "BCDF-GHJK"}),
        ("/account/password/reset", {"reset_token": "A" * 43, "password": OTHER_PASSWORD}),
        ("/account/password/change", {"current_password": GOOD_PASSWORD,
                                      "password": OTHER_PASSWORD}),
        ("/account/newsletter", {"subscribe": "1"}),
        ("/account/delete", {"password": GOOD_PASSWORD}),
    ]


CROSS_SITE = [
    pytest.param({"Origin": "http://evil.example"}, id="origin-evil"),
    pytest.param({"Origin": "null"}, id="origin-null"),
    pytest.param({"Origin": None, "Referer": "http://evil.example/x"}, id="referer-evil"),
    pytest.param({"Sec-Fetch-Site": "cross-site"}, id="sec-fetch-cross-site"),
    pytest.param({"Origin": None, "Sec-Fetch-Site": "cross-site"}, id="sec-fetch-only"),
]


@pytest.mark.parametrize("hdrs", CROSS_SITE)
def test_every_post_refuses_cross_site(sec, sec_accounts, hdrs):
    acc = sec_accounts[0]
    c = acc.client
    seen = sec.mail_names(acc.email)
    for path, data in post_bodies(acc):
        headers = dict(hdrs)
        kw = {}
        if "Origin" in headers:
            origin = headers.pop("Origin")
            kw["origin"] = origin if origin is not None else False
        r = c.post(path, data, headers=headers, **kw)
        body = expect_error(r, 403, "forbidden_origin")
        assert body["message"], path
        assert not ne.set_cookies(r), (path, ne.set_cookie_headers(r))
    # nothing happened: still logged in, same password, no mail, no new account
    s = expect_json(c.session(), 200)
    assert s["authenticated"] is True and s["newsletter"] is False, s
    assert expect_json(sec.client().login(acc.email, GOOD_PASSWORD), 200)["status"] == "logged_in"
    time.sleep(0.1)
    assert sec.mail_names(acc.email) == seen


def lookalikes(server):
    p = server.port
    return [
        "http://127.0.0.1:%d.evil.example" % p,
        "http://127.0.0.1:%d@evil.example" % p,
        "http://127.0.0.1:%d" % (p + 1 if p < 65535 else p - 1),
        "https://127.0.0.1:%d" % p,
        "http://127.0.0.1",
        "http://127.0.0.1:%d/" % p,        # an Origin has no path
        "http://localhost:%d" % p,
    ]


def test_lookalike_origins_refused(sec):
    c = sec.client()
    for origin in lookalikes(sec):
        r = c.post("/account/login", {"email": unique_email(), "password": OTHER_PASSWORD},
                   origin=origin)
        expect_error(r, 403, "forbidden_origin")
    for referer in ("http://127.0.0.1:%d.evil.example/login.html" % sec.port,
                    "http://evil.example/http://127.0.0.1:%d/" % sec.port,
                    "https://127.0.0.1:%d/login.html" % sec.port):
        r = c.post("/account/login", {"email": unique_email(), "password": OTHER_PASSWORD},
                   origin=False, headers={"Referer": referer})
        expect_error(r, 403, "forbidden_origin")


@pytest.mark.parametrize("kind", ["origin", "referer", "none", "sec-fetch-same-origin",
                                  "sec-fetch-none"])
def test_same_site_and_scripts_allowed(sec, sec_accounts, kind):
    acc = sec_accounts[1]
    c = sec.client()
    kw = {"origin": False}
    if kind == "origin":
        kw = {"origin": sec.url}
    elif kind == "referer":
        kw["headers"] = {"Referer": sec.url + "/login.html?x=1"}
    elif kind == "sec-fetch-same-origin":
        kw = {"origin": sec.url, "headers": {"Sec-Fetch-Site": "same-origin"}}
    elif kind == "sec-fetch-none":
        kw["headers"] = {"Sec-Fetch-Site": "none"}
    r = c.post("/account/login", {"email": acc.email, "password": GOOD_PASSWORD}, **kw)
    assert expect_json(r, 200)["status"] == "logged_in"
    r = c.post("/account/logout", **kw)
    assert expect_json(r, 200) == {"status": "logged_out"}


# ---------------------------------------------------------------------------
# return URLs (SPEC section 8): local paths only

OPEN_REDIRECTS = [
    "https://evil.example",
    "http://evil.example/videos/sample.mp4",
    "//evil.example",
    "///evil.example",
    "////evil.example/",
    "/\\evil.example",
    "\\/evil.example",
    "\\\\evil.example",
    "/%2f%2fevil.example",
    "/%2F%2Fevil.example",
    "%2f%2fevil",
    "/%5cevil",
    "/%5Cevil.example",
    "/%252f%252fevil.example",           # double-encoded
    "/%25252f%25252fevil.example",       # triple-encoded
    "/%2f%5cevil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "http:evil.example",
    "http:/evil.example",
    "evil.example/path",
    " /x",
    " //evil.example",
    "/%09/evil.example",
    "/%0d%0aSet-Cookie:%20x=y",
    "/%0aevil",
    "\uff0f\uff0fevil.example",          # fullwidth solidus
    "/\u3002evil",
    "",
]

# raw control characters: the request itself may be refused as invalid_request
CONTROL_REDIRECTS = [
    "/\t/evil.example",
    "/x\r\nSet-Cookie: a=b",
    "/x\nLocation: //evil.example",
    "\r//evil.example",
    "/\x00//evil.example",
]

LOCAL_PATHS = [
    "/videos/sample.mp4?x=1",
    "/",
    "/news/item.html?id=3&lang=fr",
    "/vid%C3%A9os/clip.mp4",
    "/search?q=a%20b",
    "/videos/sample.mp4#t=10",
]


@pytest.fixture(scope="module")
def return_client(sec, sec_accounts):
    return sec.client()


@pytest.mark.parametrize("ret", OPEN_REDIRECTS)
def test_return_offsite_becomes_root(sec_accounts, return_client, ret):
    r = return_client.login(sec_accounts[2].email, **{"return": ret})
    assert expect_json(r, 200) == {"status": "logged_in", "return": "/"}, ret


@pytest.mark.parametrize("ret", CONTROL_REDIRECTS)
def test_return_control_chars_never_echoed(sec_accounts, return_client, ret):
    r = return_client.login(sec_accounts[2].email, **{"return": ret})
    if r.status_code == 400:
        expect_error(r, 400, "invalid_request")
        assert not session_cookies(r)
    else:
        assert expect_json(r, 200) == {"status": "logged_in", "return": "/"}, ret


@pytest.mark.parametrize("ret", LOCAL_PATHS)
def test_return_local_path_echoed(sec_accounts, return_client, ret):
    r = return_client.login(sec_accounts[2].email, **{"return": ret})
    assert expect_json(r, 200) == {"status": "logged_in", "return": ret}


# ---------------------------------------------------------------------------
# session cookies (SPEC section 8)

def test_cookie_attributes_plain_http(sec, sec_accounts):
    acc = sec_accounts[3]
    r = sec.client().login(acc.email)
    assert expect_json(r, 200)["status"] == "logged_in"
    headers = ne.set_cookie_headers(r)
    assert len(headers) == 1, headers
    name, value, attrs = ne.parse_set_cookie(headers[0])
    assert name == COOKIE, headers
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", value), value
    assert attrs.get("httponly") is True, headers
    assert attrs.get("samesite") == "Lax", headers
    assert attrs.get("path") == "/", headers
    assert "secure" not in attrs, "Secure over plain HTTP: %r" % headers
    assert "domain" not in attrs, headers
    # without "remember me": a browser-session cookie
    assert "max-age" not in attrs and "expires" not in attrs, headers

    r = sec.client().login(acc.email, remember="1")
    name, value, attrs = ne.parse_set_cookie(ne.set_cookie_headers(r)[0])
    assert name == COOKIE and attrs.get("httponly") is True and attrs.get("samesite") == "Lax"
    assert abs(int(attrs["max-age"]) - 30 * 86400) <= 86400, attrs


def test_planted_cookie_never_adopted(sec, sec_accounts):
    acc = sec_accounts[3]
    planted = random_token()
    c = sec.client()
    c.cookies[COOKIE] = planted
    # the planted value gives no access before login
    assert expect_json(c.session(), 200) == {"authenticated": False}
    r = c.login(acc.email)
    assert expect_json(r, 200)["status"] == "logged_in"
    issued = session_cookies(r)
    assert len(issued) == 1 and issued[0][1] != planted, ne.set_cookie_headers(r)
    # the planted value stays worthless, the issued one works
    other = sec.client()
    assert expect_json(other.session(cookie="%s=%s" % (COOKIE, planted)), 200) == \
        {"authenticated": False}
    assert gate_status(other, "%s=%s" % (COOKIE, planted)) == 401
    assert gate_status(other, "%s=%s" % (COOKIE, issued[0][1])) == 206
    # the same with verify: a planted cookie is not adopted at registration either
    c2 = sec.client()
    planted2 = random_token()
    addr, code, _ = ne.register_and_get_code(c2, sec)
    c2.cookies[COOKIE] = planted2
    r = c2.verify(addr, code)
    issued2 = session_cookies(r)
    assert len(issued2) == 1 and issued2[0][1] != planted2
    assert expect_json(other.session(cookie="%s=%s" % (COOKIE, planted2)), 200) == \
        {"authenticated": False}


def test_new_token_at_every_login(sec, sec_accounts):
    acc = sec_accounts[3]
    c = sec.client()
    tokens = []
    for _ in range(3):
        r = c.login(acc.email)
        assert expect_json(r, 200)["status"] == "logged_in"
        issued = session_cookies(r)
        assert len(issued) == 1
        tokens.append(issued[0][1])
    assert len(set(tokens)) == 3, "a login reused a token"
    assert all(t not in acc.client.cookies.values() for t in tokens)


# ---------------------------------------------------------------------------
# idle and absolute lifetimes (NatommSessionIdle 2s, NatommSessionLifetime 5s),
# through the gate (cache TTL 1 s) and the session endpoint

@pytest.mark.slow
def test_session_idle_and_absolute_lifetime(sess):
    acc = ne.create_accounts(sess, 1, prefix="life")[0]
    busy, idle = sess.client(), sess.client()
    t0 = time.time()
    assert expect_json(busy.login(acc.email), 200)["status"] == "logged_in"
    assert expect_json(idle.login(acc.email), 200)["status"] == "logged_in"
    t1 = time.time()
    busy_cookie, idle_cookie = busy.cookie_header(), idle.cookie_header()
    probe = sess.client()
    assert gate_status(probe, busy_cookie) == 206
    assert gate_status(probe, idle_cookie) == 206

    def keep_busy(until):
        """A session request every 0.7 s (each one refreshes last_seen) until `until`."""
        while True:
            left = until - time.time()
            if left <= 0:
                return
            time.sleep(min(0.7, left))
            s = expect_json(busy.session(), 200)
            assert s["authenticated"] is True, "active session ended at %.1f s" % (time.time() - t0)

    # Times are kept in whole seconds: a session made at t0 lives until
    # floor(t0) + 5, so "still valid" is checked before t0 + 4 and "refused"
    # after t1 + 5 (t1: after the login answer).
    keep_busy(t1 + 3.2)
    # idle for more than 2 s: refused, by the session endpoint and by the gate
    assert expect_json(probe.session(cookie=idle_cookie), 200) == {"authenticated": False}
    assert gate_status(probe, idle_cookie) == 401
    keep_busy(t0 + 3.8)
    # active: still valid at 4 s
    assert gate_status(probe, busy_cookie) == 206
    assert expect_json(probe.session(cookie=busy_cookie), 200)["authenticated"] is True
    assert time.time() < t0 + 4.0, "the checks of the active session came too late"
    # past the absolute lifetime of 5 s, however active
    while time.time() < t1 + 5.2:
        time.sleep(min(0.5, max(0.0, t1 + 5.2 - time.time())))
        busy.session()
    assert expect_json(probe.session(cookie=busy_cookie), 200) == {"authenticated": False}
    assert gate_status(probe, busy_cookie) == 401


# ---------------------------------------------------------------------------
# logging (SPEC section 8) and control characters in input (SPEC section 4)

def test_account_events_logged(sec):
    c = sec.client()
    addr, code, _ = ne.register_and_get_code(c, sec)
    aid = ne.account_id(sec, addr)
    ne.wait_event(sec, "register", aid, c.source_ip)
    assert expect_json(c.verify(addr, code), 200) == {"status": "verified"}
    ne.wait_event(sec, "verify", aid, c.source_ip)
    d = sec.client()
    expect_error(d.login(addr, OTHER_PASSWORD), 401, "invalid_credentials")
    ne.wait_event(sec, "login_failed", aid, d.source_ip)
    expect_error(d.login(unique_email("nobody"), OTHER_PASSWORD), 401, "invalid_credentials")
    ne.wait_event(sec, "login_failed", "-", d.source_ip)
    assert expect_json(d.login(addr), 200)["status"] == "logged_in"
    ne.wait_event(sec, "login", aid, d.source_ip)
    assert expect_json(d.logout(), 200) == {"status": "logged_out"}
    ne.wait_event(sec, "logout", aid, d.source_ip)

    # every event line has the one format, with nothing else in it
    lines = [l for l in sec.read_error_log().splitlines() if "NATOMM: event=" in l]
    assert lines
    for line in lines:
        assert re.search(r"NATOMM: event=[a-z_]+ account=(\d+|-) ip=[0-9a-f.:]+(, referer: .*)?$", line), line
    leaks = ne.find_leaks(sec.read_error_log())
    assert not leaks, "secrets in the error log: %r" % leaks


@pytest.mark.parametrize("addr", [
    "j-crlf-7c1e@example.org\r\nBcc: victim@example.org",
    "j-lf-7c1e@example.org\nX: y",
], ids=["crlf", "lf"])
def test_register_address_with_crlf_invalid_email(sec, addr):
    c = sec.client()
    _, r = c.register(addr)
    expect_error(r, 400, "invalid_email")
    time.sleep(0.1)
    assert not sec.db_rows("SELECT id FROM natomm_account WHERE email LIKE ?",
                       (addr.split("@")[0].split("\r")[0].split("\n")[0] + "%",))


@pytest.mark.parametrize("name", ["Jo\x01hn", "Jo\x1bhn", "Jo\x7fhn", "John\r\nSmith", "Jo\x00hn"],
                         ids=["soh", "esc", "del", "crlf", "nul"])
def test_register_name_with_control_char(sec, name):
    c = sec.client()
    addr = unique_email("ctl")
    _, r = c.register(addr, name=name)
    expect_error(r, 400, "invalid_request")
    assert not sec.db_rows("SELECT id FROM natomm_account WHERE email_norm = ?", (addr,))
