"""SPEC section 4 POST /account/verify, GET /account/session; section 3 code rules."""

import random
import time

import pytest

import natomm as ne
from natomm import assert_session_cookie
from natomm import CODE_ALPHABET, expect_error, expect_json, unique_email


def wrong_code(code):
    while True:
        c = "".join(random.choice(CODE_ALPHABET) for _ in range(8))
        c = c[:4] + "-" + c[4:]
        if c != code:
            return c


def variants(code):
    raw = code.replace("-", "")
    return {
        "exact": code,
        "lower": code.lower(),
        "spaces": "  %s %s  " % (raw[:4], raw[4:]),
        "nodash": raw,
        "lower-spaced": " ".join(raw.lower()),
    }


@pytest.mark.parametrize("variant", ["exact", "lower", "spaces", "nodash", "lower-spaced"])
def test_verify_logs_in(server, client, variant):
    name = "Zo\u00eb \"Zed\" \\ O'Brien <b>&"
    addr, code, _ = ne.register_and_get_code(client, server, name=name)
    r = client.verify(addr, variants(code)[variant])
    assert expect_json(r, 200) == {"status": "verified"}
    assert_session_cookie(r)
    s = expect_json(client.session(), 200)
    assert s == {"authenticated": True, "email": addr, "name": name, "newsletter": False}


def test_session_without_cookie(client):
    assert expect_json(client.session(), 200) == {"authenticated": False}


def test_session_with_garbage_cookie(server, account, new_client):
    name = list(account.client.cookies)[0]
    c = new_client()
    for value in ("garbage", "A" * 43, account.client.cookies[name][:-2] + "xx"):
        r = c.session(cookie="%s=%s" % (name, value))
        assert expect_json(r, 200) == {"authenticated": False}, value


def test_code_is_single_use(server, client, new_client):
    addr, code, _ = ne.register_and_get_code(client, server)
    assert expect_json(client.verify(addr, code), 200) == {"status": "verified"}
    r = new_client().verify(addr, code)
    expect_error(r, 400, "invalid_code")
    assert not [c for c in ne.set_cookies(r) if c[1]], "reused code gave a session"


def test_wrong_code_attempts_then_void(server, client):
    addr, code, _ = ne.register_and_get_code(client, server)
    for left in (4, 3, 2, 1, 0):
        r = client.verify(addr, wrong_code(code))
        body = expect_error(r, 400, "invalid_code")
        assert body.get("attempts_left") == left, body
        assert not [c for c in ne.set_cookies(r) if c[1]]
    r = client.verify(addr, code)
    body = expect_error(r, 400, "invalid_code")
    assert not [c for c in ne.set_cookies(r) if c[1]], "void code still logged in"
    assert expect_json(client.session(), 200) == {"authenticated": False}


def test_unknown_address_same_shape(server, client, new_client):
    addr, code, _ = ne.register_and_get_code(client, server)
    known = expect_error(client.verify(addr, wrong_code(code)), 400, "invalid_code")
    unknown = expect_error(new_client().verify(unique_email(), code), 400, "invalid_code")
    assert set(known) == set(unknown), (known, unknown)
    assert isinstance(unknown["attempts_left"], int), unknown


def test_code_of_other_address_rejected(server, client, new_client):
    a, code_a, _ = ne.register_and_get_code(client, server)
    c2 = new_client()
    b, code_b, _ = ne.register_and_get_code(c2, server)
    expect_error(c2.verify(b, code_a), 400, "invalid_code")


@pytest.mark.parametrize("raw", ["email=j-x@example.org", "code=BCDF-GHJK", ""])
def test_verify_missing_fields(client, raw):
    r = client.post("/account/verify", raw, content_type="application/x-www-form-urlencoded")
    expect_error(r, 400, "invalid_request")


def test_code_entries_per_ip_throttled(server, client):
    # SPEC section 3: code entries 10/min per IP
    for i in range(10):
        expect_error(client.verify(unique_email(), "BCDF-GHJK"), 400, "invalid_code")
    r = client.verify(unique_email(), "BCDF-GHJK")
    expect_error(r, 429, "rate_limited")
    assert r.headers.get("Retry-After", "").isdigit(), r.headers


# ---------------------------------------------------------------------------
# servers with other code settings

@pytest.fixture(scope="module")
def expiry_server(module_server_factory):
    return module_server_factory("NatommCodeLifetime register 3s\n", name="expiry")


@pytest.mark.slow
def test_expired_code(expiry_server):
    c = expiry_server.client()
    addr = unique_email()
    t0 = time.time()
    _, r = c.register(addr)
    assert expect_json(r, 202) == {"status": "code_sent", "expires_in": 3}
    code = ne.extract_code(expiry_server.wait_for_mail(addr))
    assert code
    time.sleep(max(0, t0 + 4.2 - time.time()))
    expect_error(c.verify(addr, code), 400, "code_expired")
    assert expect_json(c.session(), 200) == {"authenticated": False}


@pytest.fixture(scope="module")
def digits_server(module_server_factory):
    return module_server_factory("NatommCodeFormat digits 6\n", name="digits")


def test_digit_codes(digits_server):
    c = digits_server.client()
    addr, code, msg = ne.register_and_get_code(c, digits_server, digits=6)
    digits = code.replace("-", "").replace(" ", "")
    assert len(digits) == 6 and digits.isdigit()
    assert ne.CODE_RE.search(ne.mail_text(msg)) is None
    r = c.verify(addr, digits[:3] + " " + digits[3:])
    assert expect_json(r, 200) == {"status": "verified"}
    assert_session_cookie(r)
