"""SPEC section 10, issue 15: `SetHandler natomm-subscribers` and
`natommctl subscribers --csv`: RFC 4180 CSV in UTF-8, the consent record,
a one-click URL per recipient that works with no cookie, ?since= for the
unsubscribes (deleted accounts too), formula cells guarded, the same bytes
from both; configtest refuses the handler without a limiting Require; the
newsletter mail names its list (List-Id).
"""

import csv
import io
import os
import subprocess
import time
import urllib.parse

import pytest
import requests

import natomm as ne
from natomm import GOOD_PASSWORD, expect_error, expect_json, unique_email

CTL = os.path.join(ne.REPO, "build", "natommctl")
PUBLIC = "https://media.example.org"
EXPORT = "/export/subscribers.csv"
HOST_MODULE = "LoadModule authz_host_module %s/mod_authz_host.so" % ne.MODULES_DIR
EXPORT_CONF = """NatommPublicURL %s/
<Location /export>
    Require ip 127.0.0.1
</Location>
<Location /export/subscribers.csv>
    SetHandler natomm-subscribers
</Location>
""" % PUBLIC
HEADER = ["address", "name", "organisation", "language", "subscribed_at", "consent_ip",
          "consent_ip_prefix", "list_unsubscribe_url", "list_unsubscribe_post"]
SINCE_HEADER = ["address", "name", "organisation", "language", "subscribed_at",
                "unsubscribed_at", "reason"]


