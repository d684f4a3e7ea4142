"""SPEC section 5, "Download links": POST /account/download-link and the gate
taking the link instead of the cookie, with real clients (curl, wget, aria2c,
ffprobe, ffmpeg on an HLS folder), every refusal (tampered, another path,
another database, expired, revoked on this node and on a second node sharing
the database, a disabled account, the database down), and the token kept out
of every log.

The links server logs, besides the harness's access log, a second one with
"%u %U%q" (the alternative to %r that docs/directives.md describes).
"""

import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.parse

import pytest
import requests

import natomm as ne
from natomm import BROWSER_ACCEPT, GOOD_PASSWORD, OTHER_PASSWORD, VIDEO_SIZE, expect_error, expect_json

VIDEO = "/videos/sample.mp4"
TOKEN_RE = re.compile(r"/dl/([A-Za-z0-9_-]{52})/")
LINKS_LOG = "links_log"
LINKS_CONF = """
LogFormat "%u %U%q %>s" natomm_links
CustomLog "logs/links_log" natomm_links
"""
# the revocation bound (NatommRevocationDelay, default 2 s) and some slack
# for a loaded machine
BOUND = 2.0
SLACK = 0.6


@pytest.fixture(scope="module")
def links(module_server_factory):
    return module_server_factory(LINKS_CONF, name="links")


@pytest.fixture(scope="module")
def owner(links):
    acc = ne.create_account(links, name="Link Owner")
    yield acc
    acc.client.close()


@pytest.fixture
def tmp(request):
    d = tempfile.mkdtemp(prefix="natomm-links-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


# ---------------------------------------------------------------------------
# helpers

def mint(client, path, status=200):
    r = client.post("/account/download-link", {"path": path})
    body = expect_json(r, status)
    if status != 200:
        return body
    assert set(body) == {"url", "expires_in"}, body
    m = TOKEN_RE.search(body["url"])
    assert m, body["url"]
    ne.remember_secret(m.group(1))
    assert "no-store" in ne.cache_control_tokens(r), r.headers
    assert not ne.set_cookies(r), ne.set_cookie_headers(r)
    return body["url"], m.group(1)


def bare():
    """An HTTP client without any cookie: a download manager."""
    s = requests.Session()
    s.trust_env = False
    return s


def get(url, **kw):
    with bare() as s:
        return s.get(url, allow_redirects=False, timeout=30, **kw)


def head(url, **kw):
    with bare() as s:
        return s.head(url, allow_redirects=False, timeout=30, **kw)


def tool_env(home):
    # no proxy settings, no ~/.wgetrc or ~/.curlrc of the machine
    return {"PATH": "/usr/bin:/bin", "HOME": home, "LANG": "C"}


def run(cmd, home, timeout=60, cwd=None):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       env=tool_env(home), timeout=timeout, cwd=cwd)
    assert p.returncode == 0, (cmd, p.returncode, p.stdout[-2000:], p.stderr[-2000:])
    return p


def add_file(server, rel, data):
    path = os.path.join(server.htdocs, rel.lstrip("/"))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    old = time.time() - 3600        # a strong ETag, as the harness's files have
    os.utime(path, (old, old))
    return path


def file_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def log_lines(server, name="access_log", needle=None, timeout=3.0, count=1):
    """The lines of a log of server holding needle, waited for until there are
    count of them (httpd writes a request's line after its answer is sent)."""
    path = os.path.join(server.root, "logs", name)
    deadline = time.time() + timeout
    while True:
        try:
            with open(path, errors="replace") as f:
                lines = f.read().splitlines()
        except FileNotFoundError:
            lines = []
        found = [l for l in lines if needle is None or needle in l]
        if len(found) >= count or needle is None or time.time() > deadline:
            return found
        time.sleep(0.05)


def assert_not_logged(server, *tokens):
    """No token in any log of the server, in any spelling a log could use."""
    logs = os.path.join(server.root, "logs")
    for name in os.listdir(logs):
        with open(os.path.join(logs, name), errors="replace") as f:
            text = f.read()
        for t in tokens:
            for v in ne.secret_variants(t) | {t[:20], t[-20:]}:
                assert v not in text, "token %r in logs/%s" % (v, name)


