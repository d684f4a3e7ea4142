"""SPEC section 8 over HTTPS: the session cookie is `__Host-natomm_session` with
Secure, HttpOnly, SameSite=Lax and Path=/; the gate takes only that cookie
there; the origin check knows the scheme; section 6 unsubscribe links follow
the site's scheme.

The server is the harness's, plus mod_ssl and a second, TLS listener on
127.0.0.1 with a self-signed certificate made here by the openssl CLI."""

import os
import re
import subprocess
import time

import pytest
import urllib3

import natomm as ne
from natomm import GOOD_PASSWORD, OTHER_PASSWORD, expect_error, expect_json, unique_email

VIDEO = "/videos/sample.mp4"
HOST_COOKIE = "__Host-natomm_session"
pytestmark = pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
PLAIN_COOKIE = "natomm_session"


class HttpsView:
    """The server as seen through its TLS listener (for the harness Client)."""

    def __init__(self, server, port):
        self._server = server
        self.port = port
        self.url = "https://127.0.0.1:%d" % port

    def __getattr__(self, name):
        return getattr(self._server, name)


def https_client(view):
    c = ne.Client(view)
    c.http.mount("https://", ne._SourceAdapter(c.source_ip))
    c.http.verify = False
    return c


@pytest.fixture(scope="module")
def tls(module_server_factory):
    urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    s = module_server_factory(name="https", start=False,
                              extra_modules=["LoadModule ssl_module %s/mod_ssl.so" % ne.MODULES_DIR])
    crt, key = os.path.join(s.root, "conf", "tls.crt"), os.path.join(s.root, "conf", "tls.key")
    p = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                        "-subj", "/CN=127.0.0.1", "-days", "1", "-keyout", key, "-out", crt],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert p.returncode == 0, p.stdout
    port2 = ne.free_port()
    # links in mail come from configuration (the ServerName), never from the Host header
    s.extra_conf = ne.vhost_conf(port2, ["SSLEngine on", "SSLCertificateFile %s" % crt,
                                         "SSLCertificateKeyFile %s" % key], scheme="https")
    s.write_config()
    s.start()
    view = HttpsView(s, port2)
    # the TLS listener answers
    c = https_client(view)
    deadline = time.time() + 5
    while True:
        try:
            if c.get("/index.html").status_code == 200:
                break
        except Exception:
            if time.time() > deadline:
                raise
        time.sleep(0.1)
    return view


@pytest.fixture(scope="module")
def tls_account(tls):
    c = https_client(tls)
    addr = unique_email("tls")
    _, r = c.register(addr, GOOD_PASSWORD)
    assert expect_json(r, 202)["status"] == "code_sent"
    code = ne.extract_code(tls.wait_for_mail(addr))
    r = c.verify(addr, code)
    assert expect_json(r, 200) == {"status": "verified"}
    assert_host_cookie(r)
    return ne.Account(addr, GOOD_PASSWORD, c)


def assert_host_cookie(r, max_age=None):
    headers = ne.set_cookie_headers(r)
    assert len(headers) == 1, headers
    name, value, attrs = ne.parse_set_cookie(headers[0])
    assert name == HOST_COOKIE, headers
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", value), headers
    assert attrs.get("secure") is True, headers
    assert attrs.get("httponly") is True, headers
    assert attrs.get("samesite") == "Lax", headers
    assert attrs.get("path") == "/", headers
    assert "domain" not in attrs, "__Host- forbids Domain: %r" % headers
    if max_age is None:
        assert "max-age" not in attrs and "expires" not in attrs, headers
    else:
        assert abs(int(attrs["max-age"]) - max_age) <= 86400, headers
    return value


def gate(client, cookie):
    return client.get(VIDEO, cookie=cookie, headers={"Range": "bytes=0-0"})


def test_login_cookie_over_https(tls, tls_account):
    c = https_client(tls)
    r = c.login(tls_account.email)
    assert expect_json(r, 200)["status"] == "logged_in"
    value = assert_host_cookie(r)
    assert value not in tls_account.client.cookies.values()
    r = https_client(tls).login(tls_account.email, remember="1")
    assert expect_json(r, 200)["status"] == "logged_in"
    assert_host_cookie(r, max_age=30 * 86400)


def test_gate_takes_only_host_cookie_over_https(tls, tls_account):
    token = tls_account.client.cookies[HOST_COOKIE]
    c = https_client(tls)
    r = gate(c, "%s=%s" % (HOST_COOKIE, token))
    assert r.status_code == 206, (r.status_code, r.text[:200])
    assert r.headers.get("Content-Range", "").startswith("bytes 0-0/")
    s = expect_json(c.session(cookie="%s=%s" % (HOST_COOKIE, token)), 200)
    assert s["authenticated"] is True and s["email"] == tls_account.email

    # the plain name does not work over HTTPS
    r = gate(c, "%s=%s" % (PLAIN_COOKIE, token))
    assert r.status_code == 401, r.status_code
    assert r.json().get("error") == "not_authenticated"
    assert expect_json(c.session(cookie="%s=%s" % (PLAIN_COOKIE, token)), 200) == \
        {"authenticated": False}


def test_origin_check_knows_the_scheme(tls, tls_account):
    c = https_client(tls)
    data = {"email": tls_account.email, "password": OTHER_PASSWORD}
    # the https origin of the site is its own
    expect_error(c.post("/account/login", data), 401, "invalid_credentials")
    # the same host and port with another scheme is another origin
    expect_error(c.post("/account/login", data, origin="http://127.0.0.1:%d" % tls.port),
                 403, "forbidden_origin")
    expect_error(c.post("/account/login", data, origin=tls._server.url),
                 403, "forbidden_origin")
    expect_error(c.post("/account/login", data, origin="http://evil.example"),
                 403, "forbidden_origin")


def test_logout_clears_host_cookie(tls, tls_account):
    c = https_client(tls)
    assert expect_json(c.login(tls_account.email), 200)["status"] == "logged_in"
    token = c.cookies[HOST_COOKIE]
    r = c.logout()
    assert expect_json(r, 200) == {"status": "logged_out"}
    cleared = [x for x in ne.set_cookies(r) if x[0] == HOST_COOKIE]
    assert cleared, ne.set_cookie_headers(r)
    _, value, attrs = cleared[0]
    assert value == "" or ne.cookie_is_deletion(value, attrs), attrs
    # a browser only accepts a __Host- cookie (even a deletion) with Secure and Path=/
    assert attrs.get("secure") is True and attrs.get("path") == "/", attrs
    assert gate(https_client(tls), "%s=%s" % (HOST_COOKIE, token)).status_code == 401


def test_newsletter_link_over_https(tls, tls_account):
    c = tls_account.client
    seen = tls.mail_names(tls_account.email)
    assert expect_json(c.post("/account/newsletter", {"subscribe": "1"}), 200) == \
        {"status": "subscribed"}
    msg = tls.wait_for_mail(tls_account.email, since=seen)
    lu = str(msg["List-Unsubscribe"]).strip()
    m = re.fullmatch(r"<https://127\.0\.0\.1:%d/account/newsletter/unsubscribe\?token=([A-Za-z0-9_-]+)>"
                     % tls.port, lu)
    ne.remember_secret(m.group(1) if m else None)
    assert m, "List-Unsubscribe is not the site's HTTPS URL: %r" % lu
    assert str(msg["List-Unsubscribe-Post"]).strip() == "List-Unsubscribe=One-Click"
