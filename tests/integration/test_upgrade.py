"""Upgrade from released builds (SPEC section 7: "migrated on upgrade, with a
version number. No manual SQL step").

For older commits of this repository that each left a different database
shape, the test builds that commit's module from git (`git archive | tar`,
then its own `make`; cached under tests/output/upgrade/<commit>/), runs it on
a fresh database of the session's kind (SQLite, or PostgreSQL with
NATOMM_DB=pgsql), makes two verified accounts, three live sessions and one
queued, undelivered mail (the mail folder is made unwritable for the old
server's children, so the delivery fails and the row stays queued: the
oldest build has only the file: transport), stops it, and starts the current
module on the same database and mail folder.  The current module must
migrate once (schema_version 3, one "schema migrated" line), keep every row
of natomm_account, natomm_session, natomm_outbox and natomm_code, deliver
the queued mail (whose code then verifies), let the old password log in and
the old session cookies through the gate.

The old builds are driven only through what they had: register, verify,
login, session and the gate, and their answers are checked by status code.
On PostgreSQL, the two builds before d401f8a could not verify (they read
SQL NULL as "", and their login let an unverified account in): there the
sessions come from that login, and the codes they mailed are entered after
the upgrade, which must accept them.

Time: the first run builds the four old modules (about 12 s in all); then
the whole file takes about 45 s on either driver, most of it the old
builds' 30 s retry wait of the failed delivery, which runs out while the
other commits are prepared.  If the git history is missing (a shallow
clone), the test fails and says so; nothing is skipped.
"""

import fcntl
import os
import re
import shutil
import subprocess
import tarfile
import time

import pytest

import natomm as ne
from natomm import GOOD_PASSWORD, expect_json

# commit, and the shape of the database it leaves
OLD_BUILDS = [
    ("699278e", "schema 1: no natomm_code.payload, natomm_outbox.next_attempt_at"),
    ("242fdf4", "schema 2 (failed_at), no payload, next_attempt_at"),
    ("54bf99a", "schema 2, payload, next_attempt_at"),
    ("2392413", "schema 2, payload, next_attempt_ms"),
]
CACHE = os.path.join(ne.REPO, "tests", "output", "upgrade")
TABLES = ("natomm_account", "natomm_session", "natomm_outbox", "natomm_code")


def _git(*args):
    return subprocess.run(["git", "-C", ne.REPO] + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)


