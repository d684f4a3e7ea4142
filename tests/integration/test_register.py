"""SPEC section 4 POST /account/register, section 3 password rules, section 6 mail."""

import email.utils
import random
import re
import time
import urllib.parse
import uuid

import pytest

import natomm as ne
from natomm import GOOD_PASSWORD, expect_error, expect_json, unique_email

REGISTER_OK = {"status": "code_sent", "expires_in": 1800}


def check_mail_format(msg, to):
    """SPEC section 6: UTF-8 text/plain, Date, Message-ID, Auto-Submitted."""
    assert to.lower() in str(msg["To"]).lower()
    assert "no-reply@example.org" in str(msg["From"])
    assert str(msg["Subject"] or "").strip(), "empty subject"
    assert str(msg["Auto-Submitted"]).strip().lower() == "auto-generated", msg["Auto-Submitted"]
    date = email.utils.parsedate_to_datetime(str(msg["Date"]))
    assert date.tzinfo is not None
    assert abs(date.timestamp() - time.time()) < 600, msg["Date"]
    assert re.match(r"^<[^<>@\s]+@[^<>@\s]+>$", str(msg["Message-ID"]).strip()), msg["Message-ID"]
    part = ne.text_part(msg)
    assert part is not None, "no text/plain part"
    assert part.get_content_charset() in ("utf-8",), part["Content-Type"]
    text = part.get_content()
    assert "\ufffd" not in text and "Ã" not in text, "mojibake in body"
    return text


def states_expiry(text, minutes=30):
    return (re.search(r"expir", text, re.I) is not None
            and (re.search(r"\b%d\s*min" % minutes, text, re.I) is not None
                 or re.search(r"\b\d{1,2}:\d{2}\b", text) is not None))


def is_french(text):
    return re.search(r"\b(vous|votre)\b", text, re.I) is not None


# ---------------------------------------------------------------------------
# success + mail

def test_register_sends_code(server, client):
    addr, r = client.register(name="Jane Tester", organisation="NATO PDD")
    body = expect_json(r, 202)
    assert body == REGISTER_OK
    assert not ne.set_cookies(r), "register must not log in"
    msg = server.wait_for_mail(addr)
    text = check_mail_format(msg, addr)
    code = ne.extract_code(msg)
    assert code, "no XXXX-XXXX code alone on its own line:\n" + text
    assert states_expiry(text), "mail does not state when the code expires:\n" + text
    assert not is_french(text), text


def test_register_form_charset_parameter_accepted(client):
    addr = unique_email()
    r = client.post("/account/register", {"email": addr, "password": GOOD_PASSWORD},
                    content_type="application/x-www-form-urlencoded; charset=UTF-8")
    assert expect_json(r, 202) == REGISTER_OK


def _subject_and_text(server, client, **fields):
    addr, r = client.register(**fields)
    assert expect_json(r, 202) == REGISTER_OK
    msg = server.wait_for_mail(addr)
    text = check_mail_format(msg, addr)
    assert ne.extract_code(msg), text
    return str(msg["Subject"]), text


def test_register_mail_in_french_with_language_field(server, client, new_client):
    en_subject, _ = _subject_and_text(server, client)
    fr_subject, fr_text = _subject_and_text(server, new_client(), language="fr")
    assert fr_subject != en_subject, "subject not translated"
    assert is_french(fr_text), fr_text
    assert states_expiry(fr_text), fr_text


def test_register_mail_language_from_accept_language(server, client, new_client):
    en_subject, _ = _subject_and_text(server, client)
    c = new_client()
    addr = unique_email()
    r = c.post("/account/register", {"email": addr, "password": GOOD_PASSWORD},
               headers={"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"})
    assert expect_json(r, 202) == REGISTER_OK
    msg = server.wait_for_mail(addr)
    text = check_mail_format(msg, addr)
    assert str(msg["Subject"]) != en_subject
    assert is_french(text), text


