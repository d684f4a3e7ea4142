"""Accounts made through the API: register, read the code, verify."""

import re
import time

from .checks import expect_json
from .env import GOOD_PASSWORD, unique_email
from .mail import extract_code, mail_text

class Account:
    def __init__(self, email_addr, password, client):
        self.email = email_addr
        self.password = password
        self.client = client

    @property
    def cookie(self):
        return self.client.cookie_header()


def register_and_get_code(client, server, email_addr=None, password=GOOD_PASSWORD,
                          digits=None, **fields):
    email_addr = email_addr or unique_email()
    seen = server.mail_names(email_addr)
    email_addr, r = client.register(email_addr, password, **fields)
    assert r.status_code == 202, r.text
    msg = server.wait_for_mail(email_addr, since=seen)
    code = extract_code(msg, digits=digits)
    assert code, "no code line in mail:\n%s" % mail_text(msg)
    return email_addr, code, msg


def create_accounts(server, n, prefix="j"):
    """n verified accounts, registered together so that one mail tick serves
    all; each Account's client holds its session cookie."""
    clients = [server.client() for _ in range(n)]
    addrs, seen = [], []
    for c in clients:
        addr = unique_email(prefix)
        seen.append(server.mail_names(addr))
        _, r = c.register(addr, GOOD_PASSWORD)
        assert expect_json(r, 202)["status"] == "code_sent"
        addrs.append(addr)
    out = []
    for c, addr, s in zip(clients, addrs, seen):
        code = extract_code(server.wait_for_mail(addr, since=s))
        assert code
        assert expect_json(c.verify(addr, code), 200) == {"status": "verified"}
        out.append(Account(addr, GOOD_PASSWORD, c))
    return out


def account_id(server, addr):
    """The database id of the account for an address (as text)."""
    rows = server.db_rows("SELECT id FROM natomm_account WHERE email_norm = ?",
                          (addr.lower(),))
    assert rows, "no account row for %s" % addr
    return str(rows[0][0])


def wait_event(server, event, account, ip, timeout=3.0):
    """Wait for the error-log line of an account event."""
    pat = re.compile(r"NATOMM: event=%s account=%s ip=%s\b" % (
        re.escape(event), re.escape(str(account)), re.escape(ip)))
    deadline = time.time() + timeout
    while not pat.search(server.read_error_log()):
        if time.time() > deadline:
            raise AssertionError("no log line 'event=%s account=%s ip=%s'" % (event, account, ip))
        time.sleep(0.1)


def create_account(server, client=None, email_addr=None, password=GOOD_PASSWORD, **fields):
    """Register + verify; returns an Account whose client holds the session cookie."""
    client = client or server.client()
    email_addr, code, _ = register_and_get_code(client, server, email_addr, password, **fields)
    r = client.verify(email_addr, code)
    assert r.status_code == 200, r.text
    assert client.cookies, "verify set no cookie"
    return Account(email_addr, password, client)
