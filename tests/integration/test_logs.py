"""SPEC section 8 logging, and the harness's own error-log check.

No secret in any error log is checked after every test by conftest.py's
autouse fixture `log` (natomm/log.py); this file need not run last."""

import time
import uuid

import natomm as ne
from natomm import OTHER_PASSWORD, expect_error, unique_email
from natomm.log import read_from


def test_failed_login_logged_with_client_ip(server, client):
    expect_error(client.login(unique_email(), OTHER_PASSWORD), 401, "invalid_credentials")
    deadline = time.time() + 3
    while time.time() < deadline:
        lines = [l for l in server.read_error_log().splitlines()
                 if client.source_ip in l and "natomm" in l]
        if lines:
            break
        time.sleep(0.1)
    assert lines, "no natomm log line with the client IP %s" % client.source_ip


def test_crlf_in_logged_values_escaped(server, client):
    tag = "FAKE-" + uuid.uuid4().hex
    forged = "j@example.org\r\n[natomm:crit] %s" % tag
    client.login(forged, OTHER_PASSWORD)
    client.login("j-%s@example.org\n%s" % (uuid.uuid4().hex[:8], tag), OTHER_PASSWORD)
    time.sleep(0.3)
    for line in server.read_error_log().splitlines():
        assert not line.startswith("[natomm:crit]") and not line.startswith(tag), line


# --------------------------------------------------------------------------
# the check itself (no httpd: a log file written here)

def test_secrets_are_remembered(client):
    client.login(unique_email(), OTHER_PASSWORD)
    assert OTHER_PASSWORD in ne.SECRETS, "no secrets recorded?"


STAMP = "[Tue Dec 02 05:53:42.123456 2025]"


class FakeServer:
    def __init__(self, path):
        self.name, self.error_log, self.keep = "fake", path, False


def test_log_check_refuses_errors_crashes_and_secrets(tmp_path):
    secret = "S3cr-" + uuid.uuid4().hex
    ne.remember_secret(secret)
    lines = [
        "%s [natomm:info] [pid 1:tid 2] [client 127.0.0.1:1] NATOMM: event=login" % STAMP,
        "%s [mpm_event:notice] [pid 1:tid 2] AH00489: resuming normal operations" % STAMP,
        "%s [dbd:error] [pid 1:tid 2] AH00629: no connection" % STAMP,
        "%s [natomm:crit] [pid 1:tid 2] NATOMM: database unusable" % STAMP,
        "%s [core:notice] [pid 1:tid 2] AH00052: child pid 7 exit signal Segmentation fault"
        " (11)" % STAMP,
        "httpd: src/db/db.c:12: f: Assertion `x' failed.",
        "%s [natomm:info] [pid 1:tid 2] NATOMM: j\\r\\n[natomm:crit] forged" % STAMP,
        "%s [natomm:info] [pid 1:tid 2] NATOMM: password=%s" % (STAMP, secret),
    ]
    found = ne.problem_lines("\n".join(lines) + "\n")
    assert [k for k, _ in found] == ["secret", "unexpected", "unexpected", "unexpected",
                                     "unexpected"], found
    assert [l for k, l in found if k == "unexpected"] == lines[2:6]
    assert secret in found[0][1]

    # declared lines are accepted; a secret never is
    w = ne.LogWatch("self-test").ignore(r"\[dbd:error\].*no connection", r"database unusable")
    srv = FakeServer(str(tmp_path / "error_log"))
    w.note(srv, "\n".join(lines) + "\n")
    assert [(k, l) for _, k, l in w.problems if k == "unexpected"] == \
        [("unexpected", lines[4]), ("unexpected", lines[5])]
    assert [k for _, k, _ in w.problems].count("secret") == 1
    assert srv.keep and "fake" in w.report() and "expect_log" in w.report()


def test_log_check_reads_only_whole_new_lines(tmp_path):
    path = str(tmp_path / "error_log")
    with open(path, "w") as f:
        f.write("old line\nnew li")
    assert read_from(path, 0, complete=False) == ("old line\n", 9)
    assert read_from(path, 9, complete=False) == ("", 9)        # a line being written
    with open(path, "a") as f:
        f.write("ne\n")
    assert read_from(path, 9, complete=False) == ("new line\n", 18)
    with open(path, "a") as f:
        f.write("last, no newline")
    assert read_from(path, 18, complete=True) == ("last, no newline", 34)
    assert read_from(str(tmp_path / "missing"), 5, complete=True) == ("", 5)
