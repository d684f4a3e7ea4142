"""SPEC section 5: the gate (AuthType natomm + Require valid-user on htdocs/videos)."""

import time
import urllib.parse
import uuid

import pytest
import requests

import natomm as ne
from natomm import BROWSER_ACCEPT, VIDEO_SIZE

VIDEO = "/videos/sample.mp4"


def assert_login_redirect(server, r, original):
    assert r.status_code == 302, (r.status_code, r.text[:300])
    loc = urllib.parse.urlsplit(r.headers["Location"])
    assert loc.scheme in ("", "http") and loc.netloc in ("", "127.0.0.1:%d" % server.port), loc
    assert loc.path == "/login.html", loc
    q = urllib.parse.parse_qs(loc.query, keep_blank_values=True)
    assert q.get("return") == [original], (r.headers["Location"], q)


def assert_not_authenticated(r, head=False):
    assert r.status_code == 401, (r.status_code, r.headers, r.text[:300])
    assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
    if not head:
        assert r.json().get("error") == "not_authenticated", r.text


# ---------------------------------------------------------------------------
# no session

def test_browser_navigation_redirects_to_login(server, client):
    r = client.get(VIDEO, headers={"Accept": BROWSER_ACCEPT})
    assert_login_redirect(server, r, VIDEO)
    # percent-encoded; hex case is not significant (RFC 3986 section 2.1)
    assert urllib.parse.urlsplit(r.headers["Location"]).query.lower() == "return=%2fvideos%2fsample.mp4"


def test_redirect_keeps_query(server, client):
    path = VIDEO + "?x=1&y=a%20b"
    r = client.get(path, headers={"Accept": BROWSER_ACCEPT})
    assert_login_redirect(server, r, path)


def test_head_navigation_redirects(server, client):
    r = client.head(VIDEO, headers={"Accept": BROWSER_ACCEPT})
    assert_login_redirect(server, r, VIDEO)


@pytest.mark.parametrize("headers", [
    {"Accept": "*/*"},
    {"Accept": "application/json"},
    {"Accept": "video/mp4"},
    {"Accept": BROWSER_ACCEPT, "Range": "bytes=0-99"},
])
def test_non_navigation_gets_401(client, headers):
    assert_not_authenticated(client.get(VIDEO, headers=headers))


def test_head_without_html_gets_401(client):
    assert_not_authenticated(client.head(VIDEO, headers={"Accept": "*/*"}), head=True)


def test_garbage_cookie_refused(server, account, client):
    name = list(account.client.cookies)[0]
    for value in ("garbage", "A" * 43, account.client.cookies[name][:-2] + "xx", ""):
        cookie = "%s=%s" % (name, value)
        assert_not_authenticated(client.get(VIDEO, cookie=cookie))
        r = client.get(VIDEO, cookie=cookie, headers={"Accept": BROWSER_ACCEPT})
        assert_login_redirect(server, r, VIDEO)


def test_ungated_files_need_no_session(server, client):
    r = client.get("/public/free.txt")
    assert r.status_code == 200 and r.text == ne.FREE_TXT
    r = client.get("/", headers={"Accept": BROWSER_ACCEPT})
    assert r.status_code == 200 and "NATO Multimedia" in r.text


# ---------------------------------------------------------------------------
# with a session

def test_full_download(server, account):
    r = account.client.get(VIDEO)
    assert r.status_code == 200
    assert r.content == server.video_bytes()
    assert r.headers.get("Content-Type") == "video/mp4"
    assert int(r.headers["Content-Length"]) == VIDEO_SIZE
    assert "private" in ne.cache_control_tokens(r), r.headers.get("Cache-Control")
    assert "ETag" in r.headers
    assert r.headers.get("Accept-Ranges") == "bytes"


def test_range_request(server, account):
    data = server.video_bytes()
    r = account.client.get(VIDEO, headers={"Range": "bytes=0-99"})
    assert r.status_code == 206
    assert r.content == data[:100]
    assert r.headers.get("Content-Range") == "bytes 0-99/%d" % VIDEO_SIZE
    assert "private" in ne.cache_control_tokens(r)
    r = account.client.get(VIDEO, headers={"Range": "bytes=-100"})
    assert r.status_code == 206 and r.content == data[-100:]
    r = account.client.get(VIDEO, headers={"Range": "bytes=1048576-"})
    assert r.status_code == 206 and r.content == data[1048576:]


