"""SPEC section 4: POST /account/newsletter and the RFC 8058 one-click
unsubscribe (GET page, POST List-Unsubscribe=One-Click); section 6 List-Unsubscribe
headers; section 7 consent record (when, from which address, when withdrawn)."""

import re
import time
import urllib.parse

import pytest

import natomm as ne
from natomm import expect_error, expect_json

NEWS = "/account/newsletter"
UNSUB = "/account/newsletter/unsubscribe"
ONE_CLICK = "List-Unsubscribe=One-Click"


def consent(server, addr):
    """(newsletter, newsletter_at, newsletter_ip, newsletter_withdrawn_at)"""
    return server.db_rows("SELECT newsletter, newsletter_at, newsletter_ip,"
                   " newsletter_withdrawn_at FROM natomm_account WHERE email_norm = ?",
                   (addr.lower(),))[0]


def subscribe(client, value, **kw):
    return client.post(NEWS, {"subscribe": value}, **kw)


def newsletter_flag(client):
    s = expect_json(client.session(), 200)
    assert s["authenticated"] is True, s
    return s["newsletter"]


def is_welcome(msg):
    return "subscribed to the" in str(msg.get("Subject", ""))


def unsubscribe_link(server, msg):
    """The List-Unsubscribe URL of the mail, checked against SPEC section 6."""
    lu = str(msg["List-Unsubscribe"])
    m = re.fullmatch(r"<(http://127\.0\.0\.1:%d%s\?token=([A-Za-z0-9_-]+))>" % (
        server.port, re.escape(UNSUB)), lu.strip())
    assert m, "List-Unsubscribe: %r" % lu
    assert str(msg["List-Unsubscribe-Post"]).strip() == ONE_CLICK, msg["List-Unsubscribe-Post"]
    token = m.group(2)
    ne.remember_secret(token)
    assert len(token) >= 32, token
    # the link is in the text body too
    assert m.group(1) in ne.mail_text(msg), ne.mail_text(msg)
    return token


def one_click(client, token, body=ONE_CLICK, **kw):
    """As a mail provider sends it: no cookie, no Origin, form-encoded body."""
    return client.post(UNSUB + "?token=" + urllib.parse.quote(token), body,
                       origin=False, send_cookies=False,
                       content_type="application/x-www-form-urlencoded", **kw)


@pytest.fixture(scope="module")
def accounts(server):
    return ne.create_accounts(server, 2)


def test_newsletter_needs_session(client):
    expect_error(subscribe(client, "1"), 401, "not_authenticated")


@pytest.mark.parametrize("value", ["2", "yes", "true", "", " 1", "10"])
def test_newsletter_bad_value(accounts, value):
    c = accounts[0].client
    expect_error(subscribe(c, value), 400, "invalid_request")
    assert newsletter_flag(c) is False


def test_newsletter_cross_site_refused(accounts):
    c = accounts[0].client
    expect_error(subscribe(c, "1", origin="http://evil.example"), 403, "forbidden_origin")
    assert newsletter_flag(c) is False


