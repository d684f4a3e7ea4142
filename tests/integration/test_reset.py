"""SPEC section 4: POST /account/password/forgot, /password/verify, /password/reset.

A reset goes address -> mailed code -> single-use reset token -> new password;
it answers the same for known, unknown and unverified addresses, never logs
anyone in, and ends every session of the account (SPEC sections 4 and 8)."""

import time

import pytest

import natomm as ne
from natomm import GOOD_PASSWORD, OTHER_PASSWORD, expect_error, expect_json, unique_email

VIDEO = "/videos/sample.mp4"
SENT = {"status": "code_sent"}
# fails upper, digit and symbol (and is not a word that shows up in a log)
WEAK = "qzvxkjwtrplmnb"

# short lifetimes: reset code 3 s, reset token 2 s, the gate trusts its cache 1 s
SHORT_CONF = """
NatommCodeLifetime reset 3s
NatommResetTokenLifetime 2s
NatommSessionCacheTTL 1s
"""


# ---------------------------------------------------------------------------
# local helpers

def subject(msg):
    return str(msg.get("Subject", ""))


def is_reset_code(msg):
    return "password reset code" in subject(msg)


def is_password_changed(msg):
    return "password was changed" in subject(msg)


def new_messages(server, addr, seen):
    return [m for m in server.mailbox.messages(addr) if m.natomm_name not in seen]


def other_code(code):
    for c in "BCDF":
        wrong = "%s%s%s%s-%s%s%s%s" % ((c,) * 8)
        if wrong != code:
            return wrong


def forgot(client, addr):
    return client.post("/account/password/forgot", {"email": addr})


def reset_verify(client, addr, code):
    return client.post("/account/password/verify", {"email": addr, "code": code})


def reset(client, token, password):
    return client.post("/account/password/reset", {"reset_token": token, "password": password})


def mailed_reset_code(server, addr, seen):
    msg = server.wait_for_mail(addr, since=seen)
    assert is_reset_code(msg), subject(msg)
    code = ne.extract_code(msg)
    assert code, "no code alone on its line:\n%s" % ne.mail_text(msg)
    return code


def accepted_token(r, expires_in):
    body = expect_json(r, 200)
    assert set(body) == {"status", "reset_token", "expires_in"}, body
    assert body["status"] == "code_accepted", body
    assert body["expires_in"] == expires_in, body
    token = body["reset_token"]
    ne.remember_secret(token)
    assert isinstance(token, str) and len(token) >= 43, token
    assert not [c for c in ne.set_cookies(r) if c[1]], ne.set_cookie_headers(r)
    return token


def session_cookie(client):
    assert len(client.cookies) == 1, client.cookies
    return "%s=%s" % list(client.cookies.items())[0]


@pytest.fixture(scope="module")
def short_server(module_server_factory):
    return module_server_factory(SHORT_CONF, name="reset")


# ---------------------------------------------------------------------------
# forgot: one answer for all, mail only to verified owners

def test_forgot_same_answer_for_known_unknown_unverified(server, new_client):
    acc = ne.create_account(server, client=new_client())
    pending_client = new_client()
    unverified, _, _ = ne.register_and_get_code(pending_client, server)
    unknown = unique_email("nobody")
    c = new_client()

    seen_acc = server.mail_names(acc.email)
    n_unverified = server.count_mail(unverified)
    answers = [forgot(c, unknown), forgot(c, unverified), forgot(c, acc.email)]
    for r in answers:
        assert expect_json(r, 202) == SENT
        assert not ne.set_cookies(r)
    assert answers[0].content == answers[1].content == answers[2].content

    # inside the resend interval (60 s by default): 202 again, silently nothing sent
    r = forgot(c, acc.email)
    assert expect_json(r, 202) == SENT
    assert r.content == answers[2].content

    msg = server.wait_for_mail(acc.email, since=seen_acc)
    assert is_reset_code(msg), subject(msg)
    assert ne.extract_code(msg), ne.mail_text(msg)
    time.sleep(1.5)    # one more delivery tick: anything queued would be out by now
    assert len(new_messages(server, acc.email, seen_acc)) == 1, \
        [subject(m) for m in new_messages(server, acc.email, seen_acc)]
    assert server.count_mail(unknown) == 0
    assert server.count_mail(unverified) == n_unverified

    ip = c.source_ip
    ne.wait_event(server, "reset_requested", ne.account_id(server, acc.email), ip)
    ne.wait_event(server, "reset_requested", "-", ip)


