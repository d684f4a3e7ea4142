"""SPEC section 10, issue 15: `SetHandler natomm-metrics` (Prometheus text
0.0.4, summed over every process), the module's lines on mod_status's page,
counters that survive a graceful restart, and the outbox gauges while the
mail transport is dead.
"""

import time

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

import natomm as ne
from natomm import GOOD_PASSWORD, expect_error, expect_json, unique_email

METRICS_CONF = """
<Location /metrics>
    SetHandler natomm-metrics
    Require ip 127.0.0.1
</Location>
<Location /server-status>
    SetHandler server-status
    Require ip 127.0.0.1
</Location>
"""
STATUS_MODULE = "LoadModule status_module %s/mod_status.so" % ne.MODULES_DIR
HOST_MODULE = "LoadModule authz_host_module %s/mod_authz_host.so" % ne.MODULES_DIR


def scrape(server):
    r = requests.get(server.url + "/metrics", timeout=10)
    assert r.status_code == 200, (r.status_code, r.text[:300])
    assert r.headers["Content-Type"] == "text/plain; version=0.0.4", r.headers
    assert "no-store" in r.headers.get("Cache-Control", "")
    return r.text


def samples(text):
    """{(name, frozenset(labels)): value} through the official parser."""
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def value(vals, name, **labels):
    return vals[(name, frozenset(labels.items()))]


@pytest.fixture(scope="module")
def msrv(module_server_factory):
    # one process would not show that the numbers are summed over all
    return module_server_factory(METRICS_CONF, name="metrics", servers=2,
                                 extra_modules=[STATUS_MODULE, HOST_MODULE])


def test_format_parses_and_names_every_family(msrv):
    text = scrape(msrv)
    fams = {f.name: f for f in text_string_to_metric_families(text)}
    # prometheus_client drops the _total suffix of counter families
    for name, kind in [("natomm_events", "counter"), ("natomm_gate_requests", "counter"),
                       ("natomm_throttle_refusals", "counter"), ("natomm_mail", "counter"),
                       ("natomm_outbox_queued", "gauge"),
                       ("natomm_outbox_oldest_age_seconds", "gauge"),
                       ("natomm_db_up", "gauge"), ("natomm_hash_slots_busy", "gauge"),
                       ("natomm_hash_wait_seconds", "histogram")]:
        assert name in fams, (name, sorted(fams))
        assert fams[name].type == kind, (name, fams[name].type)
    vals = samples(text)
    for ev in ("register", "verify", "login", "login_failed", "lockout", "reset",
               "logout", "delete"):
        assert ("natomm_events_total", frozenset({("event", ev)})) in vals
    for res in ("cookie", "link", "denied", "unavailable"):
        assert ("natomm_gate_requests_total", frozenset({("result", res)})) in vals
    for res in ("sent", "retried", "given_up"):
        assert ("natomm_mail_total", frozenset({("result", res)})) in vals
    assert value(vals, "natomm_db_up") == 1
    assert text.endswith("\n")


def test_each_action_moves_its_counter_by_one(msrv):
    acc = ne.create_account(msrv)
    c = msrv.client()
    before = samples(scrape(msrv))

    expect_error(c.login(acc.email, "Wrong-Passw0rd!x"), 401, "invalid_credentials")
    addr = unique_email("metrics")
    _, r = c.register(addr, GOOD_PASSWORD)
    expect_json(r, 202)
    r = c.get("/videos/sample.mp4")                 # no cookie: refused
    assert r.status_code == 401
    # the watchdog sends the registration's mail: counted once it is out
    msrv.wait_for_mail(addr)
    time.sleep(0.2)

    # every request may be answered by any process: the sum moved by one
    after = samples(scrape(msrv))
    moved = {k: after[k] - before.get(k, 0) for k in after
             if k[0].endswith("_total") and after[k] != before.get(k, 0)}
    assert moved == {
        ("natomm_events_total", frozenset({("event", "login_failed")})): 1,
        ("natomm_events_total", frozenset({("event", "register")})): 1,
        ("natomm_gate_requests_total", frozenset({("result", "denied")})): 1,
        ("natomm_mail_total", frozenset({("result", "sent")})): 1,
    }, moved
    # a cookie that passes the gate counts as such
    r = acc.client.get("/videos/sample.mp4", headers={"Range": "bytes=0-9"})
    assert r.status_code == 206
    last = samples(scrape(msrv))
    assert value(last, "natomm_gate_requests_total", result="cookie") \
        == value(after, "natomm_gate_requests_total", result="cookie") + 1
    c.close()
    acc.client.close()