def assert_refused(r, status, code, head_only=False):
    assert r.status_code == status, (r.status_code, r.headers, r.text[:300])
    assert "Location" not in r.headers, r.headers
    assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
    assert "text/html" not in r.headers.get("Content-Type", "")
    assert "no-store" in ne.cache_control_tokens(r), r.headers
    assert r.headers.get("Referrer-Policy") == "no-referrer", r.headers
    if not head_only:
        assert len(r.content) < 200, r.content
        assert r.json()["error"] == code, r.text


def tamper(token, at=30):
    c = "A" if token[at] != "A" else "B"
    return token[:at] + c + token[at + 1:]


def last_let_through(url, watch, status=403):
    """Polls url for watch seconds: how long after the start it was last let
    through (0.0 if never). Within the bound a node's processes may differ
    (one still has the account cached, another reads the database); after
    it every answer must be the refusal."""
    t0 = time.time()
    last = 0.0
    while time.time() < t0 + watch:
        r = get(url, headers={"Range": "bytes=0-99"})
        assert r.status_code in (206, status), (r.status_code, r.text[:200])
        if r.status_code == 206:
            last = time.time() - t0
        time.sleep(0.05)
    return last


def change_password(acc, new=OTHER_PASSWORD):
    r = acc.client.post("/account/password/change",
                        {"current_password": acc.password, "password": new})
    assert expect_json(r, 200) == {"status": "password_updated"}
    acc.password = new


# ---------------------------------------------------------------------------
# POST /account/download-link

def test_mint_file_link(links, owner):
    url, token = mint(owner.client, VIDEO)
    assert url == "%s/dl/%s%s" % (links.url, token, VIDEO), url
    r = owner.client.post("/account/download-link", {"path": VIDEO})
    body = expect_json(r, 200)
    assert body["expires_in"] == 86400, body
    assert r.headers["Content-Type"] == ne.JSON_CT, r.headers
    ne.remember_secret(TOKEN_RE.search(body["url"]).group(1))
    # a new token each time (made at another millisecond), each working
    assert get(body["url"], headers={"Range": "bytes=0-0"}).status_code == 206
    assert_not_logged(links, token)


def test_mint_folder_link(links, owner):
    url, token = mint(owner.client, "/videos/")
    assert url == "%s/dl/%s/videos/" % (links.url, token), url
    # a client appends file names to it
    r = get(url + "sample.mp4")
    assert r.status_code == 200 and r.content == links.video_bytes()


def test_mint_needs_a_session(links):
    c = links.client()
    expect_error(c.post("/account/download-link", {"path": VIDEO}), 401, "not_authenticated")
    expect_error(c.post("/account/download-link", {"path": VIDEO}, cookie="natomm_session=" + "A" * 43),
                 401, "not_authenticated")


def test_mint_checks_the_origin(links, owner):
    r = owner.client.post("/account/download-link", {"path": VIDEO},
                          origin="https://evil.example")
    expect_error(r, 403, "forbidden_origin")
    r = owner.client.post("/account/download-link", {"path": VIDEO},
                          headers={"Sec-Fetch-Site": "cross-site"})
    expect_error(r, 403, "forbidden_origin")


def test_mint_only_get_is_405(links, owner):
    r = owner.client.get("/account/download-link")
    expect_error(r, 405, "method_not_allowed")
    assert r.headers.get("Allow") == "POST", r.headers