def test_head_and_conditionals(server, account):
    c = account.client
    r = c.head(VIDEO)
    assert r.status_code == 200
    assert int(r.headers["Content-Length"]) == VIDEO_SIZE
    assert r.content == b""
    etag = r.headers.get("ETag")
    assert etag
    r = c.get(VIDEO, headers={"If-None-Match": etag})
    assert r.status_code == 304
    r = c.get(VIDEO, headers={"Range": "bytes=10-19", "If-Range": etag})
    assert r.status_code == 206 and r.content == server.video_bytes()[10:20]
    r = c.get(VIDEO, headers={"Range": "bytes=10-19", "If-Range": '"not-the-etag"'})
    assert r.status_code == 200 and len(r.content) == VIDEO_SIZE


def test_browser_with_session_gets_file(server, account):
    r = account.client.get(VIDEO, headers={"Accept": BROWSER_ACCEPT})
    assert r.status_code == 200 and len(r.content) == VIDEO_SIZE


def test_access_log_records_account(server, account):
    tag = uuid.uuid4().hex
    r = account.client.get(VIDEO + "?who=" + tag, headers={"Range": "bytes=0-0"})
    assert r.status_code == 206
    deadline = time.time() + 3
    line = None
    while time.time() < deadline and line is None:
        for l in server.read_access_log().splitlines():
            if tag in l:
                line = l
        time.sleep(0.05)
    assert line, "request not in access_log"
    parts = line.split(" ")
    assert parts[0] == account.client.source_ip, line
    assert parts[1] == account.email, line
    assert '"GET %s?who=%s HTTP/1.1" 206' % (VIDEO, tag) in line


def test_anonymous_access_log_has_no_user(server, client):
    tag = uuid.uuid4().hex
    client.get(VIDEO + "?anon=" + tag)
    time.sleep(0.2)
    lines = [l for l in server.read_access_log().splitlines() if tag in l]
    assert lines and lines[0].split(" ")[1] == "-", lines


@pytest.mark.parametrize("cache", ["default", "none"])
def test_session_cache_none_reads_the_database_every_time(server_factory, cache):
    """A session row deleted by hand writes no revocation: a cached check
    passes it until the entry ends (security.md, weakness 4), unless
    NatommSessionCache none leaves out every level of the cache."""
    srv = server_factory("NatommSessionCache none\n" if cache == "none" else "",
                         name="cache-" + cache)
    acc = ne.create_account(srv)
    for _ in range(3):
        assert acc.client.get(VIDEO, headers={"Range": "bytes=0-0"}).status_code == 206
    srv.db_execute("DELETE FROM natomm_session")
    codes = [acc.client.get(VIDEO, headers={"Range": "bytes=0-0"}).status_code
             for _ in range(6)]
    if cache == "none":
        assert codes == [401] * 6, codes
    else:
        assert codes == [206] * 6, codes


def test_session_cache_none_in_a_virtual_host(server_factory):
    """NatommSessionCache none inside a <VirtualHost> turns the cache off for
    that host only: the main host on the same database keeps its cache."""
    srv = server_factory("", name="cache-vhost", start=False)
    port_b = ne.free_port()
    srv.extra_conf = ne.vhost_conf(port_b, ["NatommSessionCache none"])
    srv.write_config()
    srv.start()
    acc = ne.create_account(srv)
    url_b = "http://127.0.0.1:%d%s" % (port_b, VIDEO)
    cookie = {"Cookie": acc.cookie, "Range": "bytes=0-0"}
    for _ in range(3):
        assert acc.client.get(VIDEO, headers={"Range": "bytes=0-0"}).status_code == 206
        assert requests.get(url_b, headers=cookie, timeout=10).status_code == 206
    srv.db_execute("DELETE FROM natomm_session")
    main = [acc.client.get(VIDEO, headers={"Range": "bytes=0-0"}).status_code
            for _ in range(4)]
    other = [requests.get(url_b, headers=cookie, timeout=10).status_code for _ in range(4)]
    assert main == [206] * 4, main
    assert other == [401] * 4, other