def test_counters_survive_graceful_restart(msrv):
    c = msrv.client()
    expect_error(c.login(unique_email("nobody"), "Wrong-Passw0rd!x"), 401,
                 "invalid_credentials")
    before = value(samples(scrape(msrv)), "natomm_events_total", event="login_failed")
    assert before >= 1
    msrv.graceful()
    deadline = time.time() + 10
    while True:
        try:
            after = value(samples(scrape(msrv)), "natomm_events_total",
                          event="login_failed")
            break
        except (requests.RequestException, AssertionError):
            if time.time() > deadline:
                raise
            time.sleep(0.2)
    assert after == before
    expect_error(c.login(unique_email("nobody"), "Wrong-Passw0rd!x"), 401,
                 "invalid_credentials")
    assert value(samples(scrape(msrv)), "natomm_events_total",
                 event="login_failed") == before + 1
    c.close()


def test_methods(msrv):
    r = requests.head(msrv.url + "/metrics", timeout=10)
    assert r.status_code == 200 and r.text == ""
    assert r.headers["Content-Type"] == "text/plain; version=0.0.4"
    r = requests.post(msrv.url + "/metrics", data="x=1", timeout=10)
    assert r.status_code == 405
    assert {m.strip() for m in r.headers["Allow"].split(",")} == {"GET", "HEAD"}


def test_mod_status_page_shows_the_numbers(msrv):
    c = msrv.client()
    expect_error(c.login(unique_email("nobody"), "Wrong-Passw0rd!x"), 401,
                 "invalid_credentials")
    failed = value(samples(scrape(msrv)), "natomm_events_total", event="login_failed")
    r = requests.get(msrv.url + "/server-status?auto", timeout=10)
    assert r.status_code == 200
    lines = dict(l.split(": ", 1) for l in r.text.splitlines() if l.startswith("Natomm"))
    assert int(lines["NatommLoginsFailed"]) == failed, lines
    for k in ("NatommLogins", "NatommRegistrations", "NatommGateCookie",
              "NatommGateDenied", "NatommOutboxQueued", "NatommOutboxOldestAge",
              "NatommDatabaseUp", "NatommMailSent"):
        assert k in lines, lines
    assert lines["NatommDatabaseUp"] == "1"
    r = requests.get(msrv.url + "/server-status", timeout=10)
    assert r.status_code == 200 and "<h2>mod_natomm</h2>" in r.text
    assert "failed logins" in r.text
    c.close()


@pytest.mark.expect_log(r"NATOMM: mail \d+ not delivered")
def test_outbox_gauges_rise_while_mail_is_stuck(server_factory):
    dead = ne.free_port()           # nothing listens there
    srv = server_factory(METRICS_CONF, name="stuck",
                         mail_transport="smtp://127.0.0.1:%d" % dead,
                         extra_modules=[STATUS_MODULE, HOST_MODULE])
    c = srv.client()
    _, r = c.register(unique_email("stuck"), GOOD_PASSWORD)
    expect_json(r, 202)

    def gauges():
        v = samples(scrape(srv))
        return value(v, "natomm_outbox_queued"), value(v, "natomm_outbox_oldest_age_seconds")

    deadline = time.time() + 10
    while gauges()[0] < 1:
        assert time.time() < deadline, gauges()
        time.sleep(0.2)
    first = gauges()[1]
    time.sleep(2.5)
    queued, age = gauges()
    assert queued == 1
    assert age >= first + 2, (first, age)
    # the failed attempt was counted as a retry
    assert value(samples(scrape(srv)), "natomm_mail_total", result="retried") >= 1
    c.close()