def test_subscribe_mail_and_one_click(server, accounts):
    acc = accounts[1]
    c = acc.client
    aid = ne.account_id(server, acc.email)
    assert newsletter_flag(c) is False
    assert consent(server, acc.email) == (0, None, None, None)

    seen = server.mail_names(acc.email)
    t0 = int(time.time())
    r = subscribe(c, "1")
    assert expect_json(r, 200) == {"status": "subscribed"}
    assert newsletter_flag(c) is True
    flag, at, ip, withdrawn = consent(server, acc.email)
    assert flag == 1 and t0 <= at <= time.time() + 1 and ip == c.source_ip and withdrawn is None
    ne.wait_event(server, "newsletter_subscribe", aid, c.source_ip)

    # subscribing again changes nothing and sends no second mail
    assert expect_json(subscribe(c, "1"), 200) == {"status": "subscribed"}
    assert consent(server, acc.email)[1] == at

    msg = server.wait_for_mail(acc.email, since=seen)
    assert is_welcome(msg), msg["Subject"]
    token = unsubscribe_link(server, msg)

    # GET shows a page with a button and changes nothing (link scanners follow GETs)
    v = server.client()
    r = v.get(UNSUB + "?token=" + token)
    assert r.status_code == 200, (r.status_code, r.text[:300])
    assert r.headers["Content-Type"].startswith("text/html"), r.headers["Content-Type"]
    page = r.text.lower()
    assert "<form" in page and 'method="post"' in page and "<button" in page, r.text
    assert "list-unsubscribe" in page and "one-click" in page, r.text
    assert newsletter_flag(c) is True
    assert consent(server, acc.email)[3] is None

    # a tampered token is refused and changes nothing
    i = len(token) // 2
    tampered = token[:i] + ("B" if token[i] != "B" else "C") + token[i + 1:]
    expect_error(one_click(v, tampered), 400, "invalid_token")
    assert newsletter_flag(c) is True

    # one-click POST: no cookie, no Origin, no redirect
    time.sleep(max(0.0, at + 1.05 - time.time()))       # withdrawal in a later second
    r = one_click(v, token)
    assert expect_json(r, 200) == {"status": "unsubscribed"}
    assert not ne.set_cookies(r)
    assert newsletter_flag(c) is False
    flag, at2, ip2, withdrawn = consent(server, acc.email)
    assert flag == 0 and withdrawn is not None and withdrawn > at
    assert (at2, ip2) == (at, c.source_ip), "the consent record was overwritten"
    ne.wait_event(server, "newsletter_unsubscribe_oneclick", aid, v.source_ip)
    time.sleep(1.2)
    assert [m for m in server.mailbox.messages(acc.email) if m.natomm_name not in seen
            and m.natomm_name != msg.natomm_name] == [], "a second welcome mail was sent"

    # repeating it is harmless
    assert expect_json(one_click(v, token), 200) == {"status": "unsubscribed"}
    assert newsletter_flag(c) is False

    # subscribing again through the endpoint: a new consent record, a new mail
    seen = server.mail_names(acc.email)
    assert expect_json(subscribe(c, "1"), 200) == {"status": "subscribed"}
    flag, at3, _, withdrawn = consent(server, acc.email)
    assert flag == 1 and at3 >= at and withdrawn is None
    msg2 = server.wait_for_mail(acc.email, since=seen)
    assert is_welcome(msg2), msg2["Subject"]
    unsubscribe_link(server, msg2)
    # and the account's own unsubscribe
    assert expect_json(subscribe(c, "0"), 200) == {"status": "unsubscribed"}
    assert newsletter_flag(c) is False
    assert consent(server, acc.email)[3] is not None
    ne.wait_event(server, "newsletter_unsubscribe", aid, c.source_ip)


def test_one_click_bad_requests(server, client):
    unknown = "A" * 43
    expect_error(one_click(client, unknown), 400, "invalid_token")
    expect_error(one_click(client, "short"), 400, "invalid_token")
    r = client.post(UNSUB, ONE_CLICK, origin=False,
                    content_type="application/x-www-form-urlencoded")
    expect_error(r, 400, "invalid_token")
    # the One-Click body is required
    expect_error(one_click(client, unknown, body=""), 400, "invalid_request")
    expect_error(one_click(client, unknown, body="List-Unsubscribe=Yes"), 400, "invalid_request")


def test_unsubscribe_page_reflects_no_markup(client):
    # whatever the page does with a token that is no token, it must not put
    # markup from the link into the page (SPEC section 8: a careful reviewer)
    evil = '"><b id=natomm-injected>x</b><a href=//e>'
    evil += "A" * (43 - len(evil))
    assert len(evil) == 43            # the length of a real token
    r = client.get(UNSUB + "?token=" + urllib.parse.quote(evil, safe=""))
    if r.status_code == 400:
        expect_error(r, 400, "invalid_token")
    else:
        assert r.status_code == 200, r.status_code
        assert "<b id=natomm-injected>" not in r.text, r.text
        assert '"><b' not in r.text and "<a href=//e>" not in r.text, r.text


def test_oneclick_post_from_a_browser_gets_a_page(server):
    """The module's own unsubscribe page posts a native form: a person's
    browser (Sec-Fetch-Mode: navigate) gets an HTML confirmation, not JSON;
    mail providers' one-click POSTs get JSON (tested above)."""
    account = ne.create_account(server)
    c = account.client
    seen = server.mail_names(account.email)
    assert expect_json(c.post("/account/newsletter", {"subscribe": "1"}), 200) == {
        "status": "subscribed"}
    msg = server.wait_for_mail(account.email, since=seen)
    link = str(msg["List-Unsubscribe"]).strip("<>")
    path = link[link.index("/account/"):]
    r = c.post(path, {"List-Unsubscribe": "One-Click"}, send_cookies=False,
               headers={"Sec-Fetch-Mode": "navigate", "Accept": "text/html"})
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/html")
    assert "unsubscribed" in r.text.lower()
    assert expect_json(c.session(), 200)["newsletter"] is False
