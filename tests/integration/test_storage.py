"""SPEC section 7 (storage) and section 5 "Database down: fail closed (503), never let through"."""

import glob
import os
import shutil
import sqlite3
import tempfile
import time

import pytest

import natomm_env as ne
from natomm_env import BROWSER_ACCEPT, GOOD_PASSWORD, expect_error, expect_json, unique_email

VIDEO = "/videos/sample.mp4"


def snapshot_db(server):
    """Copy the SQLite file (+ -wal/-shm) and open the copy; never touch the live one."""
    tmp = tempfile.mkdtemp(prefix="natomm-it-dbcopy-")
    for f in glob.glob(server.db_path + "*"):
        shutil.copy(f, os.path.join(tmp, os.path.basename(f)))
    db = sqlite3.connect(os.path.join(tmp, os.path.basename(server.db_path)))
    return db, tmp


def all_text_values(db):
    out = []
    tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    for t in tables:
        cur = db.execute('SELECT * FROM "%s"' % t.replace('"', '""'))
        cols = [d[0] for d in cur.description]
        for row in cur:
            for col, v in zip(cols, row):
                if isinstance(v, bytes):
                    out.append(("%s.%s" % (t, col), v.decode("latin-1")))
                elif v is not None:
                    out.append(("%s.%s" % (t, col), str(v)))
    return tables, out


def where(values, needle):
    return sorted({place for place, v in values if needle in v})


def test_schema_created_and_secrets_not_in_clear(server, account):
    assert os.path.isfile(server.db_path), "no database created at first start"
    code_client = server.client()
    addr, code, _ = ne.register_and_get_code(code_client, server)   # a pending code
    time.sleep(1.5)     # the mail was delivered; let the outbox settle
    token = list(account.client.cookies.values())[0]
    db, tmp = snapshot_db(server)
    try:
        tables, values = all_text_values(db)
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
    finally:
        db.close()
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------------------
# database down

def break_database(server):
    """Make the SQLite database unusable under the running server: garbage over the
    db file, its WAL and its shared-memory index (the children keep their file
    descriptors, so permissions alone would not do), then remove all access."""
    for f in glob.glob(server.db_path + "*"):
        size = max(os.path.getsize(f), 4096)
        with open(f, "r+b") as fh:
            fh.write(os.urandom(size))
        os.chmod(f, 0)
    os.chmod(server.var_dir, 0)


def restore_permissions(server):
    os.chmod(server.var_dir, 0o755)
    for f in glob.glob(server.db_path + "*"):
        os.chmod(f, 0o644)


@pytest.fixture
def dbdown_server(server_factory):
    srv = server_factory(name="dbdown")
    yield srv
    restore_permissions(srv)


def test_db_down_gate_fails_closed_cold_session(dbdown_server):
    srv = dbdown_server
    acc = ne.create_account(srv)   # cookie never presented to the gate
    break_database(srv)
    r = acc.client.get(VIDEO, headers={"Range": "bytes=0-99"})
    assert r.status_code not in (200, 206), "DB down but the gate let the download through"
    assert r.status_code == 503, r.status_code
    r = acc.client.get(VIDEO, headers={"Accept": BROWSER_ACCEPT})
    assert r.status_code == 503, r.status_code


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
        restore_permissions(srv)


def test_db_down_account_endpoints_503(dbdown_server):
    srv = dbdown_server
    acc = ne.create_account(srv)
    break_database(srv)
    expect_error(acc.client.session(), 503, "storage_unavailable")
    c = srv.client()
    expect_error(c.login(acc.email, GOOD_PASSWORD), 503, "storage_unavailable")
    _, r = c.register(unique_email())
    expect_error(r, 503, "storage_unavailable")
