"""SPEC section 4: generic protocol errors of the /account handler and section 8 origin checks."""

import urllib.parse

import pytest

from natomm import GOOD_PASSWORD, allow_methods, expect_error, expect_json, unique_email

POST_ENDPOINTS = ["/account/register", "/account/verify", "/account/resend",
                  "/account/login", "/account/logout"]


@pytest.mark.parametrize("method,path", [("GET", "/account/nope"), ("POST", "/account/nope"),
                                         ("GET", "/account/session/extra"),
                                         ("GET", "/account/loginx")])
def test_unknown_path(client, method, path):
    r = client.request(method, path, data={"x": "1"} if method == "POST" else None)
    expect_error(r, 404, "not_found")


@pytest.mark.parametrize("path", POST_ENDPOINTS)
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_post_only_endpoints(client, path, method):
    r = client.request(method, path)
    expect_error(r, 405, "method_not_allowed")
    assert allow_methods(r) == {"POST"}, r.headers.get("Allow")


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_session_is_get_only(client, method):
    r = client.request(method, "/account/session")
    expect_error(r, 405, "method_not_allowed")
    allowed = allow_methods(r)
    assert "GET" in allowed and allowed <= {"GET", "HEAD"}, r.headers.get("Allow")


def test_logout_get_is_not_logout(account):
    r = account.client.get("/account/logout")
    expect_error(r, 405, "method_not_allowed")
    assert expect_json(account.client.session(), 200)["authenticated"] is True


# ---------------------------------------------------------------------------
# body size and type

def test_body_over_limit(client):
    body = "email=%s&password=x&pad=%s" % (unique_email(), "a" * (16 * 1024))
    assert len(body) > 16384
    expect_error(client.post("/account/register", body), 413, "payload_too_large")


def test_body_just_over_limit(client):
    head = "email=j-big@example.org&pad="
    body = head + "a" * (16384 + 1 - len(head))
    assert len(body) == 16385
    expect_error(client.post("/account/login", body), 413, "payload_too_large")


def test_chunked_body_over_limit(client):
    def gen():
        yield b"email=j-chunk@example.org&pad="
        for _ in range(40):
            yield b"a" * 1024
    r = client.request("POST", "/account/register", body=None, data=gen(),
                       content_type="application/x-www-form-urlencoded")
    expect_error(r, 413, "payload_too_large")


@pytest.fixture(scope="module")
def small_body_server(module_server_factory):
    return module_server_factory("NatommRequestBodyLimit 1024\n", name="smallbody")


def test_configured_body_limit(small_body_server):
    c = small_body_server.client()
    ok = "email=%s&password=%s" % (unique_email(), urllib.parse.quote_plus(GOOD_PASSWORD))
    assert expect_json(c.post("/account/register", ok), 202)["status"] == "code_sent"
    body = "email=%s&password=x&pad=%s" % (unique_email(), "a" * 1100)
    expect_error(c.post("/account/register", body), 413, "payload_too_large")


@pytest.mark.parametrize("ctype,body", [
    ("application/json", '{"email":"j@example.org","password":"Kx7#mQ2!vR9@pL"}'),
    ("text/plain", "email=j@example.org&password=x"),
    ("multipart/form-data; boundary=xyz",
     '--xyz\r\nContent-Disposition: form-data; name="email"\r\n\r\nj@example.org\r\n--xyz--\r\n'),
])
def test_unsupported_media_type(client, ctype, body):
    r = client.post("/account/register", body, content_type=ctype)
    expect_error(r, 415, "unsupported_media_type")


def test_non_empty_body_without_content_type(client):
    r = client.request("POST", "/account/login",
                       data=("email=%s&password=x" % unique_email()).encode(),
                       content_type="")
    assert "Content-Type" not in r.request.headers
    expect_error(r, 415, "unsupported_media_type")


# ---------------------------------------------------------------------------
# origin checks (SPEC section 8: every POST)

@pytest.mark.parametrize("path", POST_ENDPOINTS)
def test_foreign_origin_refused(client, path):
    r = client.post(path, {"email": unique_email(), "password": GOOD_PASSWORD},
                    origin="http://evil.example")
    expect_error(r, 403, "forbidden_origin")


@pytest.mark.parametrize("origin", ["null", "http://127.0.0.1:1", "https://127.0.0.1:%d",
                                    "http://127.0.0.1.evil.example"])
def test_other_foreign_origins_refused(server, client, origin):
    if "%d" in origin:
        origin = origin % server.port
    r = client.post("/account/register", {"email": unique_email(), "password": GOOD_PASSWORD},
                    origin=origin)
    expect_error(r, 403, "forbidden_origin")


def test_cross_site_fetch_metadata_refused(client):
    addr = unique_email()
    r = client.post("/account/register", {"email": addr, "password": GOOD_PASSWORD},
                    headers={"Sec-Fetch-Site": "cross-site"})
    expect_error(r, 403, "forbidden_origin")


def test_foreign_referer_without_origin_refused(client):
    r = client.post("/account/register", {"email": unique_email(), "password": GOOD_PASSWORD},
                    origin=False, headers={"Referer": "http://evil.example/page"})
    expect_error(r, 403, "forbidden_origin")


def test_same_site_referer_without_origin_accepted(server, client):
    r = client.post("/account/register", {"email": unique_email(), "password": GOOD_PASSWORD},
                    origin=False, headers={"Referer": server.url + "/register.html"})
    assert expect_json(r, 202)["status"] == "code_sent"


def test_same_origin_fetch_metadata_accepted(client):
    r = client.post("/account/register", {"email": unique_email(), "password": GOOD_PASSWORD},
                    headers={"Sec-Fetch-Site": "same-origin"})
    assert expect_json(r, 202)["status"] == "code_sent"


def test_cross_site_refused_before_any_work(server, client):
    addr = unique_email()
    expect_error(client.post("/account/register", {"email": addr, "password": GOOD_PASSWORD},
                             origin="http://evil.example"), 403, "forbidden_origin")
    import time
    time.sleep(1.5)
    assert server.count_mail(addr) == 0