@pytest.mark.parametrize("path", [
    None, "", "videos/sample.mp4", "//evil.example/videos/sample.mp4",
    "/\\evil.example/x", "https://evil.example/videos/sample.mp4",
    "/videos/sample.mp4?x=1", "/videos/sample.mp4#t=1", "/videos/sample.mp4\r\nX: y",
    "/videos/../public/free.txt", "/videos/%2e%2e/public/free.txt", "/videos/./sample.mp4",
    "/videos//sample.mp4", "/videos%2fsample.mp4", "/videos/%00.mp4",
    # not behind AuthType natomm
    "/public/free.txt", "/index.html", "/account/session", "/",
    # nothing there, or not what it says
    "/videos/no-such-file.mp4", "/videos", "/videos/sample.mp4/", "/videos/sample.mp4/x",
])
def test_mint_refuses_paths(links, owner, path):
    data = {} if path is None else {"path": path}
    body = expect_error(owner.client.post("/account/download-link", data), 400, "invalid_request")
    if path and "\r" in path:       # refused by the form reader already
        return
    assert body.get("field") == "path", body
    if path:
        assert body.get("detail"), body


def test_mint_path_with_spaces_and_utf8(links, owner):
    name = "/videos/\u00e9t\u00e9 2024 (final).mp4"
    data = os.urandom(4096)
    add_file(links, name, data)
    url, token = mint(owner.client, urllib.parse.quote(name))
    assert url.endswith("/videos/%C3%A9t%C3%A9%202024%20%28final%29.mp4"), url
    r = get(url)
    assert r.status_code == 200 and r.content == data
    # another spelling of the same path is the same path
    url2, _ = mint(owner.client, "/videos/%c3%a9t%c3%a9%202024%20(final).mp4")
    assert url2.endswith("/videos/%C3%A9t%C3%A9%202024%20%28final%29.mp4"), url2


def test_public_url(server_factory):
    s = server_factory("NatommPublicURL https://media.example.org/\n", name="links-public")
    acc = ne.create_account(s)
    url, token = mint(acc.client, VIDEO)
    assert url == "https://media.example.org/dl/%s%s" % (token, VIDEO), url
    # the same link on the server itself
    r = get(s.url + urllib.parse.urlsplit(url).path, headers={"Range": "bytes=0-9"})
    assert r.status_code == 206 and r.content == s.video_bytes()[:10]


def test_lifetime_directive_configtest(configtest):
    rc, out = configtest("NatommDownloadLinkLifetime 10x\n")
    assert rc != 0 and "NatommDownloadLinkLifetime" in out, out
    rc, out = configtest("NatommDownloadLinkLifetime 31d\n")
    assert rc != 0 and "NatommDownloadLinkLifetime: at most 30d" in out, out
    rc, out = configtest("NatommDownloadLinkLifetime 30d\n")
    assert rc == 0, out


def test_lifetime_directive_sets_expires_in(server_factory):
    s = server_factory("NatommDownloadLinkLifetime 90m\n", name="links-90m")
    acc = ne.create_account(s)
    r = acc.client.post("/account/download-link", {"path": VIDEO})
    body = expect_json(r, 200)
    ne.remember_secret(TOKEN_RE.search(body["url"]).group(1))
    assert body["expires_in"] == 5400, body


# ---------------------------------------------------------------------------
# the gate, with real clients

def test_gate_takes_the_link_as_httpd_serves_files(links, owner):
    url, token = mint(owner.client, VIDEO)
    data = links.video_bytes()
    r = get(url)
    assert r.status_code == 200 and r.content == data
    assert r.headers["Content-Type"] == "video/mp4"
    assert "private" in ne.cache_control_tokens(r), r.headers
    assert r.headers.get("Referrer-Policy") == "no-referrer", r.headers
    assert r.headers.get("Accept-Ranges") == "bytes"
    assert "Set-Cookie" not in r.headers
    etag = r.headers["ETag"]
    r = head(url)
    assert r.status_code == 200 and int(r.headers["Content-Length"]) == VIDEO_SIZE
    assert r.headers["ETag"] == etag and r.content == b""
    r = get(url, headers={"Range": "bytes=100-199"})
    assert r.status_code == 206 and r.content == data[100:200]
    assert r.headers["Content-Range"] == "bytes 100-199/%d" % VIDEO_SIZE
    r = get(url, headers={"Range": "bytes=10-19", "If-Range": etag})
    assert r.status_code == 206 and r.content == data[10:20]
    r = get(url, headers={"Range": "bytes=10-19", "If-Range": '"other"'})
    assert r.status_code == 200 and len(r.content) == VIDEO_SIZE
    r = get(url, headers={"If-None-Match": etag})
    assert r.status_code == 304
    # the query form too
    r = get("%s%s?dl=%s" % (links.url, VIDEO, token), headers={"Range": "bytes=0-99"})
    assert r.status_code == 206 and r.content == data[:100]
    # a browser navigation with a link is served, not redirected
    r = get(url, headers={"Accept": BROWSER_ACCEPT})
    assert r.status_code == 200 and len(r.content) == VIDEO_SIZE
    assert_not_logged(links, token)