@pytest.fixture(scope="module")
def xsrv(module_server_factory):
    p = subprocess.run(["make", "-C", ne.REPO, "build/natommctl"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    assert p.returncode == 0, p.stdout[-3000:]
    return module_server_factory(EXPORT_CONF, name="export", extra_modules=[HOST_MODULE])


def export(srv, query=""):
    r = requests.get(srv.url + EXPORT + query, timeout=30)
    assert r.status_code == 200, (r.status_code, r.text[:300])
    assert r.headers["Content-Type"] == "text/csv; charset=utf-8; header=present"
    assert "no-store" in r.headers["Cache-Control"]
    assert r.headers["Content-Disposition"].startswith("attachment")
    return r.content


def records(raw):
    text = raw.decode("utf-8")
    assert text.endswith("\r\n")
    return list(csv.reader(io.StringIO(text, newline="")))


def ctl_csv(srv, *args):
    p = subprocess.run([CTL, "-q", "-f", srv.conf_path, "subscribers", "--csv"] + list(args),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30,
                       stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stderr
    return p.stdout


def subscribe(acc):
    expect_json(acc.client.post("/account/newsletter", {"subscribe": "1"}), 200)


def test_export_lists_subscribers_with_their_unsubscribe_url(xsrv):
    a = ne.create_account(xsrv, name='Ann "A", Jr.', organisation="=1+2", language="fr")
    b = ne.create_account(xsrv, name="Bob")
    c = ne.create_account(xsrv)                       # not subscribed
    seen = xsrv.mail_names(a.email)
    subscribe(a)
    subscribe(b)
    raw = export(xsrv)
    rows = records(raw)
    assert rows[0] == HEADER
    by_addr = {r[0]: dict(zip(HEADER, r)) for r in rows[1:]}
    assert a.email in by_addr and b.email in by_addr and c.email not in by_addr
    ra = by_addr[a.email]
    assert ra["name"] == 'Ann "A", Jr.'
    assert ra["organisation"] == "'=1+2"              # a formula, guarded
    assert ra["language"] == "fr"
    assert ra["consent_ip"] == a.client.source_ip
    assert ra["consent_ip_prefix"] == ".".join(a.client.source_ip.split(".")[:3]) + ".0/24"
    got = time.strptime(ra["subscribed_at"], "%Y-%m-%dT%H:%M:%SZ")
    assert abs(time.mktime(got) - time.timezone - time.time()) < 120 \
        or abs(time.mktime(got) - time.time()) < 120
    assert ra["list_unsubscribe_post"] == "List-Unsubscribe=One-Click"
    url = ra["list_unsubscribe_url"]
    assert url.startswith(PUBLIC + "/account/newsletter/unsubscribe?token="), url
    # the one in the welcome mail is the same URL
    msg = xsrv.wait_for_mail(a.email, since=seen)
    assert msg["List-Unsubscribe"] == "<%s>" % url
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["List-Id"] == '"%s" <newsletter.example.org>' % ne.SITE_NAME
    # natommctl gives the same bytes
    assert ctl_csv(xsrv) == raw
    for x in (a, b, c):
        x.client.close()


def test_one_click_url_works_without_a_cookie_and_since_lists_it(xsrv):
    a = ne.create_account(xsrv)
    d = ne.create_account(xsrv)
    subscribe(a)
    subscribe(d)
    start = int(time.time()) - 1
    rows = {r[0]: dict(zip(HEADER, r)) for r in records(export(xsrv))[1:]}
    url = urllib.parse.urlsplit(rows[a.email]["list_unsubscribe_url"])
    # what a mail provider sends (RFC 8058): no cookie, no Origin
    r = requests.post(xsrv.url + url.path + "?" + url.query,
                      data={"List-Unsubscribe": "One-Click"}, timeout=10)
    assert expect_json(r, 200) == {"status": "unsubscribed"}
    assert a.email not in {r[0] for r in records(export(xsrv))[1:]}
    # a subscriber who deletes the account is an unsubscribe too
    expect_json(d.client.post("/account/delete", {"password": GOOD_PASSWORD}), 200)

    raw = export(xsrv, "?since=%d" % start)
    rows = records(raw)
    assert rows[0] == SINCE_HEADER
    got = {r[0]: dict(zip(SINCE_HEADER, r)) for r in rows[1:]}
    assert got[a.email]["reason"] == "unsubscribed"
    assert got[d.email]["reason"] == "deleted"
    for addr in (a.email, d.email):
        assert got[addr]["unsubscribed_at"] >= time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                             time.gmtime(start))
    assert ctl_csv(xsrv, "--since", str(start)) == raw
    # ISO and relative times work; the future lists nothing
    assert a.email in export(xsrv, "?since=1h").decode()
    day = time.strftime("%Y-%m-%d", time.gmtime(start))
    assert a.email in export(xsrv, "?since=" + day).decode()
    assert records(export(xsrv, "?since=%d" % (start + 3600))) == [SINCE_HEADER]
    a.client.close()
    d.client.close()


@pytest.mark.expect_log(r"\[authz_core:error\] .*AH01630: client denied")
def test_bad_requests(xsrv):
    r = requests.get(xsrv.url + EXPORT + "?since=yesterday", timeout=10)
    assert expect_error(r, 400, "invalid_request")["field"] == "since"
    r = requests.post(xsrv.url + EXPORT, data="x=1", timeout=10)
    assert r.status_code == 405 and "GET" in r.headers["Allow"]
    r = requests.head(xsrv.url + EXPORT, timeout=10)
    assert r.status_code == 200 and r.content == b""
    # the site's own Require keeps the others out
    c = xsrv.client()
    assert c.get(EXPORT).status_code == 403
    c.close()


# --------------------------------------------------------------------------
# configtest

@pytest.mark.parametrize("guard,ok", [
    ("", False),
    ("    Require all granted\n", False),
    ("    AuthType natomm\n    Require valid-user\n", False),
    ("    Require ip 127.0.0.1\n", True),
    ("    <RequireAll>\n        Require ip 10.0.0.0/8\n    </RequireAll>\n", True),
    ("    AuthType natomm\n    Require user comms@example.org\n", True),
])
def test_configtest_wants_a_limiting_require(configtest, guard, ok):
    rc, out = configtest("<Location /subs>\n    SetHandler natomm-subscribers\n%s"
                         "</Location>\n" % guard, extra_modules=[HOST_MODULE])
    if ok:
        assert rc == 0, out
        return
    assert rc != 0, out
    lines = ne.lines_naming(out, "natomm-subscribers")
    assert len(lines) == 1 and "Require" in lines[0], out


def test_configtest_accepts_a_guard_on_an_enclosing_location(configtest):
    rc, out = configtest("<Location /ops>\n    Require ip 127.0.0.1\n</Location>\n"
                         "<Location /ops/subscribers>\n    SetHandler natomm-subscribers\n"
                         "</Location>\n", extra_modules=[HOST_MODULE])
    assert rc == 0, out
    rc, out = configtest("<Location /opsx>\n    Require ip 127.0.0.1\n</Location>\n"
                         "<Location /ops/subscribers>\n    SetHandler natomm-subscribers\n"
                         "</Location>\n", extra_modules=[HOST_MODULE])
    assert rc != 0, out