def test_language_field_wins_over_accept_language(server, client):
    addr = unique_email()
    r = client.post("/account/register",
                    {"email": addr, "password": GOOD_PASSWORD, "language": "fr"},
                    headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert expect_json(r, 202) == REGISTER_OK
    text = check_mail_format(server.wait_for_mail(addr), addr)
    assert is_french(text), text


# ---------------------------------------------------------------------------
# no enumeration

def test_register_known_address_same_answer_and_owner_mail(fast_server):
    # on the fast server (resend interval 2 s): the owner's mail may be held
    # back by the per-address resend cooldown, which started at registration
    srv = fast_server
    acc = ne.create_account(srv)
    time.sleep(3.1)
    seen = srv.mail_names(acc.email)

    c = srv.client()
    fresh = unique_email()
    r_unknown = c.post("/account/register", {"email": fresh, "password": GOOD_PASSWORD})
    r_known = c.post("/account/register", {"email": acc.email, "password": ne.OTHER_PASSWORD})

    assert r_known.status_code == r_unknown.status_code == 202
    assert expect_json(r_known, 202) == expect_json(r_unknown, 202) == REGISTER_OK
    hdr = lambda r: sorted(k.lower() for k in r.headers if k.lower() not in ("date",))
    assert hdr(r_known) == hdr(r_unknown)
    assert not ne.set_cookies(r_known)

    msg = srv.wait_for_mail(acc.email, since=seen)
    check_mail_format(msg, acc.email)
    assert ne.extract_code(msg) is None, "an 'already have an account' mail carries no code"
    # the existing password still works, the new one was not taken
    assert expect_json(srv.client().login(acc.email, GOOD_PASSWORD), 200)["status"] == "logged_in"
    expect_error(srv.client().login(acc.email, ne.OTHER_PASSWORD), 401, "invalid_credentials")


def test_register_known_address_same_answer_default_server(server, new_client):
    acc = ne.create_account(server, client=new_client())
    c = new_client()
    r_unknown = c.post("/account/register", {"email": unique_email(), "password": GOOD_PASSWORD})
    r_known = c.post("/account/register", {"email": acc.email, "password": ne.OTHER_PASSWORD})
    assert expect_json(r_known, 202) == expect_json(r_unknown, 202) == REGISTER_OK
    assert r_known.content == r_unknown.content


def test_register_unverified_address_twice_same_answer(server, client):
    addr, r1 = client.register()
    addr, r2 = client.register(addr)
    assert expect_json(r1, 202) == expect_json(r2, 202) == REGISTER_OK


def test_register_address_case_insensitive_unique(fast_server):
    srv = fast_server
    acc = ne.create_account(srv)
    time.sleep(3.1)
    seen = srv.mail_names(acc.email)
    upper = acc.email.upper()
    r = srv.client().post("/account/register", {"email": upper, "password": GOOD_PASSWORD})
    assert expect_json(r, 202) == REGISTER_OK
    msg = srv.wait_for_mail(acc.email, since=seen)
    assert ne.extract_code(msg) is None, "case variant of a verified address got a code"


# ---------------------------------------------------------------------------
# password rules (SPEC section 3 + weak_password in section 4)

def _letters(n):
    return "".join(random.choice("bcdfghjkmnpqrstvwxz") for _ in range(n))


WEAK = [
    # password, rules that must be listed, rules that must NOT be listed (None = exactly)
    ("short", {"length", "upper", "digit", "symbol"}, {"lower", "whitespace"}),
    ("a b", {"length", "whitespace", "upper", "digit", "symbol"}, {"lower"}),
    ("Kx7#mQ2 !vR9@pL", {"whitespace"}, None),
    ("Password123!", {"common"}, None),
    ("P@ssw0rd2024!", {"common"}, None),
    ("kx7#mq2!vr9@pl", {"upper"}, None),
    ("KX7#MQ2!VR9@PL", {"lower"}, None),
    ("Kxz#mQq!vRr@pL", {"digit"}, None),
    ("Kx7zmQ2avR9bpL", {"symbol"}, None),
    ("Kx7#mQ2!vR9", {"length"}, None),
    # 11 code points but 13 bytes: length counts code points
    ("Kx7#mQ2!v\u00e9\u00fc", {"length"}, None),
    ("Kx7#mQ2!" * 16 + "a", {"length"}, None),          # 129
]


@pytest.mark.parametrize("password,must,exact_or_not", WEAK,
                         ids=[repr(w[0])[:24] for w in WEAK])
def test_weak_password_lists_every_failed_rule(client, password, must, exact_or_not):
    _, r = client.register(password=password)
    body = expect_error(r, 400, "weak_password")
    failed = body.get("failed")
    assert isinstance(failed, list), body
    assert set(failed) <= {"length", "whitespace", "upper", "lower", "digit", "symbol", "common"}, failed
    assert len(failed) == len(set(failed)), failed
    if exact_or_not is None:
        assert set(failed) == must, failed
    else:
        assert must <= set(failed), failed
        assert not (exact_or_not & set(failed)), failed


def test_password_equal_to_local_part_is_common(client):
    local = "kw" + _letters(10)
    addr = "%s@example.org" % local
    _, r = client.register(addr, password=local.capitalize() + "2024!")
    body = expect_error(r, 400, "weak_password")
    assert body["failed"] == ["common"], body


def test_password_equal_to_site_name_is_common(client):
    _, r = client.register(password="NatoMultimedia2024!")
    body = expect_error(r, 400, "weak_password")
    assert body["failed"] == ["common"], body


@pytest.mark.parametrize("password", [
    "Kx7#mQ2!vR\u00e9\u00fc",          # exactly 12 code points, 14 bytes
    "Kx7#mQ2!" * 16,                   # exactly 128
    "\u00c9t\u00e9#2024!zQxw",         # non-ASCII upper/lower
])
def test_password_boundaries_accepted(client, password):
    _, r = client.register(password=password)
    assert expect_json(r, 202) == REGISTER_OK


# ---------------------------------------------------------------------------
# address rules

def _email_of_length(n):
    local = "j" + uuid.uuid4().hex[:20]          # 21 chars
    remaining = n - len(local) - 1 - len(".org")
    labels = []
    while remaining > 0:
        if remaining <= 60:
            labels.append("d" * remaining)
            remaining = 0
        else:
            labels.append("d" * 59)
            remaining -= 60
    addr = "%s@%s.org" % (local, ".".join(labels))
    assert len(addr) == n, (len(addr), n)
    return addr


def test_email_254_chars_accepted(client):
    addr = _email_of_length(254)
    _, r = client.register(addr)
    assert expect_json(r, 202) == REGISTER_OK


@pytest.mark.parametrize("addr", [
    "no-at.example.org",
    "a@b@example.org",
    "user@localhost",
    "@example.org",
    "user@",
    "__255__",
])
def test_invalid_email(client, addr):
    if addr == "__255__":
        addr = _email_of_length(255)
    _, r = client.register(addr)
    expect_error(r, 400, "invalid_email")


@pytest.mark.parametrize("raw_email", ["a@b.c%0d%0aBcc:x@y", "a@b.c%0aBcc:x@y.org",
                                       "x%00y@example.org"])
def test_email_with_cr_lf_nul_rejected(client, raw_email):
    # SPEC lists CR/LF/NUL both under invalid_email and invalid_request
    r = client.post("/account/register", "email=%s&password=%s"
                    % (raw_email, urllib.parse.quote_plus(GOOD_PASSWORD)))
    body = expect_json(r, 400)
    assert body.get("error") in ("invalid_email", "invalid_request"), body


# ---------------------------------------------------------------------------
# malformed requests

PW = urllib.parse.quote_plus(GOOD_PASSWORD)


@pytest.mark.parametrize("raw", [
    "password=%s" % PW,                                         # no email
    "email=%s" % "j-missing@example.org",                       # no password
    "",                                                          # nothing
    "email=j-nul@example.org&password=%s&name=Ja%%00ne" % PW,   # NUL
    "email=j-ctl@example.org&password=%s&name=Ja%%01ne" % PW,   # control char
    "email=j-esc@example.org&password=%s&name=Ja%%1bne" % PW,   # ESC
    "email=j-pnul@example.org&password=%s%%00" % PW,            # NUL in password
    "email=%%zzj@example.org&password=%s" % PW,                 # bad percent-encoding
    "email=j-trunc@example.org&password=%s%%4" % PW,            # truncated escape
    "email=j-utf@example.org&password=%s&name=%%ff%%fe" % PW,   # invalid UTF-8
    "email=j-utf2@example.org&password=%s&name=%%c3%%28" % PW,  # invalid UTF-8
])
def test_invalid_request(client, raw):
    if raw == "":
        r = client.post("/account/register", "", content_type="application/x-www-form-urlencoded")
    else:
        r = client.post("/account/register", raw)
    expect_error(r, 400, "invalid_request")


# ---------------------------------------------------------------------------
# per-IP throttle (SPEC section 3: registrations 20/h per IP)

def test_registrations_per_ip_throttled(server, client):
    for i in range(20):
        _, r = client.register()
        assert expect_json(r, 202) == REGISTER_OK, "registration %d" % (i + 1)
    _, r = client.register()
    expect_error(r, 429, "rate_limited")
    assert r.headers.get("Retry-After", "").isdigit(), r.headers
    assert int(r.headers["Retry-After"]) > 0
    # another address (IP) is not affected
    other = server.client()
    _, r = other.register()
    assert expect_json(r, 202) == REGISTER_OK