def test_curl_whole_range_and_resume(links, owner, tmp):
    url, token = mint(owner.client, VIDEO)
    data = links.video_bytes()
    out, hdr = os.path.join(tmp, "whole.mp4"), os.path.join(tmp, "headers")
    p = run(["curl", "-sS", "--fail", "-o", out, "-D", hdr, "-w", "%{http_code}", url], tmp)
    assert p.stdout == "200" and file_bytes(out) == data
    headers = file_bytes(hdr).decode().lower()
    assert "cache-control: private" in headers and "referrer-policy: no-referrer" in headers
    assert "set-cookie" not in headers

    part = os.path.join(tmp, "part.mp4")
    p = run(["curl", "-sS", "--fail", "-r", "1000-4999", "-o", part, "-w", "%{http_code}", url], tmp)
    assert p.stdout == "206" and file_bytes(part) == data[1000:5000]

    # a transfer cut short, resumed where it stopped
    resumed = os.path.join(tmp, "resumed.mp4")
    with open(resumed, "wb") as f:
        f.write(data[:777777])
    p = run(["curl", "-sS", "--fail", "-C", "-", "-o", resumed, "-w", "%{http_code}", url], tmp)
    assert p.stdout == "206" and file_bytes(resumed) == data
    p = run(["curl", "-sS", "--fail", "-I", url], tmp)
    assert "Content-Length: %d" % VIDEO_SIZE in p.stdout, p.stdout
    assert_not_logged(links, token)


def test_wget_continues_an_interrupted_transfer(links, owner, tmp):
    url, token = mint(owner.client, VIDEO)
    target = os.path.join(tmp, "sample.mp4")     # wget names it after the path
    p = subprocess.Popen(["wget", "-q", "--limit-rate=64k", url], cwd=tmp,
                         env=tool_env(tmp), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 15
        while not (os.path.exists(target) and os.path.getsize(target) >= 96 * 1024):
            assert time.time() < deadline, "wget wrote nothing"
            assert p.poll() is None, "wget ended early: %s" % p.returncode
            time.sleep(0.05)
    finally:
        p.kill()
        p.wait()
    cut = os.path.getsize(target)
    assert 0 < cut < VIDEO_SIZE, cut
    run(["wget", "-q", "-c", url], tmp, cwd=tmp)
    assert file_bytes(target) == links.video_bytes()
    # the second request asked for the rest
    lines = log_lines(links, needle="GET /dl/REDACTED%s HTTP/1.1\" 206" % VIDEO)
    assert lines, log_lines(links)[-5:]
    assert_not_logged(links, token)


def test_aria2c_in_pieces(links, owner, tmp):
    name = "/videos/big-%s.bin" % os.urandom(4).hex()
    data = os.urandom(6 * 1024 * 1024)
    add_file(links, name, data)
    url, token = mint(owner.client, name)
    run(["aria2c", "-q", "-x4", "-s4", "-k1M", "--allow-overwrite=true",
         "--auto-file-renaming=false", "--check-certificate=false", "-d", tmp, "-o", "big.bin",
         url], tmp, timeout=120)
    assert file_bytes(os.path.join(tmp, "big.bin")) == data
    pieces = log_lines(links, needle="GET /dl/REDACTED%s HTTP/1.1\" 206" % name, count=2)
    assert len(pieces) >= 2, log_lines(links, needle=name)
    # every piece logged as the account
    assert all(l.split(" ")[1] == owner.email for l in pieces), pieces
    assert_not_logged(links, token)


def make_mp4(path):
    # moov at the end (no faststart): ffprobe must seek with Range requests
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                    "testsrc=duration=2:size=160x120:rate=10", "-f", "lavfi", "-i",
                    "sine=frequency=440:duration=2", "-c:v", "mpeg4", "-c:a", "aac",
                    "-shortest", path], check=True, timeout=60,
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_ffprobe_over_http(links, owner, tmp):
    name = "/videos/probe-%s.mp4" % os.urandom(4).hex()
    src = os.path.join(tmp, "probe.mp4")
    make_mp4(src)
    add_file(links, name, file_bytes(src))
    url, token = mint(owner.client, name)
    p = run(["ffprobe", "-v", "error", "-show_entries", "format=duration:stream=codec_type",
             "-of", "default=noprint_wrappers=1", url], tmp)
    assert "codec_type=video" in p.stdout and "codec_type=audio" in p.stdout, p.stdout
    duration = float(re.search(r"duration=([0-9.]+)", p.stdout).group(1))
    assert 1.5 < duration < 2.5, p.stdout
    assert_not_logged(links, token)


