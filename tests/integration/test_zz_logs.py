"""SPEC section 8 logging.  Named test_zz_* so it runs after the other modules and
sees every password, code and cookie the session used."""

import time
import uuid

import natomm_env as ne
from natomm_env import OTHER_PASSWORD, expect_error, unique_email


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


def test_error_log_has_no_secrets(server, fast_server):
    assert ne.SECRETS, "no secrets recorded?"
    for srv in (server, fast_server):
        leaks = ne.find_leaks(srv.read_error_log())
        assert not leaks, "secrets in %s: %r" % (srv.error_log, leaks)
    assert not ne.LOG_LEAKS, "secrets in logs of stopped servers: %r" % ne.LOG_LEAKS
