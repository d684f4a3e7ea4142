"""Response checks: the /account JSON contract, errors, cookies, headers."""

from .client import set_cookie_headers, set_cookies
from .env import JSON_CT

def lines_naming(out, word):
    """The lines of a command's output that mention word."""
    return [l for l in out.splitlines() if word in l]


def cache_control_tokens(r):
    return {t.strip().split("=")[0].lower() for t in r.headers.get("Cache-Control", "").split(",")
            if t.strip()}


def expect_json(r, status):
    """Assert the /account response contract of SPEC section 4 and return the body."""
    assert r.status_code == status, "expected %d, got %d: %s %r" % (
        status, r.status_code, r.headers.get("Content-Type"), r.text[:600])
    assert r.headers.get("Content-Type") == JSON_CT, r.headers.get("Content-Type")
    assert "no-store" in cache_control_tokens(r), r.headers.get("Cache-Control")
    try:
        return r.json()
    except ValueError:
        raise AssertionError("body is not JSON: %r" % r.text[:600])


def expect_error(r, status, code):
    body = expect_json(r, status)
    assert body.get("error") == code, body
    assert isinstance(body.get("message"), str) and body["message"].strip(), body
    return body


def allow_methods(r):
    return {m.strip().upper() for m in r.headers.get("Allow", "").split(",") if m.strip()}


def assert_session_cookie(r):
    """SPEC section 8: HttpOnly; SameSite=Lax; Path=/ (Secure + __Host- only over HTTPS)."""
    cookies = [c for c in set_cookies(r) if c[1]]
    assert len(cookies) == 1, set_cookie_headers(r)
    name, value, attrs = cookies[0]
    assert "httponly" in attrs, attrs
    assert str(attrs.get("samesite", "")).lower() == "lax", attrs
    assert attrs.get("path") == "/", attrs
    assert "domain" not in attrs, attrs
    if name.startswith("__Host-"):
        assert "secure" in attrs
    # 256-bit token: at least 32 bytes of entropy in whatever encoding
    assert len(value) >= 43, value
    return name, value, attrs