def make_hls(folder):
    os.makedirs(folder)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                    "testsrc=duration=4:size=160x120:rate=10", "-c:v", "mpeg2video",
                    "-f", "hls", "-hls_time", "1", "-hls_list_size", "0",
                    "-hls_segment_filename", os.path.join(folder, "seg%03d.ts"),
                    os.path.join(folder, "index.m3u8")], check=True, timeout=60,
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    segments = sorted(n for n in os.listdir(folder) if n.endswith(".ts"))
    assert len(segments) >= 2, segments
    for n in os.listdir(folder):
        os.chmod(os.path.join(folder, n), 0o644)
    os.chmod(folder, 0o755)
    return segments


def test_hls_folder_through_one_link(links, owner, tmp):
    rel = "/videos/hls-%s/" % os.urandom(4).hex()
    folder = os.path.join(links.htdocs, rel.strip("/"))
    segments = make_hls(folder)
    url, token = mint(owner.client, rel)
    assert url.endswith(rel), url
    # a player reads the playlist, then the segments it names relative to it
    run(["ffmpeg", "-v", "error", "-i", url + "index.m3u8", "-c", "copy", "-f", "null", "-"],
        tmp, timeout=120)
    for seg in segments:
        lines = log_lines(links, needle="GET /dl/REDACTED%s%s HTTP/1.1\" 20" % (rel, seg))
        assert lines and lines[0].split(" ")[1] == owner.email, (seg, log_lines(links)[-8:])
    # every segment, fetched by hand, is the file
    for seg in segments:
        r = get(url + seg)
        assert r.status_code == 200 and r.content == file_bytes(os.path.join(folder, seg))
    # the query form opens the playlist, but its segments have no token:
    # that is what the path form is for
    r = get("%s%sindex.m3u8?dl=%s" % (links.url, rel, token))
    assert r.status_code == 200 and b"#EXTM3U" in r.content
    r = get("%s%s%s" % (links.url, rel, segments[0]), headers={"Accept": "*/*"})
    assert r.status_code == 401
    # the folder's link opens nothing beside it
    assert_refused(get(url.replace(rel, VIDEO)), 403, "link_refused")
    assert_refused(get(url.replace(rel, "/videos/")), 403, "link_refused")
    assert_not_logged(links, token)


# ---------------------------------------------------------------------------
# refusals: 403 or 410, a tiny JSON body, never a redirect

