"""SPEC section 10, issue 15: natommctl against the database of a running
httpd (SQLite, or PostgreSQL with NATOMM_DB=pgsql): disable, enable, logout,
delete, find, show, the exports, the exit codes, the configuration reader
(Include, IncludeOptional, globs, ServerRoot, <IfModule>, virtual hosts),
and the log line of every action.
"""

import csv
import io
import os
import re
import subprocess
import tempfile
import time

import pytest

import natomm as ne
from natomm import GOOD_PASSWORD, expect_error, expect_json, unique_email

CTL = os.path.join(ne.REPO, "build", "natommctl")
PUBLIC = "https://media.example.org"
# the default bound; the watchdog reads revocations at half of it
REVOCATION = 2.0


def run_ctl(*args, conf=None, timeout=30):
    cmd = [CTL] + (["-f", conf] if conf else []) + list(args)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout, stdin=subprocess.DEVNULL,
                       env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
    # bytes decoded as they are: CSV records end with CRLF
    return p.returncode, p.stdout.decode("utf-8"), p.stderr.decode("utf-8")


@pytest.fixture(scope="module")
def ctl_built():
    p = subprocess.run(["make", "-C", ne.REPO, "build/natommctl"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    assert p.returncode == 0, p.stdout[-3000:]
    return CTL


@pytest.fixture(scope="module")
def srv(module_server_factory, ctl_built):
    return module_server_factory("NatommPublicURL %s\n" % PUBLIC, name="ctl")


def ctl(srv, *args):
    return run_ctl(*args, conf=srv.conf_path)


def gate_status(client):
    return client.get("/videos/sample.mp4", headers={"Range": "bytes=0-9"}).status_code


def wait_refused(client, limit):
    """Seconds until the gate refuses the client's cookie (fails after limit)."""
    t0 = time.time()
    while gate_status(client) != 401:
        assert time.time() - t0 < limit, "the gate still lets the cookie through"
        time.sleep(0.1)
    return time.time() - t0


def test_disable_refuses_login_and_ends_sessions(srv):
    acc = ne.create_account(srv)
    other = srv.client()
    expect_json(other.login(acc.email), 200)
    assert gate_status(acc.client) == 206 and gate_status(other) == 206   # cached now
    aid = ne.account_id(srv, acc.email)

    t0 = time.time()
    rc, out, err = ctl(srv, "disable", acc.email)
    assert rc == 0, (out, err)
    assert "disabled" in out and "2 session(s) ended" in out, out
    assert re.search(r"^natommctl: event=disable account=%s by=root\b" % aid, err, re.M), err
    # both cookies stop within the revocation bound, on every process
    waited = max(wait_refused(acc.client, REVOCATION + 1.0),
                 wait_refused(other, REVOCATION + 1.0))
    assert time.time() - t0 <= REVOCATION + 1.0, waited
    assert expect_json(acc.client.session(), 200) == {"authenticated": False}
    # the right password: the answer of a wrong one
    c = srv.client()
    expect_error(c.login(acc.email), 401, "invalid_credentials")
    expect_error(c.login(acc.email, "Wrong-Passw0rd!x"), 401, "invalid_credentials")
    rows = srv.db_rows("SELECT disabled_at FROM natomm_account WHERE id = ?", (int(aid),))
    assert rows[0][0] and abs(rows[0][0] - time.time()) < 60
    # again: still 0, says so
    rc, out, _ = ctl(srv, "disable", acc.email)
    assert rc == 0 and "already disabled" in out

    rc, out, err = ctl(srv, "enable", acc.email)
    assert rc == 0 and "enabled" in out, (out, err)
    assert "event=enable account=%s" % aid in err
    expect_json(c.login(acc.email), 200)
    assert gate_status(c) == 206
    for x in (acc.client, other, c):
        x.close()


def test_logout_ends_every_session_and_link(srv):
    acc = ne.create_account(srv)
    second = srv.client()
    expect_json(second.login(acc.email), 200)
    assert gate_status(acc.client) == 206 and gate_status(second) == 206
    before = srv.db_rows("SELECT links_after FROM natomm_account WHERE email_norm = ?",
                         (acc.email.lower(),))[0][0]
    rc, out, err = ctl(srv, "logout", acc.email)
    assert rc == 0 and "2 session(s) ended" in out, (out, err)
    assert "event=admin_logout account=" in err
    wait_refused(acc.client, REVOCATION + 1.0)
    wait_refused(second, REVOCATION + 1.0)
    aid = int(ne.account_id(srv, acc.email))
    assert srv.db_rows("SELECT COUNT(*) FROM natomm_session WHERE account_id = ?",
                       (aid,))[0][0] == 0
    after = srv.db_rows("SELECT links_after FROM natomm_account WHERE id = ?", (aid,))[0][0]
    assert after > before and abs(after / 1000 - time.time()) < 60
    assert srv.db_rows("SELECT COUNT(*) FROM natomm_revocation WHERE account_id = ?",
                       (aid,))[0][0] >= 1
    # not disabled: a new login works
    expect_json(acc.client.login(acc.email), 200)
    assert gate_status(acc.client) == 206
    acc.client.close()
    second.close()


def test_delete(srv):
    acc = ne.create_account(srv)
    assert gate_status(acc.client) == 206
    aid = ne.account_id(srv, acc.email)
    rc, out, err = ctl(srv, "delete", acc.email)
    assert rc == 0 and "deleted" in out, (out, err)
    assert "event=admin_delete account=%s" % aid in err
    wait_refused(acc.client, REVOCATION + 1.0)
    assert srv.db_rows("SELECT COUNT(*) FROM natomm_account WHERE id = ?", (int(aid),)) \
        == [(0,)]
    assert srv.db_rows("SELECT COUNT(*) FROM natomm_session WHERE account_id = ?",
                       (int(aid),)) == [(0,)]
    assert ctl(srv, "show", acc.email)[0] == 1
    # the address can register again
    ne.create_account(srv, email_addr=acc.email).client.close()
    acc.client.close()


def test_find_and_show(srv):
    tag = unique_email("findme").split("@")[0]
    acc = ne.create_account(srv, email_addr="%s@example.org" % tag, name="Ada Findme",
                            organisation="NATO PDD")
    rc, out, err = ctl(srv, "find", tag.upper())
    assert rc == 0, (out, err)
    lines = out.splitlines()
    assert len(lines) == 1 and lines[0].split("\t")[1] == acc.email, out
    assert lines[0].split("\t")[2] == "verified"
    rc, out, _ = ctl(srv, "find", "nato pdd")
    assert rc == 0 and acc.email in out
    # LIKE wildcards are text
    assert ctl(srv, "find", "%_%_%_nothing")[0] == 1
    rc, out, _ = ctl(srv, "show", acc.email.upper())
    assert rc == 0
    fields = dict(re.split(r":\s+", l, 1) for l in out.splitlines())
    assert fields["address"] == acc.email and fields["name"] == "Ada Findme"
    assert fields["organisation"] == "NATO PDD" and fields["disabled"] == "no"
    assert fields["sessions"].startswith("1, last seen ")
    acc.client.close()


def test_exit_codes(srv, tmp_path):
    assert ctl(srv, "show", unique_email("ghost"))[0] == 1
    assert ctl(srv, "disable", unique_email("ghost"))[0] == 1
    assert ctl(srv, "logout", unique_email("ghost"))[0] == 1
    assert ctl(srv, "delete", unique_email("ghost"))[0] == 1
    assert ctl(srv, "find", "no-such-text-anywhere-%d" % os.getpid())[0] == 1
    assert ctl(srv)[0] == 2                                      # no command
    assert ctl(srv, "frobnicate")[0] == 2
    assert ctl(srv, "show")[0] == 2
    assert ctl(srv, "show", "not-an-address")[0] == 2
    assert ctl(srv, "accounts", "extra")[0] == 2
    assert ctl(srv, "subscribers", "--since", "yesterday")[0] == 2
    assert ctl(srv, "--bogus", "accounts")[0] == 2
    assert run_ctl("accounts", "--driver", "sqlite3")[0] == 2
    assert run_ctl("accounts", conf=str(tmp_path / "missing.conf"))[0] == 2
    empty = tmp_path / "empty.conf"
    empty.write_text("ServerRoot %s\n" % tmp_path)
    rc, _, err = run_ctl("accounts", conf=str(empty))
    assert rc == 2 and "DBDriver" in err
    # the database cannot be had: 3
    rc, _, err = run_ctl("accounts", "--driver", "sqlite3", "--params",
                         str(tmp_path / "none.db"))
    assert rc == 3 and "no SQLite database" in err, err
    assert not (tmp_path / "none.db").exists()          # never made
    rc, _, err = run_ctl("accounts", "--driver", "pgsql", "--params",
                         "host=127.0.0.1 port=%d dbname=x user=x connect_timeout=2"
                         % ne.free_port())
    assert rc == 3, err
    rc, _, err = run_ctl("accounts", "--driver", "nosuchdriver", "--params", "x")
    assert rc == 3 and "driver" in err
    rc, out, _ = run_ctl("--help")
    assert rc == 0 and "subscribers" in out and "Exit status" in out


def test_accounts_csv(srv):
    acc = ne.create_account(srv, name="=HYPERLINK(\"x\")")
    rc, out, err = ctl(srv, "accounts", "--csv")
    assert rc == 0, err
    assert "event=admin_export_accounts" in err
    assert out.startswith("id,address,name,organisation,language,created_at,verified_at,"
                          "disabled_at,newsletter,newsletter_since,failed_logins\r\n")
    rows = list(csv.DictReader(io.StringIO(out, newline="")))
    mine = [r for r in rows if r["address"] == acc.email]
    assert len(mine) == 1
    # CSV injection: the cell starts with an apostrophe
    assert mine[0]["name"] == "'=HYPERLINK(\"x\")"
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", mine[0]["verified_at"])
    assert len(rows) == srv.db_rows("SELECT COUNT(*) FROM natomm_account")[0][0]
    rc, out, _ = ctl(srv, "accounts")
    assert rc == 0 and acc.email in out
    acc.client.close()


def test_quiet_and_syslog_copy(srv):
    acc = ne.create_account(srv)
    rc, out, err = ctl(srv, "-q", "logout", acc.email)
    assert rc == 0 and err == ""
    acc.client.close()


# --------------------------------------------------------------------------
# the configuration reader

def test_conf_includes_globs_and_sections(srv, tmp_path):
    acc = ne.create_account(srv)
    root = tmp_path / "root"
    (root / "conf.d").mkdir(parents=True)
    (root / "mods").mkdir()
    db_lines = "\n".join(srv.db.dbd_conf())
    (root / "main.conf").write_text(
        "# a comment\n"
        "ServerRoot \"%s\"\n"
        "Define NATOMM_TEST\n"
        "LoadModule dbd_module /usr/lib/apache2/modules/mod_dbd.so\n"
        "IncludeOptional mods/*.load\n"
        "IncludeOptional nowhere/*.conf\n"
        "Include conf.d/*.conf\n"
        "<IfModule no_such_module>\n"
        "    DBDriver sqlite3\n"
        "    DBDParams /nonexistent/never.db\n"
        "</IfModule>\n"
        "<IfDefine !NATOMM_TEST>\n"
        "    DBDParams /nonexistent/never2.db\n"
        "</IfDefine>\n" % root)
    (root / "mods" / "x.load").write_text("LoadModule natomm_module /x/mod_natomm.so\n")
    (root / "conf.d" / "10-db.conf").write_text(
        "<IfModule mod_dbd.c>\n%s\n</IfModule>\n" % db_lines)
    (root / "conf.d" / "20-site.conf").write_text(
        "NatommPublicURL https://site.example.org/\n"
        "<IfModule natomm_module>\n<Location /konto>\n    SetHandler natomm\n"
        "</Location>\n</IfModule>\n")
    rc, out, err = run_ctl("show", acc.email, conf=str(root / "main.conf"))
    assert rc == 0, err
    assert acc.email in out
    # a missing Include (not Optional) is an error
    (root / "bad.conf").write_text("ServerRoot %s\nInclude nothing/*.conf\n" % root)
    rc, _, err = run_ctl("show", acc.email, conf=str(root / "bad.conf"))
    assert rc == 2 and "nothing" in err
    acc.client.close()


def test_conf_virtual_hosts(srv, tmp_path):
    acc = ne.create_account(srv)
    db_lines = "\n".join("    " + l for l in srv.db.dbd_conf())
    conf = tmp_path / "vhosts.conf"
    conf.write_text(
        "ServerRoot %s\n"
        "<VirtualHost *:80>\n    ServerName staging.example.org\n"
        "    DBDriver sqlite3\n    DBDParams %s/staging.db\n</VirtualHost>\n"
        "<VirtualHost *:80>\n    ServerName media.example.org:443\n%s\n"
        "</VirtualHost>\n" % (tmp_path, tmp_path, db_lines))
    rc, _, err = run_ctl("show", acc.email, conf=str(conf))
    assert rc == 2 and "several databases" in err and "staging.example.org" in err, err
    rc, out, err = run_ctl("--vhost", "media.example.org", "show", acc.email,
                           conf=str(conf))
    assert rc == 0 and acc.email in out, err
    assert run_ctl("--vhost", "nowhere.example.org", "show", acc.email,
                   conf=str(conf))[0] == 2
    acc.client.close()
