"""SPEC section 4 POST /account/resend and section 3 resend limits.

Runs on the "fast" server (NatommResendInterval 2s, NatommResendPerHour 3)."""

import time

import pytest

import natomm as ne
from natomm import expect_error, expect_json, unique_email

INTERVAL = 2.0
# the module counts in whole seconds: wait a full second more than the interval
WAIT = INTERVAL + 1.1
SENT = {"status": "code_sent"}


def resend(client, addr, purpose="register"):
    return client.post("/account/resend", {"email": addr, "purpose": purpose})


def assert_rate_limited(r, max_retry=None):
    body = expect_error(r, 429, "rate_limited")
    ra = r.headers.get("Retry-After", "")
    assert ra.isdigit() and int(ra) >= 1, r.headers
    if max_retry is not None:
        assert int(ra) <= max_retry, ra
    return body


@pytest.mark.slow
def test_resend_supersedes_and_is_rate_limited(fast_server):
    srv = fast_server
    c = srv.client()
    t0 = time.time()
    addr, code1, _ = ne.register_and_get_code(c, srv)
    time.sleep(max(0, t0 + WAIT - time.time()))

    seen = srv.mail_names(addr)
    assert expect_json(resend(c, addr), 202) == SENT
    msg2 = srv.wait_for_mail(addr, since=seen)
    code2 = ne.extract_code(msg2)
    assert code2 and code2 != code1

    # within the interval: 429 + Retry-After, and no mail
    t_limited = time.time()
    n_before = srv.count_mail(addr)
    assert_rate_limited(resend(c, addr), max_retry=int(INTERVAL) + 1)

    # the newest code supersedes the older one
    expect_error(c.verify(addr, code1), 400, "invalid_code")
    r = c.verify(addr, code2)
    assert expect_json(r, 200) == {"status": "verified"}

    time.sleep(max(0, t_limited + 1.8 - time.time()))
    assert srv.count_mail(addr) == n_before, "a rate-limited resend still sent mail"


@pytest.mark.slow
def test_resend_unknown_address_same_answers(fast_server):
    srv = fast_server
    c = srv.client()
    known, _, _ = ne.register_and_get_code(c, srv)
    unknown = unique_email()
    time.sleep(WAIT)

    r_known = resend(c, known)
    r_unknown = resend(c, unknown)
    assert expect_json(r_known, 202) == expect_json(r_unknown, 202) == SENT

    k = assert_rate_limited(resend(c, known))
    u = assert_rate_limited(resend(c, unknown))
    assert set(k) == set(u) and k["error"] == u["error"]
    time.sleep(1.5)
    assert srv.count_mail(unknown) == 0


def test_resend_verified_address_same_answer(fast_server):
    srv = fast_server
    acc = ne.create_account(srv)
    c = srv.client()
    time.sleep(WAIT)
    seen = srv.mail_names(acc.email)
    r_known = resend(c, acc.email)
    r_unknown = resend(c, unique_email())
    assert expect_json(r_known, 202) == expect_json(r_unknown, 202) == SENT
    time.sleep(1.5)
    # an already verified account gets no new registration code
    for m in srv.mailbox.messages(acc.email):
        if m.natomm_name not in seen:
            assert ne.extract_code(m) is None, ne.mail_text(m)


@pytest.mark.slow
def test_resend_hourly_budget(fast_server):
    # NatommResendPerHour 3: three resends spaced by the interval pass, the fourth is refused
    c = fast_server.client()
    addr = unique_email()
    for i in range(3):
        if i:
            time.sleep(WAIT)
        assert expect_json(resend(c, addr), 202) == SENT, "resend %d" % (i + 1)
    time.sleep(WAIT)
    r = resend(c, addr)
    assert_rate_limited(r)
    assert int(r.headers["Retry-After"]) > 10, "Retry-After should point to the hourly window"


def test_resend_reset_purpose(fast_server):
    c = fast_server.client()
    assert expect_json(resend(c, unique_email(), "reset"), 202) == SENT


@pytest.mark.parametrize("raw", [
    "email=j-p@example.org&purpose=admin",
    "email=j-p@example.org&purpose=",
    "email=j-p@example.org",
    "purpose=register",
])
def test_resend_bad_request(fast_server, raw):
    c = fast_server.client()
    r = c.post("/account/resend", raw)
    expect_error(r, 400, "invalid_request")


def test_resend_invalid_email(fast_server):
    c = fast_server.client()
    expect_error(resend(c, "not-an-address"), 400, "invalid_email")


def test_resend_rate_limited_on_default_server(server, client):
    # default interval is 60 s: two resends in a row for one address -> 429
    addr = unique_email()
    assert expect_json(resend(client, addr), 202) == SENT
    r = resend(client, addr)
    assert_rate_limited(r, max_retry=60)