@pytest.mark.parametrize("raw,error", [
    ("", "invalid_request"),
    ("email=", "invalid_request"),
    ("email=not-an-address", "invalid_email"),
])
def test_forgot_bad_request(client, raw, error):
    expect_error(client.post("/account/password/forgot", raw,
                             content_type="application/x-www-form-urlencoded"), 400, error)


# ---------------------------------------------------------------------------
# the whole reset on the default server (token lifetime 15 min)

def test_reset_full_flow(server, new_client):
    acc = ne.create_account(server, client=new_client())
    a = acc.client                       # session 1 (from verify)
    b = new_client()                     # session 2
    assert expect_json(b.login(acc.email), 200)["status"] == "logged_in"
    cookie_a, cookie_b = session_cookie(a), session_cookie(b)

    c = new_client()                     # the (anonymous) browser doing the reset
    seen = server.mail_names(acc.email)
    assert expect_json(forgot(c, acc.email), 202) == SENT
    code = mailed_reset_code(server, acc.email, seen)

    # a wrong code uses up an attempt (5 per code by default)
    body = expect_error(reset_verify(c, acc.email, other_code(code)), 400, "invalid_code")
    assert body["attempts_left"] == 4, body

    # input ignores case, spaces and dashes
    typed = " " + code.lower().replace("-", " - ") + " "
    token = accepted_token(reset_verify(c, acc.email, typed), 900)
    # the code is spent
    expect_error(reset_verify(c, acc.email, code), 400, "invalid_code")

    # a weak password is refused and the token stays usable
    body = expect_error(reset(c, token, WEAK), 400, "weak_password")
    assert {"upper", "digit", "symbol"} <= set(body["failed"]), body

    seen = server.mail_names(acc.email)
    r = reset(c, token, OTHER_PASSWORD)
    assert expect_json(r, 200) == {"status": "password_updated"}
    assert not [x for x in ne.set_cookies(r) if x[1]], \
        "reset logged the browser in: %r" % ne.set_cookie_headers(r)

    # single use
    expect_error(reset(c, token, OTHER_PASSWORD), 400, "invalid_token")

    # every session of the account has ended (the session endpoint reads the DB)
    other = new_client()
    for ck in (cookie_a, cookie_b):
        assert expect_json(other.session(cookie=ck), 200) == {"authenticated": False}

    # one "password changed" mail
    msg = server.wait_for_mail(acc.email, since=seen)
    assert is_password_changed(msg), subject(msg)
    assert ne.extract_code(msg) is None
    time.sleep(1.3)
    assert [subject(m) for m in new_messages(server, acc.email, seen)] == [subject(msg)]

    # the old password is gone, the new one works
    expect_error(new_client().login(acc.email, GOOD_PASSWORD), 401, "invalid_credentials")
    d = new_client()
    r = d.login(acc.email, OTHER_PASSWORD)
    assert expect_json(r, 200)["status"] == "logged_in"
    assert expect_json(d.session(), 200)["authenticated"] is True

    aid = ne.account_id(server, acc.email)
    ne.wait_event(server, "reset_code_accepted", aid, c.source_ip)
    ne.wait_event(server, "reset", aid, c.source_ip)
    assert server.db_rows("SELECT COUNT(*) FROM natomm_reset_token WHERE account_id = ?",
                   (int(aid),))[0][0] == 0