def test_tampered_link_refused(links, owner):
    url, token = mint(owner.client, VIDEO)
    for at in (2, 12, 20, 30, 51):
        bad = url.replace(token, tamper(token, at))
        assert_refused(get(bad), 403, "link_refused")
        assert_refused(get(bad, headers={"Accept": BROWSER_ACCEPT}), 403, "link_refused")
        assert_refused(head(bad), 403, "link_refused", head_only=True)
        assert_refused(get(bad, headers={"Range": "bytes=0-99"}), 403, "link_refused")
    q = "%s%s?dl=%s" % (links.url, VIDEO, tamper(token))
    assert_refused(get(q), 403, "link_refused")
    # a forged token of the right shape
    forged = "AQ" + "x" * 50
    assert_refused(get("%s/dl/%s%s" % (links.url, forged, VIDEO)), 403, "link_refused")
    # a cookie does not rescue a bad link: the link decides
    r = owner.client.get("/dl/%s%s" % (tamper(token), VIDEO))
    assert_refused(r, 403, "link_refused")
    assert_not_logged(links, token)


def test_link_for_another_path_refused(links, owner):
    other = "/videos/other-%s.mp4" % os.urandom(4).hex()
    add_file(links, other, os.urandom(1000))
    url, token = mint(owner.client, VIDEO)
    assert_refused(get(url.replace(VIDEO, other)), 403, "link_refused")
    assert_refused(get("%s%s?dl=%s" % (links.url, other, token)), 403, "link_refused")
    # a folder link for a folder beside it
    os.makedirs(os.path.join(links.htdocs, "videos", "a"), exist_ok=True)
    add_file(links, "/videos/a/x.bin", b"x")
    add_file(links, "/videos/ab/x.bin", b"y")
    furl, ftoken = mint(owner.client, "/videos/a/")
    assert get(furl + "x.bin").content == b"x"
    assert_refused(get(furl.replace("/videos/a/", "/videos/ab/") + "x.bin"), 403, "link_refused")
    assert_refused(get(furl.replace("/videos/a/", "/videos/") + "sample.mp4"), 403,
                   "link_refused")
    assert_not_logged(links, token, ftoken)


def test_link_of_another_database_refused(links, owner, server_factory):
    url, token = mint(owner.client, VIDEO)
    other = server_factory(name="links-otherdb")
    r = get(url.replace(links.url, other.url))
    assert_refused(r, 403, "link_refused")
    # the same account id and fields, but MACed with another database's key
    assert get(url).status_code == 200


def test_non_tokens_left_alone(links, owner):
    r = get(links.url + "/dl/not-a-token/videos/sample.mp4")
    assert r.status_code == 404
    r = get(links.url + "/public/free.txt?dl=short&x=1")
    assert r.status_code == 200 and r.text == ne.FREE_TXT
    assert log_lines(links, needle="GET /public/free.txt?dl=short&x=1 HTTP/1.1")
    # a token on an ungated file leaves the request, which is served
    url, token = mint(owner.client, VIDEO)
    r = get("%s/dl/%s/public/free.txt" % (links.url, token))
    assert r.status_code == 200 and r.text == ne.FREE_TXT
    assert_not_logged(links, token)


@pytest.mark.slow
def test_expired_link_gone(server_factory):
    s = server_factory("NatommDownloadLinkLifetime 2s\n", name="links-short")
    acc = ne.create_account(s)
    url, token = mint(acc.client, VIDEO)
    t0 = time.time()
    assert get(url, headers={"Range": "bytes=0-0"}).status_code == 206
    time.sleep(max(0, t0 + 3.1 - time.time()))
    assert_refused(get(url), 410, "link_expired")
    assert_refused(get(url, headers={"Accept": BROWSER_ACCEPT}), 410, "link_expired")
    assert_refused(head(url), 410, "link_expired", head_only=True)
    # expired and tampered: refused, not "expired"
    assert_refused(get(url.replace(token, tamper(token))), 403, "link_refused")
    # a new one works
    url2, token2 = mint(acc.client, VIDEO)
    assert get(url2, headers={"Range": "bytes=0-0"}).status_code == 206
    assert_not_logged(s, token, token2)


# ---------------------------------------------------------------------------
# revocation

