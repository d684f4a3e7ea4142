"""SPEC section 3: password hashes are argon2id (t=2, m=19456 KiB, p=1,
16-byte salt) as PHC strings, rehashed at login when the parameters change,
with at most NatommHashConcurrency hashes at once per process."""

import threading
import time

import natomm as ne
from natomm import GOOD_PASSWORD, expect_json


def stored_hash(server, addr):
    rows = server.db_rows("SELECT password_hash FROM natomm_account WHERE email_norm = ?",
                          (addr.lower(),))
    assert rows, "no account row for %s" % addr
    return rows[0][0]


def test_phc_strings_with_default_parameters_and_unique_salts(server):
    a = ne.create_account(server)
    b = ne.create_account(server)
    ha, hb = stored_hash(server, a.email), stored_hash(server, b.email)
    for h in (ha, hb):
        assert h.startswith("$argon2id$v=19$m=19456,t=2,p=1$"), h
        salt = h.split("$")[4]
        # 16 bytes of salt: 22 characters of unpadded base64
        assert len(salt) == 22, h
    assert ha.split("$")[4] != hb.split("$")[4], "two accounts share a salt"
    assert GOOD_PASSWORD not in ha


def test_rehash_at_login_when_parameters_change(server_factory):
    srv = server_factory(name="rehash")
    acc = ne.create_account(srv)
    before = stored_hash(srv, acc.email)
    assert before.startswith("$argon2id$v=19$m=19456,t=2,p=1$"), before

    srv.stop()
    srv.extra_conf = "NatommArgon2 1 8192 1\n"
    srv.write_config()
    srv.start()

    c = srv.client()
    r = c.login(acc.email, GOOD_PASSWORD)
    assert expect_json(r, 200)["status"] == "logged_in"
    after = stored_hash(srv, acc.email)
    assert after.startswith("$argon2id$v=19$m=8192,t=1,p=1$"), after
    # the new hash is the same password
    r = srv.client().login(acc.email, GOOD_PASSWORD)
    assert expect_json(r, 200)["status"] == "logged_in"
    assert stored_hash(srv, acc.email) == after, "rehashed again without a change"


def test_concurrent_logins_under_a_bound_of_one_hash(server_factory):
    srv = server_factory("NatommHashConcurrency 1\n", name="hash1", servers=1)
    accounts = [ne.create_account(srv) for _ in range(3)]
    results = []

    def login(acc):
        r = srv.client().login(acc.email, GOOD_PASSWORD)
        results.append(r.status_code)

    threads = [threading.Thread(target=login, args=(a,)) for a in accounts * 2]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results == [200] * 6, results


def test_429_for_want_of_a_hash_slot_is_not_a_failure(server_factory):
    """A login that waited NatommHashWait for a slot and got 429 judged no
    password: it must not count against the owner (else a flood of other
    logins would lock the owner out with the owner's own attempts)."""
    srv = server_factory("NatommHashConcurrency 1\nNatommHashWait 1s\n"
                         "NatommArgon2 3 65536 1\n", name="hashslot", servers=1)
    acc = ne.create_account(srv)
    owner_ip = ne.next_source_ip()
    stop = threading.Event()

    def flood():
        while not stop.is_set():
            # unknown addresses from fresh clients: hashes, and no per-IP limit
            srv.client(source_ip=ne.next_source_ip()).login(
                ne.unique_email("flood"), GOOD_PASSWORD)

    threads = [threading.Thread(target=flood) for _ in range(10)]
    for t in threads:
        t.start()
    # the owner mistypes: a judged attempt (401) counts one, a 429 none; a
    # fresh client after each 401 keeps the pair below its lockout
    n401, n429, answers = 0, 0, []
    try:
        deadline = time.time() + 90
        while n429 < 6 and time.time() < deadline:
            r = srv.client(source_ip=owner_ip).login(acc.email, GOOD_PASSWORD + "x")
            answers.append(r.status_code)
            assert r.status_code in (401, 429), (r.status_code, r.text)
            if r.status_code == 429:
                assert r.headers.get("Retry-After") == "1"
                n429 += 1
            else:
                n401 += 1
                owner_ip = ne.next_source_ip()
        assert n429 >= 6, answers
    finally:
        stop.set()
        for t in threads:
            t.join(60)
    assert srv.db_rows("SELECT failed_logins FROM natomm_account"
                       " WHERE email_norm = ?", (acc.email.lower(),)) == [(n401,)], answers
    assert srv.db_rows("SELECT coalesce(sum(l.failures), 0) FROM natomm_lock l"
                       " JOIN natomm_account a ON a.id = l.account_id"
                       " WHERE a.email_norm = ?", (acc.email.lower(),)) == [(n401,)], answers
    r = srv.client(source_ip=owner_ip).login(acc.email, GOOD_PASSWORD)
    assert expect_json(r, 200)["status"] == "logged_in", answers


def test_configtest_refuses_bad_hash_settings(server_factory):
    for line, name in (("NatommArgon2 0 19456 1", "NatommArgon2"),
                       ("NatommArgon2 2 1024 1", "NatommArgon2"),
                       ("NatommArgon2 2 19456", "NatommArgon2"),
                       ("NatommHashConcurrency 0", "NatommHashConcurrency")):
        srv = server_factory(line + "\n", name="hashconf", start=False)
        rc, out = srv.configtest()
        assert rc != 0, (line, out)
        assert name in out, (line, out)
