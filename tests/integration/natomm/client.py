"""The HTTP client of the tests and the Set-Cookie helpers."""

import email.utils
import time
import urllib.parse

import requests
from requests.adapters import HTTPAdapter
from urllib3.poolmanager import PoolManager

from .env import GOOD_PASSWORD, next_source_ip, unique_email
from .log import remember_secret

def parse_set_cookie(header):
    """'n=v; Path=/; HttpOnly' -> (name, value, {attr-lower: value-or-True})"""
    parts = [p.strip() for p in header.split(";")]
    name, _, value = parts[0].partition("=")
    attrs = {}
    for p in parts[1:]:
        if not p:
            continue
        k, eq, v = p.partition("=")
        attrs[k.strip().lower()] = v.strip() if eq else True
    return name.strip(), value.strip(), attrs


def set_cookie_headers(response):
    try:
        return list(response.raw.headers.getlist("Set-Cookie"))
    except AttributeError:  # pragma: no cover
        v = response.headers.get("Set-Cookie")
        return [v] if v else []


def set_cookies(response):
    return [parse_set_cookie(h) for h in set_cookie_headers(response)]


def cookie_is_deletion(value, attrs):
    if "max-age" in attrs:
        try:
            if int(attrs["max-age"]) <= 0:
                return True
        except ValueError:
            pass
    if "expires" in attrs and attrs["expires"] is not True:
        try:
            t = email.utils.parsedate_to_datetime(attrs["expires"])
            if t.timestamp() < time.time():
                return True
        except (TypeError, ValueError):
            pass
    return False


class _SourceAdapter(HTTPAdapter):
    def __init__(self, source_ip, **kw):
        self._source = (source_ip, 0)
        super().__init__(**kw)

    def init_poolmanager(self, connections, maxsize, block=False, **kw):
        self.poolmanager = PoolManager(num_pools=connections, maxsize=maxsize,
                                       block=block, source_address=self._source, **kw)


class Client:
    """A client bound to its own loopback source address.

    Cookies are handled by hand (not by requests' jar) so tests can plant,
    keep or replay them precisely.  POSTs get `Origin: <server url>` unless
    told otherwise."""

    def __init__(self, server, source_ip=None):
        self.server = server
        self.source_ip = source_ip or next_source_ip()
        self.http = requests.Session()
        self.http.trust_env = False
        from http.cookiejar import DefaultCookiePolicy
        self.http.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        self.http.mount("http://", _SourceAdapter(self.source_ip))
        self.cookies = {}

    def close(self):
        self.http.close()

    # -- cookies
    def cookie_header(self):
        return "; ".join("%s=%s" % kv for kv in self.cookies.items())

    def _absorb_cookies(self, r):
        for name, value, attrs in set_cookies(r):
            if value:
                remember_secret(value)
            if not value or cookie_is_deletion(value, attrs):
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value

    # -- requests
    def request(self, method, path, *, body=None, data=None, headers=None,
                origin=True, content_type=None, send_cookies=True,
                cookie=None, timeout=30, stream=False):
        """data: dict or list of pairs (form-encoded), or a str/bytes sent raw."""
        hdrs = {}
        if data is not None:
            if isinstance(data, (dict, list, tuple)):
                pairs = list(data.items()) if isinstance(data, dict) else list(data)
                for k, v in pairs:
                    if k in ("password", "current_password", "code", "reset_token"):
                        remember_secret(v)
                body = urllib.parse.urlencode(pairs).encode("utf-8")
            elif isinstance(data, str):
                body = data.encode("utf-8")
            else:
                body = data
            if content_type is None:
                content_type = "application/x-www-form-urlencoded"
        if content_type:
            hdrs["Content-Type"] = content_type
        if method.upper() == "POST" and origin:
            hdrs["Origin"] = self.server.url if origin is True else origin
        if cookie is not None:
            hdrs["Cookie"] = cookie
        elif send_cookies and self.cookies:
            hdrs["Cookie"] = self.cookie_header()
        if headers:
            hdrs.update(headers)
        hdrs = {k: v for k, v in hdrs.items() if v is not None}
        if method.upper() == "POST" and body is None:
            body = b""
        r = self.http.request(method, self.server.url + path, data=body, headers=hdrs,
                              allow_redirects=False, timeout=timeout, stream=stream)
        self._absorb_cookies(r)
        return r

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def head(self, path, **kw):
        return self.request("HEAD", path, **kw)

    def post(self, path, data=None, **kw):
        return self.request("POST", path, data=data, **kw)

    # -- account helpers
    def register(self, email_addr=None, password=GOOD_PASSWORD, **fields):
        email_addr = email_addr or unique_email()
        data = {"email": email_addr, "password": password}
        data.update(fields)
        return email_addr, self.post("/account/register", data)

    def verify(self, email_addr, code):
        return self.post("/account/verify", {"email": email_addr, "code": code})

    def login(self, email_addr, password=GOOD_PASSWORD, **fields):
        data = {"email": email_addr, "password": password}
        data.update(fields)
        return self.post("/account/login", data)

    def logout(self):
        return self.post("/account/logout")

    def session(self, **kw):
        return self.get("/account/session", **kw)