def test_reset_verify_unknown_and_unverified_same_answer(server, new_client):
    c = new_client()
    pending, code, _ = ne.register_and_get_code(new_client(), server)
    unknown = unique_email("nobody")
    r_unknown = reset_verify(c, unknown, "BCDF-GHJK")
    # the unverified account's registration code is no reset code
    r_pending = reset_verify(c, pending, code)
    b1 = expect_error(r_unknown, 400, "invalid_code")
    b2 = expect_error(r_pending, 400, "invalid_code")
    assert set(b1) == set(b2) and "attempts_left" in b1
    assert not ne.set_cookies(r_unknown) and not ne.set_cookies(r_pending)


@pytest.mark.parametrize("token", [
    "A" * 43,
    "unknown-token-value-0123456789abcdefghijklm",
    "x",
])
def test_reset_unknown_token(client, token):
    expect_error(reset(client, token, OTHER_PASSWORD), 400, "invalid_token")


@pytest.mark.parametrize("raw", [
    "",
    "reset_token=&password=Wq4%24zJ8%25tN3%5EhB",
    "reset_token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
])
def test_reset_missing_fields(client, raw):
    expect_error(client.post("/account/password/reset", raw,
                             content_type="application/x-www-form-urlencoded"),
                 400, "invalid_request")


# ---------------------------------------------------------------------------
# lifetimes and the gate, on the short server

@pytest.mark.slow
def test_reset_code_and_token_expire(short_server):
    srv = short_server
    acc_code, acc_token = ne.create_accounts(srv, 2)
    c1, c2 = srv.client(), srv.client()

    seen1, seen2 = srv.mail_names(acc_code.email), srv.mail_names(acc_token.email)
    t_code = time.time()
    assert expect_json(forgot(c1, acc_code.email), 202) == SENT
    assert expect_json(forgot(c2, acc_token.email), 202) == SENT
    code1 = mailed_reset_code(srv, acc_code.email, seen1)
    code2 = mailed_reset_code(srv, acc_token.email, seen2)
    t_token = time.time()
    token = accepted_token(reset_verify(c2, acc_token.email, code2), 2)

    time.sleep(max(0.0, t_code + 3.3 - time.time(), t_token + 2.3 - time.time()))
    # NatommCodeLifetime reset 3s has passed
    expect_error(reset_verify(c1, acc_code.email, code1), 400, "code_expired")
    # NatommResetTokenLifetime 2s has passed
    expect_error(reset(c2, token, OTHER_PASSWORD), 400, "invalid_token")
    # nothing changed: the old password still works
    r = srv.client().login(acc_token.email, GOOD_PASSWORD)
    assert expect_json(r, 200)["status"] == "logged_in"


@pytest.mark.slow
def test_reset_ends_sessions_at_the_gate(short_server):
    srv = short_server
    acc = ne.create_accounts(srv, 1)[0]
    a = acc.client
    cookie = session_cookie(a)
    # the gate lets the session through (and caches it for at most 1 s)
    assert a.get(VIDEO, headers={"Range": "bytes=0-0"}).status_code == 206

    c = srv.client()
    seen = srv.mail_names(acc.email)
    assert expect_json(forgot(c, acc.email), 202) == SENT
    code = mailed_reset_code(srv, acc.email, seen)
    token = accepted_token(reset_verify(c, acc.email, code), 2)
    r = reset(c, token, OTHER_PASSWORD)
    assert expect_json(r, 200) == {"status": "password_updated"}
    assert not [x for x in ne.set_cookies(r) if x[1]]

    other = srv.client()
    assert expect_json(other.session(cookie=cookie), 200) == {"authenticated": False}
    time.sleep(1.2)       # NatommSessionCacheTTL 1s
    r = other.get(VIDEO, cookie=cookie, headers={"Range": "bytes=0-0"})
    assert r.status_code == 401, r.status_code
    assert r.json().get("error") == "not_authenticated"
    r = other.get(VIDEO, cookie=cookie, headers={"Accept": ne.BROWSER_ACCEPT})
    assert r.status_code == 302