def fresh(links):
    acc = ne.create_account(links)
    url, token = mint(acc.client, VIDEO)
    assert get(url, headers={"Range": "bytes=0-0"}).status_code == 206   # cached now
    return acc, url, token


def test_password_change_ends_links(links):
    acc, url, token = fresh(links)
    change_password(acc)
    # this node marks the account at once
    assert_refused(get(url), 403, "link_refused")
    # a link made after the change works
    url2, token2 = mint(acc.client, VIDEO)
    assert get(url2, headers={"Range": "bytes=0-0"}).status_code == 206
    assert_refused(get(url), 403, "link_refused")
    assert_not_logged(links, token, token2)


def test_logout_of_all_sessions_ends_links(links):
    acc, url, token = fresh(links)
    other = links.client()
    assert expect_json(other.login(acc.email), 200)["status"] == "logged_in"
    # a plain logout ends one session, not the links
    assert expect_json(other.logout(), 200) == {"status": "logged_out"}
    assert get(url, headers={"Range": "bytes=0-0"}).status_code == 206
    r = acc.client.post("/account/logout", {"all": "1"})
    assert expect_json(r, 200) == {"status": "logged_out"}
    assert_refused(get(url), 403, "link_refused")
    assert_not_logged(links, token)


def test_password_reset_ends_links(links):
    acc, url, token = fresh(links)
    c = links.client()
    seen = links.mail_names(acc.email)
    assert expect_json(c.post("/account/password/forgot", {"email": acc.email}), 202)
    code = ne.extract_code(links.wait_for_mail(acc.email, since=seen))
    body = expect_json(c.post("/account/password/verify", {"email": acc.email, "code": code}), 200)
    ne.remember_secret(body["reset_token"])
    r = c.post("/account/password/reset", {"reset_token": body["reset_token"],
                                           "password": OTHER_PASSWORD})
    assert expect_json(r, 200) == {"status": "password_updated"}
    assert_refused(get(url), 403, "link_refused")
    assert_not_logged(links, token)


def test_delete_ends_links(links):
    acc, url, token = fresh(links)
    r = acc.client.post("/account/delete", {"password": acc.password})
    assert expect_json(r, 200) == {"status": "deleted"}
    assert_refused(get(url), 403, "link_refused")
    assert_not_logged(links, token)


