"""SPEC section 9 (scale-out): several httpd servers on one database behave as
one site.

Two servers, A and B, share one database (NATOMM_DB=pgsql: one PostgreSQL
database; default: one SQLite file) and one file: mail folder, so that every
message is counted once whichever server delivered it.  Both run

  NatommSessionCacheTTL 2s              (the bound of a revocation on the other node)
  NatommIPLimit login-failures 3/1m

A session made on one is valid on the other, a logout on one is honoured by
the other within NatommSessionCacheTTL, throttles count across both, each mail
is sent once with both delivery watchdogs running, and two servers starting
together on a fresh database migrate it once.  See docs/scaling.md.
"""

import re
import threading
import time

import pytest

import natomm as ne
from natomm import GOOD_PASSWORD, OTHER_PASSWORD, expect_error, expect_json, unique_email

VIDEO = "/videos/sample.mp4"
CACHE_TTL = 2.0
CONF = """
NatommSessionCacheTTL 2s
NatommIPLimit login-failures 3/1m
"""


@pytest.fixture(scope="module")
def shared_db():
    db = ne.new_database("scaleout")
    yield db
    db.drop()


@pytest.fixture(scope="module")
def pair(shared_db, module_server_factory):
    """(A, B): one database, one mail folder.  (shared_db is set up before the
    factory, so the servers are stopped before the database is dropped.)"""
    a = module_server_factory(CONF, name="scale-a", db=shared_db)
    b = module_server_factory(CONF, name="scale-b", db=shared_db, mail_dir=a.mail_dir)
    return a, b


def gate(client, cookie, **kw):
    return client.get(VIDEO, cookie=cookie, headers={"Range": "bytes=0-99"}, **kw)


# ---------------------------------------------------------------------------

def test_register_on_a_verify_on_b_download_from_b(pair):
    a, b = pair
    ca, cb = a.client(), b.client()
    addr, code, _ = ne.register_and_get_code(ca, a)
    # the code mailed for A's registration is good on B, and logs in there
    assert expect_json(cb.verify(addr, code), 200) == {"status": "verified"}
    assert cb.cookies, "verify on B set no cookie"
    body = expect_json(cb.session(), 200)
    assert body["authenticated"] is True and body["email"] == addr, body

    # a session made by a login on A opens the gate of B
    ca2 = a.client()
    assert expect_json(ca2.login(addr), 200)["status"] == "logged_in"
    cookie_a = ca2.cookie_header()
    other = b.client()
    r = other.get(VIDEO, cookie=cookie_a)
    assert r.status_code == 200, (r.status_code, r.text[:200])
    assert r.content == b.video_bytes()
    r = gate(other, cookie_a)
    assert r.status_code == 206 and r.content == b.video_bytes()[:100]
    body = expect_json(other.session(cookie=cookie_a), 200)
    assert body["authenticated"] is True and body["email"] == addr, body
    # B's access log names the account that downloaded (SPEC section 5)
    deadline = time.time() + 3
    while " %s \"GET %s" % (addr, VIDEO) not in b.read_access_log():
        assert time.time() < deadline, b.read_access_log()[-1000:]
        time.sleep(0.1)

    # and the other way round: B's session on A
    r = gate(a.client(), cb.cookie_header())
    assert r.status_code == 206 and r.content == a.video_bytes()[:100]


def test_logout_on_a_honoured_by_b_within_cache_ttl(pair):
    a, b = pair
    acc = ne.create_account(a)
    cookie = acc.cookie
    cb = b.client()
    assert gate(cb, cookie).status_code == 206      # B's gate has the session cached now
    assert gate(a.client(), cookie).status_code == 206

    assert expect_json(acc.client.logout(), 200) == {"status": "logged_out"}
    t_logout = time.time()
    # the node that ended the session refuses it at once ...
    expect_error(gate(a.client(), cookie), 401, "not_authenticated")
    # ... and so does every account endpoint of every node (they ask the database)
    assert expect_json(cb.session(cookie=cookie), 200) == {"authenticated": False}
    # B's gate may serve its cached answer, but not beyond NatommSessionCacheTTL
    first_refusal = None
    while time.time() < t_logout + CACHE_TTL + 0.5:
        r = gate(cb, cookie)
        assert r.status_code in (206, 401), r.status_code
        if r.status_code == 401:
            first_refusal = first_refusal or time.time() - t_logout
        else:
            assert first_refusal is None, "allowed again after a refusal"
            assert time.time() - t_logout <= CACHE_TTL + 0.1, \
                "B still lets the session through %.2f s after the logout on A" % (
                    time.time() - t_logout)
        time.sleep(0.1)
    expect_error(gate(cb, cookie), 401, "not_authenticated")
    assert first_refusal is not None and first_refusal <= CACHE_TTL + 0.1, first_refusal


