"""SPEC section 6 and issue 4: real mail delivery over SMTP.

Every test talks to a real SMTP server on loopback (python3-aiosmtpd, see
natomm/smtp_sink.py) through `NatommMailTransport smtp://...`: the format and the
language of every mail, delivery within a couple of seconds, the outbox
surviving a stopped SMTP server and a graceful restart, retries with backoff,
permanent (5xx) failures, give-up age, two servers on one database sending
each message once, header injection, STARTTLS / SMTPS / AUTH, and the
configtest checks of the transport and the password file.
"""

import email.utils
import html
import inspect
import os
import re
import shutil
import sqlite3
import time
import urllib.parse

import pytest
import requests

import natomm as ne
from natomm import GOOD_PASSWORD, OTHER_PASSWORD, expect_json, unique_email
from natomm.smtp_sink import SmtpSink, make_cert

THIRD_PASSWORD = "Zr5&yP9*kD2!wF"
MAIL_FROM = "NATO Multimedia <no-reply@example.org>"
ENVELOPE_FROM = "no-reply@example.org"
STATUS = "/natomm-status"
STATUS_CONF = """<Location /natomm-status>
    SetHandler natomm-status
</Location>
"""
TEMPLATES = os.path.join(ne.REPO, "conf", "mail")
CODE_PAT = r"[%s]{4}-[%s]{4}" % (ne.CODE_ALPHABET, ne.CODE_ALPHABET)
ALL_MAILS = ("register_code", "already_registered", "reset_code",
             "password_changed", "newsletter_subscribed")
OTHER_LANG = {"en": "fr", "fr": "en"}
ACCEPT = {"en": "en-GB,en;q=0.9", "fr": "fr-FR,fr;q=0.9"}
pytestmark = pytest.mark.filterwarnings(
    "ignore:Requiring AUTH while not requiring TLS:UserWarning")

NOT_DELIVERED = re.compile(r"NATOMM: mail (\d+) not delivered \(attempt (\d+)\), will retry: (.*)")
DELIVERED = re.compile(r"NATOMM: mail (\d+) delivered")
# the error line of a mail given up on: refused for good (5xx), or too old
GIVEN_UP_5XX = r"\[natomm:error\] .*NATOMM: mail \d+ given up: .*\(SMTP 5\d\d\)"
GIVEN_UP_OLD = r"\[natomm:error\] .*NATOMM: mail \d+ given up: too old"


# --------------------------------------------------------------------------
# helpers

def conf(*lines):
    return STATUS_CONF + "".join(l + "\n" for l in lines)


def status(server):
    r = requests.get(server.url + STATUS, timeout=10)
    body = expect_status_json(r)
    return body


def expect_status_json(r):
    assert r.status_code == 200, (r.status_code, r.text[:300])
    assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
    body = r.json()
    assert set(body) == {"queued", "oldest_age", "retrying", "failed",
                         "sent_last_hour"}, body
    for v in body.values():
        assert isinstance(v, int) and v >= 0, body
    return body


def wait_status(server, pred, timeout=10.0, what="status"):
    deadline = time.time() + timeout
    while True:
        st = status(server)
        if pred(st):
            return st
        if time.time() > deadline:
            raise AssertionError("%s not reached within %.0fs: %r" % (what, timeout, st))
        time.sleep(0.2)


def wait_log(server, pattern, timeout=10.0, after=0):
    pat = re.compile(pattern)
    deadline = time.time() + timeout
    while True:
        text = server.read_error_log()[after:]
        m = pat.search(text)
        if m:
            return m
        if time.time() > deadline:
            raise AssertionError("no error_log line /%s/ within %.0fs; tail:\n%s"
                                 % (pattern, timeout, "\n".join(text.splitlines()[-15:])))
        time.sleep(0.1)


def outbox_rows(server):
    sql = ("SELECT recipient, attempts, next_attempt_ms, sent_at, failed_at,"
           " last_error FROM natomm_outbox")
    if hasattr(server, "db_rows"):
        return server.db_rows(sql)
    db = sqlite3.connect("file:%s?mode=ro" % server.db_path, uri=True, timeout=5)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def register(client, addr=None, password=GOOD_PASSWORD, headers=None, **fields):
    addr = addr or unique_email()
    data = {"email": addr, "password": password}
    data.update(fields)
    t0 = time.time()
    r = client.post("/account/register", data, headers=headers)
    elapsed = time.time() - t0
    assert expect_json(r, 202)["status"] == "code_sent", r.text
    assert elapsed < 5, "the answer waited %.1fs (on SMTP?)" % elapsed
    return addr


def template(lang, name):
    """(subject, body) of conf/mail/<lang>/<name>.txt with {{site}} filled in."""
    with open(os.path.join(TEMPLATES, lang, name + ".txt"), encoding="utf-8") as f:
        text = f.read().replace("{{site}}", ne.SITE_NAME)
    first, _, body = text.partition("\n")
    assert first.startswith("Subject:")
    return first[len("Subject:"):].strip(), body.strip("\r\n")


def body_regex(body):
    parts = re.split(r"(\{\{[a-z_]+\}\})", body)
    subst = {
        "{{code}}": r"(?P<code>%s)" % CODE_PAT,
        "{{minutes}}": r"(?P<minutes>\d+)",
        "{{expires}}": r"(?P<expires>\d{4}-\d\d-\d\d \d\d:\d\d UTC)",
        "{{unsubscribe_url}}": r"(?P<url>https?://[^\s<>\"]+)",
    }
    out = []
    for p in parts:
        if p in subst:
            out.append(subst[p])
        else:
            assert not p.startswith("{{"), "unknown placeholder %s" % p
            out.append(re.escape(p))
    return re.compile("".join(out))


