"""SPEC section 3 throttles: the account lockout (after N failures, locked, doubling,
reset by a success), the per-IP limits (failed logins, registrations, reset
requests, code entries) and the resend limits for unknown addresses; section 4:
one answer (401 invalid_credentials) for unknown, wrong and locked.

Runs on its own server with small limits:
  NatommLockout 3 2s 4s
  NatommIPLimit login-failures 3/1m, registrations 2/1h, reset-requests 2/1h,
                code-entries 3/1m
"""

import time

import pytest

import natomm as ne
from natomm import GOOD_PASSWORD, OTHER_PASSWORD, expect_error, expect_json, unique_email

CONF = """
NatommLockout 3 2s 4s
NatommIPLimit login-failures 3/1m
NatommIPLimit registrations 2/1h
NatommIPLimit reset-requests 2/1h
NatommIPLimit code-entries 3/1m
"""
SENT = {"status": "code_sent"}


def assert_rate_limited(r, max_retry):
    body = expect_error(r, 429, "rate_limited")
    ra = r.headers.get("Retry-After", "")
    assert ra.isdigit() and 0 < int(ra) <= max_retry, r.headers
    assert not [x for x in ne.set_cookies(r) if x[1]]
    return body


def login_ok(r):
    assert expect_json(r, 200)["status"] == "logged_in"
    assert [x for x in ne.set_cookies(r) if x[1]], "no session cookie"


def fresh(server):
    """A client of its own address: the per-IP login limit (3/1m) stays out of the way."""
    return server.client()


def headers_of(r):
    return sorted(k.lower() for k in r.headers if k.lower() not in ("date",))


@pytest.fixture(scope="module")
def srv(module_server_factory):
    return module_server_factory(CONF, name="throttle")


@pytest.fixture(scope="module")
def accounts(srv):
    return ne.create_accounts(srv, 3)


# ---------------------------------------------------------------------------
# account lockout, per account and client address (SPEC section 3)

@pytest.fixture(scope="module")
def lock_srv(module_server_factory):
    """Lockout after 3 failures; the per-IP login limit out of the way."""
    return module_server_factory("NatommLockout 3 2s 4s\n"
                                 "NatommIPLimit login-failures 100/1m\n", name="lockout")


@pytest.fixture(scope="module")
def lock_accounts(lock_srv):
    return ne.create_accounts(lock_srv, 2)


@pytest.mark.slow
def test_lockout_one_answer_lifts_and_resets(lock_srv, lock_accounts):
    srv, acc = lock_srv, lock_accounts[0]
    atk = fresh(srv)
    r_unknown = fresh(srv).login(unique_email("nobody"), OTHER_PASSWORD)
    r_wrong = atk.login(acc.email, OTHER_PASSWORD)
    ref = expect_error(r_wrong, 401, "invalid_credentials")
    assert expect_error(r_unknown, 401, "invalid_credentials") == ref
    for _ in range(2):
        r_wrong = atk.login(acc.email, OTHER_PASSWORD)
        assert expect_error(r_wrong, 401, "invalid_credentials") == ref
    t_locked = time.time()
    aid = ne.account_id(srv, acc.email)
    ne.wait_event(srv, "login_failed", aid, atk.source_ip)
    ne.wait_event(srv, "lockout", aid, atk.source_ip)

    # locked for that client (3 failures): the right password gets the very
    # same answer, no cookie
    r_locked = atk.login(acc.email, GOOD_PASSWORD)
    assert expect_error(r_locked, 401, "invalid_credentials") == ref
    for r in (r_unknown, r_wrong, r_locked):
        assert r.status_code == 401
        assert r.content == r_wrong.content
        assert headers_of(r) == headers_of(r_wrong)
        assert not ne.set_cookies(r), ne.set_cookie_headers(r)
    # the owner, from another address, is not locked out
    login_ok(fresh(srv).login(acc.email, GOOD_PASSWORD))

    # the first lock lasts 2 s
    time.sleep(max(0.0, t_locked + 2.3 - time.time()))
    login_ok(atk.login(acc.email, GOOD_PASSWORD))

    # the success reset the count: two more failures do not lock
    for _ in range(2):
        expect_error(atk.login(acc.email, OTHER_PASSWORD), 401, "invalid_credentials")
    login_ok(atk.login(acc.email, GOOD_PASSWORD))


@pytest.mark.slow
def test_lockout_doubles(lock_srv, lock_accounts):
    srv, acc = lock_srv, lock_accounts[1]
    atk = fresh(srv)
    for _ in range(3):
        expect_error(atk.login(acc.email, OTHER_PASSWORD), 401, "invalid_credentials")
    # a 4th failure while locked: the lock doubles to 4 s (the longest)
    expect_error(atk.login(acc.email, OTHER_PASSWORD), 401, "invalid_credentials")
    t_locked = time.time()
    time.sleep(2.4)
    expect_error(atk.login(acc.email, GOOD_PASSWORD), 401, "invalid_credentials")
    time.sleep(max(0.0, t_locked + 4.3 - time.time()))
    login_ok(atk.login(acc.email, GOOD_PASSWORD))


