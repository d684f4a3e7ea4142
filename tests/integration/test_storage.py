"""SPEC section 7 (storage) and section 5 "Database down: fail closed (503), never let through"."""

import time

import pytest

import natomm as ne
from natomm import BROWSER_ACCEPT, GOOD_PASSWORD, expect_error, unique_email

VIDEO = "/videos/sample.mp4"


def all_text_values(server):
    """Every non-NULL value of every table (read-only, SQLite or PostgreSQL),
    as ("table[#column]", text)."""
    out = []
    tables = server.db_tables()
    for t in tables:
        for row in server.db_rows('SELECT * FROM "%s"' % t.replace('"', '""')):
            for i, v in enumerate(row):
                if isinstance(v, bytes):
                    out.append(("%s#%d" % (t, i), v.decode("latin-1")))
                elif v is not None:
                    out.append(("%s#%d" % (t, i), str(v)))
    return tables, out


def where(values, needle):
    return sorted({place for place, v in values if needle in v})


def test_schema_created_and_secrets_not_in_clear(server, account):
    assert server.db_exists() and "natomm_account" in server.db_tables(), \
        "no database created at first start"
    code_client = server.client()
    addr, code, _ = ne.register_and_get_code(code_client, server)   # a pending code
    time.sleep(1.5)     # the mail was delivered; let the outbox settle
    token = list(account.client.cookies.values())[0]
    tables, values = all_text_values(server)
    assert tables, "schema missing"
    assert not where(values, GOOD_PASSWORD), "password stored in the clear"
    assert where(values, "$argon2id$v=19$m=19456,t=2,p=1$"), \
        "no argon2id PHC string with the SPEC parameters"
    # (the outbox of SPEC section 6 must hold the mail until it is delivered;
    # once delivered, nothing keeps the code in the clear)
    for variant in (code, code.replace("-", "")):
        assert not where(values, variant), \
            "code stored in the clear after the mail was delivered: %s" % where(values, variant)
    assert not where(values, token), "session token stored in the clear"
    assert where(values, addr), "address as typed is kept"


# ---------------------------------------------------------------------------
# database down

def break_database(server):
    """The database becomes unusable under the running server (SQLite: garbage
    over the file and no permissions; PostgreSQL: the server's database refuses
    connections and its open ones are ended).  See natomm/db.py."""
    server.break_database()


def restore_database(server):
    server.restore_database()


@pytest.fixture
def dbdown_server(server_factory):
    srv = server_factory(name="dbdown")
    yield srv
    restore_database(srv)


# each test below logs the failed queries of a broken database
db_down = pytest.mark.expect_log(*ne.DATABASE_DOWN)


@db_down
def test_db_down_gate_fails_closed_cold_session(dbdown_server):
    srv = dbdown_server
    acc = ne.create_account(srv)   # cookie never presented to the gate
    break_database(srv)
    r = acc.client.get(VIDEO, headers={"Range": "bytes=0-99"})
    assert r.status_code not in (200, 206), "DB down but the gate let the download through"
    assert r.status_code == 503, r.status_code
    r = acc.client.get(VIDEO, headers={"Accept": BROWSER_ACCEPT})
    assert r.status_code == 503, r.status_code


@db_down
def test_db_down_gate_fails_closed_warm_session(dbdown_server):
    srv = dbdown_server
    acc = ne.create_account(srv)
    assert acc.client.get(VIDEO, headers={"Range": "bytes=0-0"}).status_code == 206
    break_database(srv)
    # the session is in the gate's cache; the module's health check (the mail
    # watchdog, every second) marks the database down for every process,
    # and from then on even cached sessions are refused (docs/security.md)
    time.sleep(1.5)
    r = acc.client.get(VIDEO, headers={"Range": "bytes=0-99"})
    assert r.status_code not in (200, 206), "DB down but the gate let the download through"
    assert r.status_code == 503, r.status_code


@db_down
def test_db_down_warm_session_fails_closed_after_cache_ttl(server_factory):
    # the module caches session validity in socache (SPEC section 5); whatever
    # the cache says, once its TTL has passed a DB outage must give 503
    srv = server_factory("NatommSessionCacheTTL 2s\n", name="dbdown-ttl")
    try:
        acc = ne.create_account(srv)
        assert acc.client.get(VIDEO, headers={"Range": "bytes=0-0"}).status_code == 206
        break_database(srv)
        time.sleep(2.6)
        r = acc.client.get(VIDEO, headers={"Range": "bytes=0-99"})
        assert r.status_code == 503, r.status_code
    finally:
        restore_database(srv)


@db_down
def test_db_down_account_endpoints_503(dbdown_server):
    srv = dbdown_server
    acc = ne.create_account(srv)
    break_database(srv)
    expect_error(acc.client.session(), 503, "storage_unavailable")
    c = srv.client()
    expect_error(c.login(acc.email, GOOD_PASSWORD), 503, "storage_unavailable")
    _, r = c.register(unique_email())
    expect_error(r, 503, "storage_unavailable")
