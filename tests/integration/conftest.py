"""pytest fixtures for the mod_natomm integration suite.

Run:  cd <repo> && /usr/bin/python3 -m pytest -q tests/integration
Env:  NATOMM_KEEP=1 keeps every generated server root (/tmp/natomm-it-*);
      roots of servers used by a failing test are kept anyway.
      NATOMM_MODULE=/path/to/mod_natomm.so overrides the module.
      NATOMM_DB=pgsql runs every server on PostgreSQL: one throwaway cluster per
      session (initdb + pg_ctl as the postgres user, a free loopback port), a
      fresh database per server; stopped and deleted at session end.
Log:  the autouse fixture `log` checks the error-log lines of every server
      after each test (natomm/log.py); a test declares the errors it causes
      on purpose with @pytest.mark.expect_log(r"...") or log.ignore(r"...").
"""

import signal

import os

import pytest

import natomm as ne
from natomm import log as natomm_log


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: sleeps for configured short lifetimes")
    config.addinivalue_line(
        "markers", "expect_log(*patterns): error-log lines (regular expressions, "
        "re.search) at level error or worse that the test causes on purpose")
    # a SIGTERM (CI timeout) unwinds like Ctrl-C: fixtures stop their httpds and
    # pytest_sessionfinish removes the PostgreSQL cluster
    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        def on_term(signum, frame):
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            raise KeyboardInterrupt("SIGTERM")
        signal.signal(signal.SIGTERM, on_term)


def pytest_report_header(config):
    if ne.DB_KIND == "pgsql":
        return "natomm database: PostgreSQL (%s; a throwaway cluster, a database per server)" \
            % ne.PG_BIN
    return "natomm database: SQLite (a file per server)"


def pytest_sessionfinish(session, exitstatus):
    ne.shutdown_session_cluster()
    # servers stopped outside any test (module and session teardown): their
    # last lines, and every secret in their whole logs (HttpdServer.stop)
    if ne.ORPHANS or ne.LOG_LEAKS:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter):
    if not (ne.ORPHANS or ne.LOG_LEAKS):
        return
    tr = terminalreporter
    tr.section("natomm error logs of servers stopped outside a test", red=True)
    for name, path, kind, line in ne.ORPHANS:
        tr.line("%s (%s) %s: %s" % (name, path, kind, line[:600]))
    for name, secret in ne.LOG_LEAKS:
        tr.line("%s: secret %r in its error log" % (name, secret))


@pytest.fixture(autouse=True)
def log(request):
    """The error-log check of every test (natomm/log.py): after the test, the
    new lines of every server (alive when it began, or started by it; servers
    it stops are read at their stop) must hold no secret and no error-or-worse
    line or crash the test did not declare.  Declare with the marker
    @pytest.mark.expect_log(r"pattern", ...) (on the test, its class or the
    module) or, inside the test, log.ignore(r"pattern")."""
    watch = ne.LogWatch(request.node.nodeid)
    for m in request.node.iter_markers("expect_log"):
        watch.ignore(*m.args)
    natomm_log.begin(watch)
    try:
        yield watch
    finally:
        natomm_log.end(watch)
    if watch.problems:
        pytest.fail(watch.report(), pytrace=False)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)
    if rep.failed:
        servers = []
        for v in getattr(item, "funcargs", {}).values():
            if isinstance(v, ne.HttpdServer):
                servers.append(v)
            elif isinstance(v, ServerFactory):
                servers.extend(v.servers)
            elif isinstance(v, ne.Client):
                servers.append(v.server)
            elif isinstance(v, ne.Account):
                servers.append(v.client.server)
        seen = set()
        for s in servers:
            if s.root in seen:
                continue
            seen.add(s.root)
            s.keep = True
            tail = "\n".join(s.read_error_log().splitlines()[-25:])
            rep.sections.append(("natomm %s (%s) error_log tail" % (s.name, s.root), tail))


class ServerFactory:
    """Starts extra servers with extra directives; stops them at teardown."""

    def __init__(self, module_path):
        self.module_path = module_path
        self.servers = []

    def __call__(self, extra_conf="", name="extra", start=True, **kw):
        s = ne.HttpdServer(name=name, extra_conf=extra_conf, module_path=self.module_path, **kw)
        s.keep = False
        self.servers.append(s)
        if start:
            s.start()
        return s

    def close(self):
        # all stopped before any is cleaned up: servers may share a database
        # (a SQLite file in the first one's root) or a mail folder
        try:
            for s in self.servers:
                try:
                    s.stop()
                except Exception as e:      # pragma: no cover - keep stopping
                    print("\n[natomm] stopping %s: %r" % (s.name, e))
        finally:
            for s in self.servers:
                s.cleanup(keep=getattr(s, "keep", False))
            self.servers = []


@pytest.fixture(scope="session")
def module_so():
    try:
        return ne.ensure_module_built()
    except RuntimeError as e:
        pytest.fail(str(e), pytrace=False)


@pytest.fixture(scope="session")
def server(module_so, request):
    s = ne.HttpdServer(name="default", module_path=module_so)
    s.keep = False
    try:
        s.start()
    except RuntimeError as e:
        s.cleanup(keep=True)
        pytest.fail(str(e), pytrace=False)
    yield s
    s.stop()
    s.cleanup(keep=s.keep or request.session.testsfailed > 0)


@pytest.fixture
def server_factory(module_so):
    f = ServerFactory(module_so)
    yield f
    f.close()


@pytest.fixture(scope="module")
def module_server_factory(module_so):
    f = ServerFactory(module_so)
    yield f
    f.close()


@pytest.fixture(scope="session")
def session_server_factory(module_so):
    f = ServerFactory(module_so)
    yield f
    f.close()


# Short resend interval/hourly budget, so resend flows can be tested without
# waiting 60 s (SPEC section 3 default: once per 60 s, 5 per hour).
FAST_CONF = """
NatommResendInterval 2s
NatommResendPerHour 3
"""


@pytest.fixture(scope="session")
def fast_server(session_server_factory):
    return session_server_factory(FAST_CONF, name="fast")


@pytest.fixture
def client(server):
    c = server.client()
    yield c
    c.close()


@pytest.fixture
def new_client(server):
    made = []

    def make(srv=None):
        c = (srv or server).client()
        made.append(c)
        return c
    yield make
    for c in made:
        c.close()


@pytest.fixture(scope="module")
def account(server):
    """A verified account on the default server, shared by a test module
    (its client holds a valid session cookie)."""
    acc = ne.create_account(server, name="Module Tester")
    yield acc
    acc.client.close()


@pytest.fixture
def configtest(server_factory):
    """Runs `apache2 -t` on a generated configuration: (returncode, output)."""
    def run(extra_conf="", **kw):
        s = server_factory(extra_conf, name="cfg", start=False, **kw)
        rc, out = s.configtest()
        # configtest must not have started anything
        assert not os.path.exists(s.pid_file)
        return rc, out
    return run