# ---------------------------------------------------------------------------
# per-IP limits

def test_ip_login_failures(srv, accounts):
    acc = accounts[2]
    c = srv.client()
    for _ in range(3):
        expect_error(c.login(unique_email("nobody"), OTHER_PASSWORD), 401, "invalid_credentials")
    assert_rate_limited(c.login(unique_email("nobody"), OTHER_PASSWORD), 60)
    # the limit is checked before the password: even the right one waits
    assert_rate_limited(c.login(acc.email, GOOD_PASSWORD), 60)
    # another address is not limited
    login_ok(srv.client().login(acc.email, GOOD_PASSWORD))
    expect_error(srv.client().login(unique_email("nobody"), OTHER_PASSWORD),
                 401, "invalid_credentials")


def test_ip_registrations(srv):
    c = srv.client()
    for _ in range(2):
        _, r = c.register(unique_email("reg"))
        assert expect_json(r, 202)["status"] == "code_sent"
    addr = unique_email("reg")
    _, r = c.register(addr)
    assert_rate_limited(r, 3600)
    _, r = srv.client().register(unique_email("reg"))
    assert expect_json(r, 202)["status"] == "code_sent"
    assert not srv.db_rows("SELECT id FROM natomm_account WHERE email_norm = ?", (addr,)), \
        "a rate-limited registration was stored"


def test_ip_reset_requests(srv, accounts):
    c = srv.client()
    for _ in range(2):
        assert expect_json(c.post("/account/password/forgot",
                                  {"email": unique_email("fg")}), 202) == SENT
    acc = accounts[2]
    seen = srv.mail_names(acc.email)
    assert_rate_limited(c.post("/account/password/forgot", {"email": acc.email}), 3600)
    other = srv.client()
    assert expect_json(other.post("/account/password/forgot", {"email": unique_email("fg")}),
                       202) == SENT
    time.sleep(1.3)
    assert srv.mail_names(acc.email) == seen, "a rate-limited reset request sent a code"


def test_ip_code_entries(srv):
    c = srv.client()
    addr = unique_email("ce")
    # /account/verify and /account/password/verify share the limit
    expect_error(c.verify(addr, "BCDF-GHJK"), 400, "invalid_code")
    expect_error(c.post("/account/password/verify", {"email": addr, "code": "BCDF-GHJK"}),
                 400, "invalid_code")
    expect_error(c.verify(addr, "BCDF-GHJK"), 400, "invalid_code")
    assert_rate_limited(c.verify(addr, "BCDF-GHJK"), 60)
    assert_rate_limited(c.post("/account/password/verify", {"email": addr, "code": "BCDF-GHJK"}),
                        60)
    expect_error(srv.client().verify(addr, "BCDF-GHJK"), 400, "invalid_code")


# ---------------------------------------------------------------------------
# resend limits (default: once per 60 s per address and purpose) hold for
# unknown addresses exactly as for known ones

def resend(client, addr, purpose):
    return client.post("/account/resend", {"email": addr, "purpose": purpose})


def test_resend_limits_unknown_like_known(srv, accounts):
    # the budget is per address, purpose and requesting client (SPEC section 3)
    known = accounts[2].email          # verified: purpose reset mails a code
    unknown = unique_email("nobody")
    ck, cu = srv.client(), srv.client()
    r_known = resend(ck, known, "reset")
    r_unknown = resend(cu, unknown, "reset")
    assert expect_json(r_known, 202) == expect_json(r_unknown, 202) == SENT
    assert r_known.content == r_unknown.content

    k = assert_rate_limited(resend(ck, known, "reset"), 60)
    u = assert_rate_limited(resend(cu, unknown, "reset"), 60)
    assert set(k) == set(u) and k["error"] == u["error"] == "rate_limited"
    assert k["message"] == u["message"]

    # purpose register: a pending registration and an unknown address
    pending = unique_email("pend")
    _, r = srv.client().register(pending)
    assert expect_json(r, 202)["status"] == "code_sent"
    unknown2 = unique_email("nobody")
    cp, cu2 = srv.client(), srv.client()
    assert expect_json(resend(cp, pending, "register"), 202) == SENT
    assert expect_json(resend(cu2, unknown2, "register"), 202) == SENT
    k = assert_rate_limited(resend(cp, pending, "register"), 60)
    u = assert_rate_limited(resend(cu2, unknown2, "register"), 60)
    assert set(k) == set(u)
    assert srv.count_mail(unknown) == 0 and srv.count_mail(unknown2) == 0