def old_module(commit):
    """The .so of `commit`, built from git once and kept in tests/output."""
    p = _git("rev-parse", "--verify", "--quiet", commit + "^{commit}")
    if p.returncode != 0:
        pytest.fail("test_upgrade needs the git history of this repository: commit %s is "
                    "not in %s (a shallow clone? run `git fetch --unshallow`)"
                    % (commit, ne.REPO), pytrace=False)
    sha = p.stdout.strip()
    tree = os.path.join(CACHE, sha)
    so = os.path.join(tree, ".libs", "mod_natomm.so")
    os.makedirs(CACHE, exist_ok=True)
    with open(os.path.join(CACHE, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.isfile(so):
            return so, tree
        work = tree + ".tmp"
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
        arch = subprocess.run(["git", "-C", ne.REPO, "archive", "--format=tar", sha],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if arch.returncode != 0:
            pytest.fail("git archive %s failed: %s" % (commit, arch.stderr.decode()),
                        pytrace=False)
        import io
        with tarfile.open(fileobj=io.BytesIO(arch.stdout)) as tf:
            tf.extractall(work)
        mk = subprocess.run(["make", "-C", work, "all"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
        if mk.returncode != 0 or not os.path.isfile(os.path.join(work, ".libs",
                                                                 "mod_natomm.so")):
            pytest.fail("building %s failed (make exited %d):\n%s"
                        % (commit, mk.returncode, mk.stdout[-4000:]), pytrace=False)
        shutil.rmtree(tree, ignore_errors=True)
        os.rename(work, tree)
    return so, tree


def natomm_block(server, templates, transport):
    """The Natomm directives of HttpdServer, with the old tree's templates."""
    return "\n".join([
        'NatommSiteName "%s"' % ne.SITE_NAME,
        'NatommMailFrom "NATO Multimedia <no-reply@example.org>"',
        "NatommMailTransport %s" % transport,
        "NatommMailTemplates %s" % templates,
        "NatommLoginPage /login.html",
        "<Location /account>",
        "    SetHandler natomm",
        "</Location>",
        '<Directory "%s/htdocs/videos">' % server.root,
        "    AuthType natomm",
        "    Require valid-user",
        "</Directory>",
    ])


def counts(db):
    return {t: db.rows("SELECT COUNT(*) FROM %s" % t)[0][0] for t in TABLES}


def snapshot(db):
    """The rows that must survive, by identity."""
    return {
        "accounts": sorted(db.rows("SELECT id, email, email_norm, password_hash, verified_at"
                                   " FROM natomm_account")),
        "sessions": sorted(db.rows("SELECT token_hash, account_id, expires_at"
                                   " FROM natomm_session")),
        "outbox": sorted(db.rows("SELECT id, recipient, created_at FROM natomm_outbox")),
        "codes": sorted(db.rows("SELECT id, account_id, purpose, code_mac FROM natomm_code")),
    }


def gate_ok(client, cookie):
    r = client.get("/videos/sample.mp4", cookie=cookie, headers={"Range": "bytes=0-99"})
    return r.status_code in (200, 206), r.status_code


def pg_verify_works(commit):
    """Whether the build reads SQL NULL as NULL on PostgreSQL (d401f8a):
    before it an unverified account looked verified and verify failed."""
    return _git("merge-base", "--is-ancestor", "d401f8a", commit).returncode == 0


class Old:
    """What one old build left in its database."""

    def __init__(self, commit, shape):
        self.commit, self.shape = commit, shape


def prepare(commit, shape):
    so, tree = old_module(commit)
    old = Old(commit, shape)
    old.db = ne.new_database("upg-" + commit)
    srv = ne.HttpdServer(name="old-" + commit, module_path=so, db=old.db)
    srv.natomm_conf = natomm_block(srv, os.path.join(tree, "conf", "mail"),
                                   "file:%s" % srv.mail_dir)
    srv.write_config()
    old.server = srv
    srv.start()
    try:
        # two verified accounts (verify logs in), a second session by login
        old.accounts = []
        old.unverified = {}
        for _ in range(2):
            c = srv.client()
            addr = ne.unique_email("upg")
            _, r = c.register(addr, GOOD_PASSWORD)
            assert r.status_code == 202, (commit, r.status_code, r.text)
            code = ne.extract_code(srv.wait_for_mail(addr))
            assert code, "no code in the mail of %s" % commit
            r = c.verify(addr, code)
            if old.db.kind == "pgsql" and not pg_verify_works(commit):
                # its verify never worked on PostgreSQL (a NULL read as "",
                # fixed by d401f8a), and its login let the unverified
                # account in: the session comes from that login, and the
                # code the old build mailed is entered after the upgrade
                assert r.status_code == 400, (commit, r.status_code, r.text)
                old.unverified[addr] = code
                r = c.login(addr, GOOD_PASSWORD)
            assert r.status_code == 200 and c.cookies, (commit, r.status_code, r.text)
            old.accounts.append((addr, c.cookie_header()))
        c2 = srv.client()
        r = c2.login(old.accounts[0][0], GOOD_PASSWORD)
        assert r.status_code == 200 and c2.cookies, (commit, r.status_code, r.text)
        old.cookies = [a[1] for a in old.accounts] + [c2.cookie_header()]
        for ck in old.cookies:
            ok, st = gate_ok(srv.client(), ck)
            assert ok, "the old build %s's own gate answered %d" % (commit, st)
            r = srv.client().session(cookie=ck)
            assert r.status_code == 200 and r.json().get("authenticated") is True, r.text

        # a queued mail that cannot be delivered: the folder is read-only
        # for the children (www-data), so the delivery fails and is retried
        os.chmod(srv.mail_dir, 0o555)
        old.pending = ne.unique_email("upg-pending")
        _, r = srv.client().register(old.pending, GOOD_PASSWORD)
        assert r.status_code == 202, (commit, r.status_code, r.text)
        deadline = time.time() + 15
        while True:
            rows = old.db.rows("SELECT attempts, sent_at FROM natomm_outbox WHERE recipient = ?",
                               (old.pending,))
            if rows and rows[0][0] >= 1:
                break
            assert time.time() < deadline, "the old build never tried the mail: %r" % rows
            time.sleep(0.2)
        assert rows[0][1] is None, rows
    finally:
        srv.stop()
        os.chmod(srv.mail_dir, 0o755)
    old.queued_at = time.time()
    old.version = old.db.rows("SELECT value FROM natomm_meta WHERE name = 'schema_version'")
    old.counts = counts(old.db)
    old.snapshot = snapshot(old.db)
    return old


@pytest.fixture(scope="module")
def old_databases():
    """Every old build's database, prepared before the first upgrade so that
    the old builds' retry waits run out together."""
    made = {}
    try:
        for commit, shape in OLD_BUILDS:
            made[commit] = prepare(commit, shape)
        yield made
    finally:
        for old in made.values():
            old.server.cleanup()
            old.db.drop()


@pytest.mark.parametrize("commit", [c for c, _ in OLD_BUILDS])
def test_upgrade_keeps_everything(old_databases, commit, module_so):
    old = old_databases[commit]
    assert old.version and old.version[0][0] in ("1", "2"), (commit, old.version)
    assert old.counts["natomm_account"] == 3 and old.counts["natomm_session"] == 3, old.counts
    assert old.counts["natomm_outbox"] == 3, old.counts

    new = ne.HttpdServer(name="new-" + commit, module_path=module_so, db=old.db,
                         mail_dir=old.server.mail_dir)
    new.start()
    try:
        # the first connection (the watchdog's first tick) migrates
        deadline = time.time() + 15
        while old.db.rows("SELECT value FROM natomm_meta WHERE name = 'schema_version'") \
                != [("3",)]:
            assert time.time() < deadline, "%s: not migrated to 3 within 15 s" % commit
            time.sleep(0.2)
        # nothing lost, before any request
        assert counts(old.db) == old.counts, (commit, old.shape)
        assert snapshot(old.db) == old.snapshot, (commit, old.shape)
        deadline = time.time() + 5
        while True:     # the line follows the commit
            migrated = re.findall(r"^.*schema migrated.*$", new.read_error_log(), re.MULTILINE)
            if migrated or time.time() > deadline:
                break
            time.sleep(0.1)
        assert len(migrated) == 1, migrated
        assert "from version %s to 3" % old.version[0][0] in migrated[0], migrated

        # accounts the old build could not verify (PostgreSQL before
        # d401f8a): the code it mailed still works after the upgrade
        for addr, code in old.unverified.items():
            assert expect_json(new.client().verify(addr, code), 200) == {"status": "verified"}
        # the old sessions still open the gate and say who they are
        for (addr, _), ck in zip(old.accounts + [old.accounts[0]], old.cookies):
            ok, st = gate_ok(new.client(), ck)
            assert ok, "%s: an old session cookie got %d at the gate" % (commit, st)
            body = expect_json(new.client().session(cookie=ck), 200)
            assert body.get("authenticated") is True and body.get("email") == addr, body

        # the queued mail is delivered now (after the old build's retry wait)
        wait = max(0.0, old.queued_at + 45 - time.time())
        msg = new.wait_for_mail(old.pending, timeout=wait + 15)
        code = ne.extract_code(msg)
        assert code, ne.mail_text(msg)
        c = new.client()
        assert expect_json(c.verify(old.pending, code), 200) == {"status": "verified"}
        rows = old.db.rows("SELECT sent_at FROM natomm_outbox WHERE recipient = ?",
                           (old.pending,))
        assert rows and rows[0][0] is not None, rows

        # the old password logs in
        for addr, _ in old.accounts:
            body = expect_json(new.client().login(addr, GOOD_PASSWORD), 200)
            assert body["status"] == "logged_in", body
        # and still no row of before is gone
        after = snapshot(old.db)
        for key in ("accounts", "outbox"):
            ids = {r[0] for r in after[key]}
            assert all(r[0] in ids for r in old.snapshot[key]), (key, commit)
        hashes = {r[0] for r in after["sessions"]}
        assert all(r[0] in hashes for r in old.snapshot["sessions"]), commit
    finally:
        new.stop()
        new.cleanup()
