"""SPEC section 4: POST /account/delete (password).

200 {"status":"deleted"}; the account, its sessions and codes are removed and
the cookie cleared; the address can then register again as a new one."""

import time

import pytest

import natomm as ne
from natomm import GOOD_PASSWORD, OTHER_PASSWORD, expect_error, expect_json

VIDEO = "/videos/sample.mp4"


def delete(client, password, **kw):
    return client.post("/account/delete", {"password": password}, **kw)


# The resend limit (per address, SPEC section 3) also covers the code of a new
# registration; a short interval lets the deleted address register again here.
@pytest.fixture(scope="module")
def server(module_server_factory):
    return module_server_factory("NatommResendInterval 1s\n", name="delete")


@pytest.fixture(scope="module")
def accounts(server):
    accs = ne.create_accounts(server, 2)
    accs[0].t_registered = accs[1].t_registered = time.time()
    return accs


@pytest.fixture
def client(server):
    c = server.client()
    yield c
    c.close()


def test_delete_needs_session(client):
    expect_error(delete(client, GOOD_PASSWORD), 401, "not_authenticated")


def test_delete_refusals_keep_account(server, accounts):
    acc = accounts[0]
    c = acc.client
    r = delete(c, OTHER_PASSWORD)
    expect_error(r, 401, "invalid_credentials")
    assert not [x for x in ne.set_cookies(r) if x[0].endswith("natomm_session")]
    expect_error(c.post("/account/delete", {}), 400, "invalid_request")
    expect_error(delete(c, GOOD_PASSWORD, origin="http://evil.example"), 403, "forbidden_origin")
    expect_error(delete(c, GOOD_PASSWORD, origin=False,
                        headers={"Sec-Fetch-Site": "cross-site"}), 403, "forbidden_origin")
    assert expect_json(c.session(), 200)["authenticated"] is True
    assert expect_json(server.client().login(acc.email), 200)["status"] == "logged_in"


def test_delete_removes_everything(server, accounts):
    acc = accounts[1]
    a = acc.client
    b = server.client()
    assert expect_json(b.login(acc.email, remember="1"), 200)["status"] == "logged_in"
    aid = ne.account_id(server, acc.email)
    name = list(a.cookies)[0]
    cookie_a, cookie_b = a.cookie_header(), b.cookie_header()

    r = delete(a, GOOD_PASSWORD)
    assert expect_json(r, 200) == {"status": "deleted"}
    cleared = [x for x in ne.set_cookies(r) if x[0] == name]
    assert cleared, "delete did not clear the cookie: %r" % ne.set_cookie_headers(r)
    _, value, attrs = cleared[0]
    assert value == "" or ne.cookie_is_deletion(value, attrs), attrs
    assert attrs.get("path") == "/", attrs
    assert not a.cookies

    other = server.client()
    for ck in (cookie_a, cookie_b):
        assert expect_json(other.session(cookie=ck), 200) == {"authenticated": False}
    expect_error(other.login(acc.email, GOOD_PASSWORD), 401, "invalid_credentials")
    ne.wait_event(server, "delete", aid, a.source_ip)

    for table, col in (("natomm_account", "id"), ("natomm_session", "account_id"),
                       ("natomm_code", "account_id"), ("natomm_reset_token", "account_id")):
        n = server.db_rows("SELECT COUNT(*) FROM %s WHERE %s = ?" % (table, col), (int(aid),))[0][0]
        assert n == 0, "%d row(s) of the deleted account left in %s" % (n, table)

    # the address is free again: a new registration gets a code, not
    # "you already have an account"
    time.sleep(max(0.0, acc.t_registered + 1.2 - time.time()))
    seen = server.mail_names(acc.email)
    c = server.client()
    _, r = c.register(acc.email, OTHER_PASSWORD)
    assert expect_json(r, 202)["status"] == "code_sent"
    msg = server.wait_for_mail(acc.email, since=seen)
    assert "verification code" in str(msg["Subject"]), msg["Subject"]
    code = ne.extract_code(msg)
    assert code, ne.mail_text(msg)
    assert expect_json(c.verify(acc.email, code), 200) == {"status": "verified"}
    assert ne.account_id(server, acc.email) != aid
    assert expect_json(server.client().login(acc.email, OTHER_PASSWORD), 200)["status"] == "logged_in"
    expect_error(server.client().login(acc.email, GOOD_PASSWORD), 401, "invalid_credentials")