def test_disabled_account_links_end_within_the_bound(links):
    acc, url, token = fresh(links)
    aid = ne.account_id(links, acc.email)
    now_ms = int(time.time() * 1000)
    # natommctl disable: the column, and a revocation for every node to read
    links.db_execute("UPDATE natomm_account SET disabled_at = ? WHERE id = ?",
                      (now_ms // 1000, int(aid)))
    links.db_execute("INSERT INTO natomm_revocation (account_id, at_ms) VALUES (?, ?)",
                      (int(aid), now_ms))
    last = last_let_through(url, BOUND + SLACK + 1.0)
    assert last <= BOUND + SLACK, "let through %.2f s after the disable" % last
    assert_refused(get(url), 403, "link_refused")
    assert_not_logged(links, token)


@pytest.fixture(scope="module")
def shared_db():
    db = ne.new_database("links")
    yield db
    db.drop()


@pytest.fixture(scope="module")
def pair(shared_db, module_server_factory):
    a = module_server_factory(name="links-a", db=shared_db)
    b = module_server_factory(name="links-b", db=shared_db, mail_dir=a.mail_dir)
    return a, b


def test_link_made_on_one_node_works_on_the_other(pair):
    a, b = pair
    acc = ne.create_account(a)
    url, token = mint(acc.client, VIDEO)
    r = get(url.replace(a.url, b.url))
    assert r.status_code == 200 and r.content == b.video_bytes()
    assert log_lines(b, needle="%s \"GET /dl/REDACTED%s" % (acc.email, VIDEO))
    assert_not_logged(b, token)
    assert_not_logged(a, token)


def test_password_change_on_one_node_ends_links_on_the_other(pair):
    a, b = pair
    acc = ne.create_account(a)
    url, token = mint(acc.client, VIDEO)
    on_b = url.replace(a.url, b.url)
    assert get(on_b, headers={"Range": "bytes=0-0"}).status_code == 206   # B caches it
    change_password(acc)
    t0 = time.time()
    assert_refused(get(url), 403, "link_refused")                       # A at once
    # (the refusal on A took a moment: count from the change)
    last = (time.time() - t0) + last_let_through(on_b, BOUND + SLACK + 1.0)
    assert last <= BOUND + SLACK, "B let the link through %.2f s after the change" % last
    assert_refused(get(on_b), 403, "link_refused")
    assert_not_logged(a, token)
    assert_not_logged(b, token)


def test_delete_on_one_node_ends_links_on_the_other(pair):
    a, b = pair
    acc = ne.create_account(b)
    url, token = mint(acc.client, VIDEO)
    on_a = url.replace(b.url, a.url)
    assert get(on_a, headers={"Range": "bytes=0-0"}).status_code == 206
    assert expect_json(acc.client.post("/account/delete", {"password": acc.password}), 200)
    last = last_let_through(on_a, BOUND + SLACK + 1.0)
    assert last <= BOUND + SLACK, "A let the link through %.2f s after the delete" % last
    assert_refused(get(on_a), 403, "link_refused")


# ---------------------------------------------------------------------------
# the database down: fail closed

@pytest.mark.expect_log(*ne.DATABASE_DOWN)
def test_database_down_fails_closed(server_factory):
    s = server_factory(name="links-dbdown")
    try:
        acc = ne.create_account(s)
        warm, wtoken = mint(acc.client, VIDEO)
        cold, ctoken = mint(acc.client, "/videos/")
        assert get(warm, headers={"Range": "bytes=0-0"}).status_code == 206
        s.break_database()
        time.sleep(1.5)       # the watchdog marks it down for every process
        r = get(warm, headers={"Range": "bytes=0-99"})
        assert r.status_code == 503, r.status_code
        assert r.json()["error"] == "storage_unavailable"
        r = get(cold + "sample.mp4", headers={"Range": "bytes=0-99"})
        assert r.status_code == 503, r.status_code
        # a tampered one costs no database, and is refused all the same
        assert get(warm.replace(wtoken, tamper(wtoken))).status_code in (403, 503)
    finally:
        s.restore_database()
    assert_not_logged(s, wtoken, ctoken)


# ---------------------------------------------------------------------------
# the logs

def test_access_log_has_the_account_and_no_token(links, owner):
    url, token = mint(owner.client, VIDEO)
    tag = os.urandom(4).hex()
    assert get(url + "?tag=" + tag, headers={"Range": "bytes=0-0"}).status_code == 206
    q = "%s%s?tag=%s&dl=%s&x=%s" % (links.url, VIDEO, tag, token, tag)
    assert get(q, headers={"Range": "bytes=0-0"}).status_code == 206
    lines = log_lines(links, needle=tag, count=2)
    assert len(lines) == 2, lines
    # %h %u "%r" %>s %b
    assert lines[0].split(" ")[1] == owner.email
    assert '"GET /dl/REDACTED%s?tag=%s HTTP/1.1" 206' % (VIDEO, tag) in lines[0], lines
    assert '"GET %s?tag=%s&dl=REDACTED&x=%s HTTP/1.1" 206' % (VIDEO, tag, tag) in lines[1], lines
    # %u %U%q: the path without the prefix, the query without the parameter
    alt = log_lines(links, LINKS_LOG, needle=tag, count=2)
    assert alt == ["%s %s?tag=%s 206" % (owner.email, VIDEO, tag),
                   "%s %s?tag=%s&x=%s 206" % (owner.email, VIDEO, tag, tag)], alt
    # refused links are logged without the token too
    assert get(url.replace(VIDEO, "/videos/x.mp4")).status_code == 403
    assert get("%s%s?dl=%s" % (links.url, "/videos/y.mp4", token)).status_code == 403
    assert_not_logged(links, token)