def raw_headers(content):
    """[(name, unfolded raw value)] of the header block, from the bytes received."""
    head = content.split(b"\r\n\r\n", 1)[0]
    assert all(b < 0x80 for b in head), "non-ASCII bytes in the header block: %r" % head
    text = head.decode("ascii")
    text = re.sub(r"\r\n[ \t]", " ", text)
    out = []
    for line in text.split("\r\n"):
        name, colon, value = line.partition(":")
        assert colon and name and " " not in name, "not a header line: %r" % line
        out.append((name, value.strip()))
    return out


def collapse(s):
    return " ".join(s.split())


def html_as_text(h):
    h = re.sub(r"<title>.*?</title>", " ", h, flags=re.S)
    return collapse(html.unescape(re.sub(r"<[^>]+>", " ", h)))


def check_mail(d, addr, lang, name):
    """Every format rule of SPEC section 6 for one delivered message; returns
    the named groups of the body (code, minutes, expires, url)."""
    msg = d.msg
    raw = d.content
    # envelope
    assert d.mail_from == ENVELOPE_FROM, d.mail_from
    assert [r.lower() for r in d.rcpt_tos] == [addr.lower()], d.rcpt_tos
    # RFC 5322 lines: CRLF only, at most 998 octets
    assert b"\n" not in raw.replace(b"\r\n", b""), "bare LF in the message"
    assert b"\r" not in raw.replace(b"\r\n", b""), "bare CR in the message"
    assert max(len(l) for l in raw.split(b"\r\n")) <= 998
    hdrs = raw_headers(raw)
    names = [n.lower() for n, _ in hdrs]
    for h in ("from", "to", "subject", "date", "message-id", "auto-submitted",
              "mime-version", "content-type"):
        assert names.count(h) == 1, "%s appears %d times: %r" % (h, names.count(h), names)
    assert not {"bcc", "cc", "reply-to"} & set(names), names
    raw_value = dict((n.lower(), v) for n, v in hdrs)
    assert raw_value["from"] == MAIL_FROM
    assert [a.addr_spec.lower() for a in msg["To"].addresses] == [addr.lower()], msg["To"]
    assert raw_value["auto-submitted"] == "auto-generated"
    assert raw_value["mime-version"] == "1.0"
    date = email.utils.parsedate_to_datetime(raw_value["date"])
    assert date.tzinfo is not None, raw_value["date"]
    assert abs(date.timestamp() - time.time()) < 300, raw_value["date"]
    assert re.fullmatch(r"<[^<>@\s]+@example\.org>", raw_value["message-id"]), \
        raw_value["message-id"]
    # subject in the recipient's language, RFC 2047 when not ASCII
    subject, body = template(lang, name)
    assert str(msg["Subject"]) == subject, (str(msg["Subject"]), subject)
    if subject.isascii():
        assert raw_value["subject"] == subject
    else:
        assert re.search(r"=\?utf-8\?[bq]\?", raw_value["subject"], re.I), raw_value["subject"]
    # multipart/alternative: UTF-8 text/plain, then text/html
    assert msg.get_content_type() == "multipart/alternative", msg.get_content_type()
    parts = list(msg.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    for p in parts:
        assert p.get_content_charset() == "utf-8", p["Content-Type"]
    text = parts[0].get_content().replace("\r\n", "\n").strip()
    m = body_regex(body).fullmatch(text)
    assert m, "the %s/%s body does not read as its template:\n%s" % (lang, name, text)
    groups = m.groupdict()
    # the HTML alternative says the same
    h = parts[1].get_content()
    assert html.unescape(re.search(r"<title>(.*?)</title>", h, re.S).group(1)) == subject
    assert collapse(text) in html_as_text(h), (collapse(text), html_as_text(h))
    if "code" in groups:
        assert ne.extract_code(msg) == groups["code"]          # alone on its line
        ne.remember_secret(groups["code"])
        assert re.search(r"(?m)^%s\r?$" % groups["code"], text)
        assert groups["code"] in h
    else:
        assert ne.extract_code(msg) is None, text
    return groups


def check_expiry(groups, ttl):
    """'This code will expire in N minutes (YYYY-MM-DD HH:MM UTC)'."""
    assert int(groups["minutes"]) == ttl // 60, groups
    when = time.mktime(time.strptime(groups["expires"], "%Y-%m-%d %H:%M UTC")) - time.timezone
    assert abs(when - (time.time() + ttl)) < 120, (groups["expires"], ttl)


# --------------------------------------------------------------------------
# fixtures

@pytest.fixture
def sinks():
    made = []

    def make(start=True, **kw):
        s = SmtpSink(**kw)
        made.append(s)
        if start:
            s.start()
        return s
    yield make
    for s in made:
        s.stop()


@pytest.fixture(scope="module")
def module_sink():
    s = SmtpSink().start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def mail_srv(module_server_factory, module_sink):
    """A server delivering to module_sink; short resend interval so the
    already-registered notice can follow the first registration."""
    return module_server_factory(conf("NatommResendInterval 1s",
                                      "NatommResendPerHour 20",
                                      "NatommMailRetry 1s 2s"),
                                 name="smtp", mail_transport=module_sink.url())


# --------------------------------------------------------------------------
# content and language of every mail

@pytest.mark.parametrize("lang", ["en", "fr"])
def test_every_mail_reads_correctly(mail_srv, module_sink, lang):
    sink, srv = module_sink, mail_srv
    other = {"Accept-Language": ACCEPT[OTHER_LANG[lang]]}
    a = srv.client()
    seen_ids = set()

    def next_mail(addr, since):
        d = sink.wait_for(addr, since=since, timeout=5)
        mid = str(d.msg["Message-ID"])
        assert mid not in seen_ids, "Message-ID reused: %s" % mid
        seen_ids.add(mid)
        return d

    # 1. the verification code: the field wins over Accept-Language
    t0 = time.time()
    addr = register(a, headers=other, language=lang, name="Jean Test")
    d = next_mail(addr, 0)
    assert time.time() - t0 < 3.5, "the code took %.1fs" % (time.time() - t0)
    g = check_mail(d, addr, lang, "register_code")
    check_expiry(g, 1800)
    assert expect_json(a.verify(addr, g["code"]), 200) == {"status": "verified"}

    # 2. registering again: the already-registered notice, no code
    time.sleep(1.1)                           # NatommResendInterval 1s
    n = sink.count(addr)
    register(srv.client(), addr, headers=other)
    check_mail(next_mail(addr, n), addr, lang, "already_registered")

    # 3. the reset code, in the account's language whatever the browser says
    b = srv.client()
    n = sink.count(addr)
    r = b.post("/account/password/forgot", {"email": addr}, headers=other)
    assert expect_json(r, 202) == {"status": "code_sent"}
    g = check_mail(next_mail(addr, n), addr, lang, "reset_code")
    check_expiry(g, 1800)
    r = b.post("/account/password/verify", {"email": addr, "code": g["code"]})
    token = expect_json(r, 200)["reset_token"]
    ne.remember_secret(token)

    # 4. password changed, by the reset...
    n = sink.count(addr)
    r = b.post("/account/password/reset", {"reset_token": token, "password": OTHER_PASSWORD},
               headers=other)
    assert expect_json(r, 200) == {"status": "password_updated"}
    check_mail(next_mail(addr, n), addr, lang, "password_changed")

    # ... and by a change from a session
    c = srv.client()
    assert expect_json(c.login(addr, OTHER_PASSWORD), 200)["status"] == "logged_in"
    n = sink.count(addr)
    r = c.post("/account/password/change", {"current_password": OTHER_PASSWORD,
                                            "password": THIRD_PASSWORD}, headers=other)
    assert expect_json(r, 200) == {"status": "password_updated"}
    check_mail(next_mail(addr, n), addr, lang, "password_changed")

    # 5. the newsletter confirmation, with RFC 8058 one-click headers
    n = sink.count(addr)
    r = c.post("/account/newsletter", {"subscribe": "1"}, headers=other)
    assert expect_json(r, 200) == {"status": "subscribed"}
    d = next_mail(addr, n)
    g = check_mail(d, addr, lang, "newsletter_subscribed")
    hdrs = dict((k.lower(), v) for k, v in raw_headers(d.content))
    assert hdrs["list-unsubscribe-post"] == "List-Unsubscribe=One-Click"
    m = re.fullmatch(r"<(https?://[^<>\s]+)>", hdrs["list-unsubscribe"])
    assert m, hdrs["list-unsubscribe"]
    url = m.group(1)
    assert url == g["url"], (url, g["url"])
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    token = q["token"][0]
    assert len(token) >= 22 and addr.split("@")[0] not in token, token
    assert addr.split("@")[0] not in url
    # the link works as a mail provider uses it: one POST, no cookie
    path = url[url.index("/account/"):]
    r = srv.client().post(path, "List-Unsubscribe=One-Click", origin=False,
                          content_type="application/x-www-form-urlencoded")
    assert expect_json(r, 200) == {"status": "unsubscribed"}

    # nothing else was sent to the address
    time.sleep(1.2)
    assert sink.count(addr) == 6, sink.messages(addr)


ACCEPT_CASES = [
    ("fr-FR,fr;q=0.9", "fr"),
    ("fr", "fr"),
    ("de-DE,de;q=0.9,fr;q=0.8,en;q=0.5", "fr"),
    ("fr;q=0.5, en-US;q=0.9", "en"),
    ("en-US,en;q=0.9", "en"),
    (None, "en"),
]


def test_language_from_accept_language(mail_srv, module_sink):
    """No `language` field: the request's Accept-Language decides, and the
    account keeps that language for later mail."""
    cases = []
    for accept, lang in ACCEPT_CASES:
        c = mail_srv.client()
        addr = register(c, headers={"Accept-Language": accept} if accept else None)
        cases.append((accept, lang, c, addr))
    for accept, lang, c, addr in cases:
        d = module_sink.wait_for(addr, timeout=5)
        assert str(d.msg["Subject"]) == template(lang, "register_code")[0], \
            "Accept-Language %r gave %r" % (accept, str(d.msg["Subject"]))
        check_mail(d, addr, lang, "register_code")
    # a later mail (reset code) follows the account, not the new browser
    accept, lang, c, addr = cases[0]
    code = ne.extract_code(module_sink.messages(addr)[0].msg)
    assert expect_json(c.verify(addr, code), 200) == {"status": "verified"}
    n = module_sink.count(addr)
    r = mail_srv.client().post("/account/password/forgot", {"email": addr},
                               headers={"Accept-Language": "en-US,en;q=0.9"})
    assert expect_json(r, 202) == {"status": "code_sent"}
    check_mail(module_sink.wait_for(addr, since=n, timeout=5), addr, "fr", "reset_code")


def test_codes_arrive_within_a_couple_of_seconds(mail_srv, module_sink):
    for _ in range(3):
        t0 = time.time()
        addr = register(mail_srv.client())
        d = module_sink.wait_for(addr, timeout=5)
        took = d.at - t0
        assert took < 3.0, "the code arrived after %.1fs" % took
        assert ne.extract_code(d.msg)


def test_subject_encoded_words_within_rfc2047_limit(mail_srv, module_sink):
    """RFC 2047 section 2: an encoded-word is at most 75 characters; a longer
    subject is split into several encoded-words (folded lines).  The French
    subjects of reset_code and password_changed are long."""
    c = mail_srv.client()
    addr = register(c, language="fr")
    g = check_mail(module_sink.wait_for(addr, timeout=5), addr, "fr", "register_code")
    assert expect_json(c.verify(addr, g["code"]), 200) == {"status": "verified"}
    n = module_sink.count(addr)
    r = mail_srv.client().post("/account/password/forgot", {"email": addr})
    assert expect_json(r, 202) == {"status": "code_sent"}
    d = module_sink.wait_for(addr, since=n, timeout=5)
    check_mail(d, addr, "fr", "reset_code")
    head = d.content.split(b"\r\n\r\n", 1)[0].decode("ascii")
    subject_lines = re.search(r"(?m)^Subject:.*(?:\r\n[ \t].*)*", head).group(0)
    words = re.findall(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=", subject_lines)
    assert words, subject_lines
    too_long = [w for w in words if len(w) > 75]
    assert not too_long, "encoded-words longer than 75 characters: %r" % too_long
    for line in subject_lines.split("\r\n"):
        assert len(line) <= 78, "Subject line of %d characters: %r" % (len(line), line)


def test_non_ascii_site_name_and_from_are_encoded(server_factory, sinks):
    """NatommSiteName and NatommMailFrom in French ("OTAN Multim\u00e9dia"): the
    header block stays 7-bit (RFC 5322; the mail goes without SMTPUTF8) and
    decodes to the configured names."""
    sink = sinks()
    srv = server_factory(conf('NatommSiteName "OTAN Multim\u00e9dia"',
                              'NatommMailFrom "OTAN Multim\u00e9dia <no-reply@example.org>"'),
                         name="smtp-utf8-from", mail_transport=sink.url())
    addr = register(srv.client(), language="fr")
    d = sink.wait_for(addr, timeout=5)
    assert d.mail_from == ENVELOPE_FROM
    assert str(d.msg["Subject"]) == "Votre code de v\u00e9rification OTAN Multim\u00e9dia"
    head = d.content.split(b"\r\n\r\n", 1)[0]
    bad = [l for l in head.split(b"\r\n") if any(b >= 0x80 for b in l)]
    assert not bad, "8-bit header lines: %r" % bad
    frm = d.msg["From"]
    assert frm.addresses[0].display_name == "OTAN Multim\u00e9dia", str(frm)
    assert frm.addresses[0].addr_spec == ENVELOPE_FROM


# --------------------------------------------------------------------------
# header injection

EVIL = "evil@example.org"


INJECTIONS = {
    "email-crlf": "email=a%40example.org%0d%0aBcc:evil%40example.org&password={pw}",
    "email-lf": "email=a%40example.org%0aBcc:evil%40example.org&password={pw}",
    "email-cr": "email=a%40example.org%0d&password={pw}",
    "email-angle": "email=a%40example.org%3e%2c%20%3cevil%40example.org&password={pw}",
    "email-comma": "email=a%40example.org%2cevil%40example.org&password={pw}",
    "email-crlf-dot": "email=a%40example.org%0d%0a.%0d%0aRCPT%20TO:evil%40example.org&password={pw}",
    "name-crlf": "email={addr}&password={pw}&name=x%0d%0aBcc:%20evil%40example.org",
    "name-lf": "email={addr}&password={pw}&name=x%0aBcc:%20evil%40example.org",
    "org-crlf": "email={addr}&password={pw}&organisation=x%0d%0aBcc:%20evil%40example.org",
}


def test_crlf_laden_fields_refused(mail_srv, module_sink):
    """A CR/LF in the address, the name or the organisation: 400, and nothing
    reaches evil@ (neither a header nor an envelope recipient)."""
    addrs = []
    for case, raw in INJECTIONS.items():
        addr = unique_email("inj")
        addrs.append(addr)
        body = raw.format(addr=urllib.parse.quote(addr), pw=urllib.parse.quote(GOOD_PASSWORD))
        r = mail_srv.client().post("/account/register", body,
                                   content_type="application/x-www-form-urlencoded")
        assert r.status_code == 400, (case, r.status_code, r.text)
    time.sleep(1.6)                          # more than one watchdog tick
    assert module_sink.count(EVIL) == 0
    for addr in addrs:
        assert module_sink.count(addr) == 0
    with module_sink.lock:
        rcpts = [a for _, kind, a in module_sink.attempts if kind == "RCPT"]
    assert not [a for a in rcpts if "evil" in a.lower()], rcpts
    for d in module_sink.messages():
        assert b"evil@" not in d.content, d


def test_unicode_name_never_in_headers(mail_srv, module_sink):
    name = "Zo\u00eb \u00c9lodie-\u0160\u0107 \u5317\u7ea6 \u00abT\u00e9st\u00bb"
    org = "Organisation du Trait\u00e9 de l'Atlantique Nord \u2014 \u00c9tat-major"
    addr = register(mail_srv.client(), language="fr", name=name, organisation=org)
    d = module_sink.wait_for(addr, timeout=5)
    check_mail(d, addr, "fr", "register_code")       # header block is pure ASCII
    for k, v in d.msg.items():
        for word in ("Zo\u00eb", "\u5317\u7ea6", "Trait\u00e9", "Atlantique"):
            assert word not in str(v), (k, str(v))
    head = d.content.split(b"\r\n\r\n", 1)[0]
    for word in (name, org, "Zo", "Atlantique"):
        for enc in ("utf-8", "latin-1"):
            try:
                assert word.encode(enc) not in head
            except UnicodeEncodeError:
                pass


# --------------------------------------------------------------------------
# outbox: the SMTP server down, retries, failures

def test_sink_down_then_up_every_mail_once(server_factory, sinks):
    sink = sinks(start=False)
    srv = server_factory(conf("NatommMailRetry 1s 2s"), name="smtp-down",
                         mail_transport=sink.url())
    addrs = []
    t0 = time.time()
    for _ in range(5):
        addrs.append(register(srv.client()))     # 202 at once, SMTP down
    assert time.time() - t0 < 10
    st = wait_status(srv, lambda s: s["retrying"] == 5, timeout=6, what="5 retrying")
    assert st["queued"] == 5 and st["failed"] == 0, st
    assert st["oldest_age"] >= 0, st
    log = srv.read_error_log()
    assert len(NOT_DELIVERED.findall(log)) >= 5, log[-3000:]
    assert sink.count() == 0
    sink.start()
    sink.wait_count(5, timeout=15)
    time.sleep(2.5)                            # a duplicate would show by now
    for a in addrs:
        assert sink.count(a) == 1, (a, sink.messages(a))
    assert sink.count() == 5
    assert len({str(d.msg["Message-ID"]) for d in sink.messages()}) == 5
    st = status(srv)
    assert (st["queued"], st["retrying"], st["failed"]) == (0, 0, 0), st
    assert st["sent_last_hour"] == 5, st
    r = requests.post(srv.url + STATUS, timeout=10)
    assert r.status_code == 405, (r.status_code, r.text)
    # the code that waited in the outbox still works
    c = srv.client()
    code = ne.extract_code(sink.messages(addrs[0])[0].msg)
    assert expect_json(c.verify(addrs[0], code), 200) == {"status": "verified"}


def test_default_first_retry_after_30s(server_factory, sinks):
    """Default NatommMailRetry (30s 1h): a 4xx answer schedules the next
    attempt 30 s later, and nothing is tried meanwhile."""
    sink = sinks(refuse_all="451 4.3.0 try later")
    srv = server_factory(conf(), name="smtp-451", mail_transport=sink.url())
    addr = register(srv.client())
    deadline = time.time() + 5
    while not sink.attempts_for(addr):
        assert time.time() < deadline, "no delivery attempt"
        time.sleep(0.05)
    t_first = sink.attempts_for(addr)[0]
    st = wait_status(srv, lambda s: s["retrying"] == 1, timeout=5)
    assert st["queued"] == 1 and st["failed"] == 0, st
    rows = outbox_rows(srv)
    assert len(rows) == 1, rows
    rcpt, attempts, next_ms, sent, failed, err = rows[0]
    assert (rcpt, attempts, sent, failed) == (addr, 1, None, None), rows
    assert 28 <= next_ms / 1000 - t_first <= 32, next_ms / 1000 - t_first
    assert "451" in err, err
    time.sleep(2.5)
    assert len(sink.attempts_for(addr)) == 1, sink.attempts_for(addr)
    assert sink.count() == 0


def test_4xx_retried_with_doubling_backoff(server_factory, sinks):
    sink = sinks(refuse_all="451 4.3.0 try later")
    """NatommMailRetry 1s 2s: retries after 1 s, then 2 s, then 2 s (the cap)."""
    srv = server_factory(conf("NatommMailRetry 1s 2s"), name="smtp-backoff",
                         mail_transport=sink.url())
    addr = register(srv.client())
    deadline = time.time() + 12
    while len(sink.attempts_for(addr)) < 4:
        assert time.time() < deadline, sink.attempts_for(addr)
        time.sleep(0.05)
    t = sink.attempts_for(addr)
    gaps = [b - a for a, b in zip(t, t[1:4])]
    for gap, want in zip(gaps, (1, 2, 2)):
        assert want - 0.3 <= gap <= want + 1.6, "retry gaps %r, want ~1, 2, 2" % gaps
    st = status(srv)
    assert (st["queued"], st["retrying"], st["failed"]) == (1, 1, 0), st
    log = srv.read_error_log()
    lines = [m for m in NOT_DELIVERED.findall(log)]
    assert [int(n) for _, n, _ in lines[:3]] == [1, 2, 3], lines
    assert all("451" in why for _, _, why in lines), lines
    # the server accepts again: delivered once at the next attempt (<= 2 s)
    sink.refuse_all = None
    d = sink.wait_for(addr, timeout=6)
    check_mail(d, addr, "en", "register_code")
    time.sleep(1.2)
    assert sink.count(addr) == 1
    st = status(srv)
    assert (st["queued"], st["retrying"], st["failed"], st["sent_last_hour"]) == (0, 0, 0, 1), st
    # no failure line carries the message
    code = ne.extract_code(d.msg)
    for _, _, why in NOT_DELIVERED.findall(srv.read_error_log()):
        assert code not in why and "verification" not in why, why


@pytest.mark.expect_log(GIVEN_UP_5XX)
def test_5xx_marks_failed_not_retried(server_factory, sinks):
    bad = unique_email("nosuch")
    sink = sinks(refuse={bad: "550 5.1.1 no such user"})
    srv = server_factory(conf("NatommMailRetry 1s 1s"), name="smtp-550",
                         mail_transport=sink.url())
    good = [register(srv.client()) for _ in range(2)]
    register(srv.client(), bad)
    good.append(register(srv.client()))
    for a in good:
        check_mail(sink.wait_for(a, timeout=5), a, "en", "register_code")
    st = wait_status(srv, lambda s: s["failed"] == 1, timeout=5, what="failed == 1")
    time.sleep(2.5)                 # NatommMailRetry 1s: a retry would have come
    assert len(sink.attempts_for(bad)) == 1, sink.attempts_for(bad)
    assert sink.count(bad) == 0
    for a in good:
        assert sink.count(a) == 1
    st = status(srv)
    assert (st["queued"], st["retrying"], st["failed"], st["sent_last_hour"]) == (0, 0, 1, 3), st
    rows = [r for r in outbox_rows(srv) if r[0] == bad]
    assert len(rows) == 1 and rows[0][4] is not None and "550" in rows[0][5], rows
    m = wait_log(srv, r"NATOMM: mail \d+ given up: (.*)")
    assert "550" in m.group(1), m.group(0)
    assert not NOT_DELIVERED.search(srv.read_error_log()), "a 5xx was retried"


@pytest.mark.expect_log(GIVEN_UP_OLD)
def test_give_up_age(server_factory, sinks):
    sink = sinks(refuse_all="451 4.3.0 try later")
    srv = server_factory(conf("NatommMailRetry 1s 1s", "NatommMailGiveUp 2s"),
                         name="smtp-giveup", mail_transport=sink.url())
    addr = register(srv.client())
    st = wait_status(srv, lambda s: s["failed"] == 1, timeout=10, what="failed == 1")
    assert st["queued"] == 0 and st["retrying"] == 0, st
    n = len(sink.attempts_for(addr))
    assert 1 <= n <= 4, sink.attempts_for(addr)
    time.sleep(1.5)
    assert len(sink.attempts_for(addr)) == n
    assert sink.count() == 0
    wait_log(srv, r"NATOMM: mail \d+ given up: too old")


# --------------------------------------------------------------------------
# several processes, several servers, restarts

class SharedDbServer(ne.HttpdServer):
    """An HttpdServer whose DBDParams points at another server's SQLite file
    (for a harness without HttpdServer(db=...))."""

    def __init__(self, *args, db_path=None, **kw):
        super().__init__(*args, **kw)
        if db_path:
            self.db_path = db_path
            self.write_config()


def dbd_lines(server):
    with open(server.conf_path) as f:
        return [l for l in f.read().splitlines() if l.startswith(("DBDriver", "DBDParams"))]


def test_two_servers_one_database_each_mail_once(module_so, sinks):
    sink = sinks(delay=0.1)                   # slow enough for the two to overlap
    kw = dict(extra_conf=conf("NatommMailRetry 1s 2s"), module_path=module_so,
              mail_transport=sink.url())
    if "db" in inspect.signature(ne.HttpdServer.__init__).parameters:
        a = ne.HttpdServer(name="smtp-two-a", **kw)
        b = ne.HttpdServer(name="smtp-two-b", db=a.db, **kw)
    else:
        a = SharedDbServer(name="smtp-two-a", **kw)
        b = SharedDbServer(name="smtp-two-b", db_path=a.db_path, **kw)
    servers = [a, b]
    try:
        a.start()
        b.start()
        assert dbd_lines(a) == dbd_lines(b) and len(dbd_lines(a)) == 2, (dbd_lines(a),
                                                                        dbd_lines(b))
        addrs = []
        for i in range(20):
            addrs.append(register(servers[i % 2].client()))
        sink.wait_count(20, timeout=30)
        time.sleep(2.5)                        # a duplicate would show by now
        counts = {x: sink.count(x) for x in addrs}
        assert all(n == 1 for n in counts.values()), counts
        assert sink.count() == 20
        ids = DELIVERED.findall(a.read_error_log()) + DELIVERED.findall(b.read_error_log())
        assert len(ids) == 20 and len(set(ids)) == 20, ids
        for s in servers:
            st = status(s)
            assert (st["queued"], st["failed"], st["sent_last_hour"]) == (0, 0, 20), st
        # a code mailed by one server is good on the other
        code = ne.extract_code(sink.messages(addrs[0])[0].msg)
        assert expect_json(b.client().verify(addrs[0], code), 200) == {"status": "verified"}
    except Exception:
        for s in servers:
            s.keep = True
            print("--- %s error_log tail:\n%s" % (s.name, "\n".join(
                s.read_error_log().splitlines()[-25:])))
        raise
    finally:
        for s in reversed(servers):          # b borrows a's database
            s.stop()
            s.cleanup(keep=s.keep)


@pytest.mark.expect_log(GIVEN_UP_5XX)
def test_two_servers_keep_failed_and_backoff(module_so, sinks):
    """With two servers on one database, a message that one server marked
    failed (5xx) or scheduled for later (4xx, next try in 30 s) is not taken
    up again at once by the other server, whose list of due messages was
    read before.

    Set-up: two 'sentinel' mails that the sink holds for 3 s keep both
    servers' watchdogs busy while 6 good mails, one for a 550 recipient and
    one for a 451 recipient are queued; both servers then read the same list
    of 8 due messages and work through it side by side (0.4 s per good mail)."""
    bad = unique_email("nosuch")
    later = unique_email("later")
    sentinels = [unique_email("sentinel") for _ in range(2)]
    sink = sinks(delay=0.4, slow={x: 3.0 for x in sentinels},
                 refuse={bad: "550 5.1.1 no such user", later: "451 4.3.0 try later"})
    kw = dict(extra_conf=conf(), module_path=module_so, mail_transport=sink.url())
    if "db" in inspect.signature(ne.HttpdServer.__init__).parameters:
        a = ne.HttpdServer(name="smtp-two-fail-a", **kw)
        b = ne.HttpdServer(name="smtp-two-fail-b", db=a.db, **kw)
    else:
        a = SharedDbServer(name="smtp-two-fail-a", **kw)
        b = SharedDbServer(name="smtp-two-fail-b", db_path=a.db_path, **kw)
    servers = [a, b]
    try:
        a.start()
        b.start()
        for x in sentinels:
            register(a.client(), x)
        deadline = time.time() + 5
        while len([1 for _, kind, _ in sink.attempts if kind == "DATA"]) < 2:
            assert time.time() < deadline, "the sentinels were not both taken: %r" % (
                sink.attempts,)
            time.sleep(0.02)
        t0 = time.time()
        good = []
        for i in range(6):
            good.append(register(servers[i % 2].client()))
        register(a.client(), bad)
        register(b.client(), later)
        assert time.time() - t0 < 2.5, "queueing took %.1fs" % (time.time() - t0)
        sink.wait_count(8, timeout=15)
        wait_status(a, lambda s: s["failed"] == 1 and s["retrying"] == 1, timeout=8)
        time.sleep(1.5)
        for x in good + sentinels:
            assert sink.count(x) == 1, (x, sink.messages(x))
        problems = []
        tb, tl = sink.attempts_for(bad), sink.attempts_for(later)
        if len(tb) != 1:
            problems.append("the 5xx message was tried %d times (at +%r s)"
                            % (len(tb), [round(t - tb[0], 2) for t in tb]))
        if len(tl) != 1:
            problems.append("the 4xx message was tried again at once, not 30 s later"
                            " (at +%r s)" % [round(t - tl[0], 2) for t in tl])
        assert not problems, "; ".join(problems)
    except Exception:
        for s in servers:
            s.keep = True
            print("--- %s error_log tail:\n%s" % (s.name, "\n".join(
                s.read_error_log().splitlines()[-25:])))
        raise
    finally:
        for s in reversed(servers):
            s.stop()
            s.cleanup(keep=s.keep)


def test_graceful_restart_with_full_queue(server_factory, sinks):
    sink = sinks(start=False)
    srv = server_factory(conf("NatommMailRetry 1s 2s"), name="smtp-graceful",
                         mail_transport=sink.url())
    addrs = [register(srv.client()) for _ in range(5)]
    wait_status(srv, lambda s: s["retrying"] == 5, timeout=6, what="5 retrying")
    mark = len(srv.read_error_log())
    srv.graceful()
    wait_log(srv, r"resuming normal operations", after=mark, timeout=10)
    # the new generation reports the queue it found
    wait_log(srv, r"NATOMM: mail queue: 5 queued \(oldest \d+ s, 5 retrying\), 0 failed",
             after=mark, timeout=10)
    assert status(srv)["queued"] == 5
    sink.start()
    sink.wait_count(5, timeout=15)
    time.sleep(2.5)
    for a in addrs:
        assert sink.count(a) == 1, (a, sink.messages(a))
        check_mail(sink.messages(a)[0], a, "en", "register_code")
    st = status(srv)
    assert (st["queued"], st["retrying"], st["failed"], st["sent_last_hour"]) == (0, 0, 0, 5), st


# --------------------------------------------------------------------------
# TLS and AUTH

SMTP_USER = "natomm-mailer"
SMTP_PASSWORD = "Pw-9q@Lx:7#smtp"       # '@', ':' and '#' must be percent-encoded


@pytest.fixture(scope="module")
def cert():
    pair = make_cert()
    yield pair
    shutil.rmtree(os.path.dirname(pair[0]), ignore_errors=True)


@pytest.fixture(scope="module")
def other_cert():
    pair = make_cert()
    yield pair
    shutil.rmtree(os.path.dirname(pair[0]), ignore_errors=True)


def assert_not_in_logs(srv, *secrets):
    text = srv.read_error_log()
    for s in secrets:
        for v in ne.secret_variants(s):
            assert v not in text, "%r in %s" % (v, srv.error_log)


def test_starttls_required_delivered(server_factory, sinks, cert):
    sink = sinks(tls="starttls", cert=cert)
    url = sink.url(query="starttls&cafile=" + cert[0])
    srv = server_factory(conf(), name="smtp-starttls", mail_transport=url)
    addr = register(srv.client(), language="fr")
    d = sink.wait_for(addr, timeout=5)
    assert d.tls, "delivered without TLS"
    check_mail(d, addr, "fr", "register_code")


def test_starttls_required_not_offered_then_offered(server_factory, sinks, cert):
    """STARTTLS required, the server does not offer it: nothing is sent (not
    even the envelope), the mail is retried and the log says why, without the
    message or the password.  Once the server offers TLS, the mail goes."""
    ne.remember_secret(SMTP_PASSWORD)
    plain = sinks()
    url = plain.url(user=SMTP_USER, password=urllib.parse.quote(SMTP_PASSWORD, safe=""),
                    query="starttls&cafile=" + cert[0])
    srv = server_factory(conf("NatommMailRetry 1s 1s"), name="smtp-notls",
                         mail_transport=url)
    addr = register(srv.client())
    m = wait_log(srv, NOT_DELIVERED.pattern, timeout=5)
    why = m.group(3)
    assert re.search(r"SSL|TLS", why, re.I), why
    wait_log(srv, r"not delivered \(attempt 2\), will retry", timeout=5)   # retried
    assert plain.count() == 0
    assert not plain.attempts, "MAIL/RCPT sent in clear: %r" % plain.attempts
    st = status(srv)
    assert (st["queued"], st["retrying"], st["failed"]) == (1, 1, 0), st
    assert_not_in_logs(srv, SMTP_PASSWORD, "verification code", "Enter this code")
    # the same port now offers STARTTLS (and AUTH after it)
    plain.stop()
    tls = sinks(tls="starttls", cert=cert, port=plain.port,
                auth={SMTP_USER: SMTP_PASSWORD})
    d = tls.wait_for(addr, timeout=6)
    assert d.tls and d.login == SMTP_USER, (d.tls, d.login)
    check_mail(d, addr, "en", "register_code")
    time.sleep(1.2)
    assert tls.count(addr) == 1
    assert_not_in_logs(srv, SMTP_PASSWORD, ne.extract_code(d.msg))


def test_starttls_untrusted_certificate_not_delivered(server_factory, sinks, cert, other_cert):
    sink = sinks(tls="starttls", cert=cert)
    url = sink.url(query="starttls&cafile=" + other_cert[0])
    srv = server_factory(conf("NatommMailRetry 1s 1s"), name="smtp-badca",
                         mail_transport=url)
    register(srv.client())
    m = wait_log(srv, NOT_DELIVERED.pattern, timeout=5)
    assert re.search(r"SSL|TLS|certificate", m.group(3), re.I), m.group(0)
    time.sleep(1.5)
    assert sink.count() == 0
    assert status(srv)["retrying"] == 1


def test_starttls_try_falls_back_to_clear(server_factory, sinks):
    sink = sinks()
    srv = server_factory(conf(), name="smtp-try", mail_transport=sink.url(query="starttls=try"))
    addr = register(srv.client())
    d = sink.wait_for(addr, timeout=5)
    assert not d.tls
    check_mail(d, addr, "en", "register_code")


def test_starttls_try_uses_tls_when_offered(server_factory, sinks, cert):
    sink = sinks(tls="starttls", cert=cert)
    srv = server_factory(conf(), name="smtp-try-tls",
                         mail_transport=sink.url(query="starttls=try&cafile=" + cert[0]))
    addr = register(srv.client())
    assert sink.wait_for(addr, timeout=5).tls


def test_smtps(server_factory, sinks, cert):
    sink = sinks(tls="implicit", cert=cert)
    srv = server_factory(conf(), name="smtps", mail_transport=sink.url(query="cafile=" + cert[0]))
    addr = register(srv.client(), language="fr")
    d = sink.wait_for(addr, timeout=5)
    assert d.tls
    check_mail(d, addr, "fr", "register_code")


def test_auth_user_password_from_url(server_factory, sinks, cert):
    ne.remember_secret(SMTP_PASSWORD)
    sink = sinks(tls="starttls", cert=cert, auth={SMTP_USER: SMTP_PASSWORD})
    url = sink.url(user=SMTP_USER, password=urllib.parse.quote(SMTP_PASSWORD, safe=""),
                   query="starttls&cafile=" + cert[0])
    srv = server_factory(conf(), name="smtp-auth-url", mail_transport=url)
    addr = register(srv.client())
    d = sink.wait_for(addr, timeout=5)
    assert d.tls and d.login == SMTP_USER, (d.tls, d.login)
    assert sink.logins and all(ok for _, _, ok in sink.logins), sink.logins
    check_mail(d, addr, "en", "register_code")
    assert_not_in_logs(srv, SMTP_PASSWORD)
    rc, out = srv.configtest()
    assert rc == 0, out
    for v in ne.secret_variants(SMTP_PASSWORD):
        assert v not in out


def password_file(directory, password, mode=0o600):
    path = os.path.join(directory, "smtp-password")
    with open(path, "w") as f:
        f.write(password + "\n")
    os.chmod(path, mode)
    return path


def test_auth_password_file_smtps(server_factory, sinks, cert, tmp_path):
    ne.remember_secret(SMTP_PASSWORD)
    sink = sinks(tls="implicit", cert=cert, auth={SMTP_USER: SMTP_PASSWORD})
    pwfile = password_file(str(tmp_path), SMTP_PASSWORD)
    srv = server_factory(conf("NatommMailPasswordFile %s" % pwfile), name="smtp-auth-file",
                         mail_transport=sink.url(user=SMTP_USER, query="cafile=" + cert[0]))
    addr = register(srv.client(), language="fr")
    d = sink.wait_for(addr, timeout=5)
    assert d.tls and d.login == SMTP_USER, (d.tls, d.login)
    check_mail(d, addr, "fr", "register_code")
    assert_not_in_logs(srv, SMTP_PASSWORD)


def test_auth_wrong_password_keeps_mail(server_factory, sinks, cert):
    """A refused login (535) is the server's configuration, not the message's
    fault: the mail stays queued and goes once the password is right."""
    ne.remember_secret("Wrong-Pw-4711")
    sink = sinks(tls="starttls", cert=cert, auth={SMTP_USER: SMTP_PASSWORD})
    url = sink.url(user=SMTP_USER, password="Wrong-Pw-4711",
                   query="starttls&cafile=" + cert[0])
    srv = server_factory(conf("NatommMailRetry 1s 1s"), name="smtp-auth-bad",
                         mail_transport=url)
    register(srv.client())
    deadline = time.time() + 5
    while not sink.logins:
        assert time.time() < deadline, "no AUTH attempt"
        time.sleep(0.05)
    time.sleep(1.5)
    assert sink.count() == 0
    assert_not_in_logs(srv, "Wrong-Pw-4711")
    st = status(srv)
    assert st["failed"] == 0 and st["queued"] == 1, \
        "a refused SMTP login marked the message failed for good: %r" % st


# --------------------------------------------------------------------------
# configtest


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_password_file_readable_by_others_fails(configtest, tmp_path, mode):
    secret = "File-Pw-%o-secret" % mode
    ne.remember_secret(secret)
    pwfile = password_file(str(tmp_path), secret, mode)
    rc, out = configtest("NatommMailPasswordFile %s\n" % pwfile,
                         mail_transport="smtp://user@127.0.0.1:25?starttls")
    assert rc != 0, out
    assert "Syntax OK" not in out
    assert len(ne.lines_naming(out, "NatommMailPasswordFile")) == 1, out
    assert secret not in out


def test_password_file_0600_accepted(configtest, tmp_path):
    pwfile = password_file(str(tmp_path), "File-Pw-0600-secret", 0o600)
    ne.remember_secret("File-Pw-0600-secret")
    rc, out = configtest("NatommMailPasswordFile %s\n" % pwfile,
                         mail_transport="smtps://user@127.0.0.1:465")
    assert rc == 0, out
    assert "Syntax OK" in out
    assert "File-Pw-0600-secret" not in out


def test_password_file_missing_fails(configtest, tmp_path):
    rc, out = configtest("NatommMailPasswordFile %s/nope\n" % tmp_path,
                         mail_transport="smtp://user@127.0.0.1:25?starttls")
    assert rc != 0, out
    assert len(ne.lines_naming(out, "NatommMailPasswordFile")) == 1, out


@pytest.mark.parametrize("url", [
    "smtp://127.0.0.1:25?frobnicate",
    "smtp://127.0.0.1:25?starttls&verify=no",
    "smtp://127.0.0.1:25?starttls=maybe",
    "smtp://127.0.0.1:25?cafile=relative/cert.pem",
    "smtps://127.0.0.1:465?starttls",
    "smtp://exa mple.org:25",
])
def test_bad_transport_url_fails(configtest, url):
    rc, out = configtest(mail_transport=url)
    assert rc != 0, out
    assert "Syntax OK" not in out
    assert ne.lines_naming(out, "NatommMailTransport"), out


@pytest.mark.parametrize("url", [
    "smtp://127.0.0.1:25",
    "smtp://127.0.0.1:587?starttls",
    "smtp://127.0.0.1:587?starttls=try",
    "smtp://u:p%40ss@127.0.0.1:587?starttls&cafile=/etc/ssl/certs/ca-certificates.crt",
    "smtps://127.0.0.1:465?cafile=/etc/ssl/certs/ca-certificates.crt",
])
def test_good_transport_urls_accepted(configtest, url):
    rc, out = configtest(mail_transport=url)
    assert rc == 0, out