def test_throttles_count_across_servers(pair):
    a, b = pair
    acc = ne.create_account(a)
    ca = a.client()
    cb = b.client(source_ip=ca.source_ip)            # one client address, two nodes
    # limit 3 failures a minute: 2 on A and 1 on B use it up ...
    for c in (ca, ca, cb):
        expect_error(c.login(unique_email("nobody"), OTHER_PASSWORD), 401, "invalid_credentials")
    # ... so the 4th, on either node, is refused
    for c in (cb, ca):
        r = c.login(unique_email("nobody"), OTHER_PASSWORD)
        expect_error(r, 429, "rate_limited")
        assert 0 < int(r.headers.get("Retry-After", "0")) <= 60, r.headers.get("Retry-After")
    # the limit is checked before the password, on both nodes
    expect_error(cb.login(acc.email, GOOD_PASSWORD), 429, "rate_limited")
    # another client address is not limited, on either node
    assert expect_json(b.client().login(acc.email, GOOD_PASSWORD), 200)["status"] == "logged_in"
    assert expect_json(a.client().login(acc.email, GOOD_PASSWORD), 200)["status"] == "logged_in"


def test_each_mail_sent_once_with_two_watchdogs(pair):
    a, b = pair
    addrs = []
    for i in range(20):
        srv = (a, b)[i % 2]
        addr, r = srv.client().register(unique_email("once"), GOOD_PASSWORD)
        assert expect_json(r, 202)["status"] == "code_sent"
        addrs.append(addr)
    for addr in addrs:
        a.wait_for_mail(addr, timeout=15)
    # two more rounds of both delivery watchdogs (one a second) for any duplicate
    time.sleep(2.5)
    counts = {addr: a.count_mail(addr) for addr in addrs}
    assert all(n == 1 for n in counts.values()), \
        {k: v for k, v in counts.items() if v != 1}
    # the outbox agrees: one row per address, delivered
    rows = a.db_rows("SELECT recipient, sent_at FROM natomm_outbox")
    for addr in addrs:
        mine = [r for r in rows if addr.lower() in str(r[0]).lower()]
        assert len(mine) == 1 and mine[0][1] is not None, (addr, mine)


# ---------------------------------------------------------------------------
# migration: two servers starting at the same moment on a fresh database

@pytest.fixture
def fresh_db():
    db = ne.new_database("migrate")
    yield db
    db.drop()


def test_two_servers_starting_together_migrate_once(fresh_db, server_factory):
    a = server_factory(CONF, name="mig-a", db=fresh_db, start=False)
    b = server_factory(CONF, name="mig-b", db=fresh_db, mail_dir=a.mail_dir, start=False)
    barrier = threading.Barrier(2)
    errors, answers = [], []

    def hit(srv):
        r = srv.client().session()
        answers.append((srv.name, r.status_code, r.text[:120]))

    def boot(srv):
        try:
            barrier.wait(timeout=10)
            srv.start()
            # and use the database at once, from several threads of each server
            hits = [threading.Thread(target=hit, args=(srv,)) for _ in range(4)]
            for t in hits:
                t.start()
            for t in hits:
                t.join()
        except Exception as e:          # reported below
            errors.append((srv.name, e))

    threads = [threading.Thread(target=boot, args=(s,)) for s in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    # the requests that raced with the migration were answered normally
    assert len(answers) == 8 and all(a[1] == 200 for a in answers), answers

    for srv in (a, b):
        assert expect_json(srv.client().session(), 200) == {"authenticated": False}
    assert fresh_db.rows("SELECT value FROM natomm_meta WHERE name = ?",
                         ("schema_version",)) == [("3",)]
    assert len(fresh_db.rows("SELECT value FROM natomm_meta WHERE name = ?",
                             ("code_key",))) == 1
    logs = a.read_error_log() + b.read_error_log()
    migrated = re.findall(r"^.*schema migrated.*$", logs, re.MULTILINE)
    assert len(migrated) == 1, migrated
    assert "from version 0 to 3" in migrated[0], migrated
    assert not re.search(r"\[natomm:(error|crit|alert|emerg)\]", logs), \
        [l for l in logs.splitlines() if "[natomm:" in l and ":error]" in l][:5]

    # both serve, as one site
    ca = a.client()
    addr, code, _ = ne.register_and_get_code(ca, a)
    assert expect_json(b.client().verify(addr, code), 200) == {"status": "verified"}
    assert expect_json(a.client().login(addr), 200)["status"] == "logged_in"
    assert expect_json(b.client().login(addr), 200)["status"] == "logged_in"
