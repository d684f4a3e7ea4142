"""What the error logs may and may not contain (pyhttpd's log.py).

The secrets registry: every password, code, token and cookie a test uses is
remembered (remember_secret, called by the client and the mail readers) and
must never show up in an error log.

The check of every test (conftest.py's autouse fixture `log`): a LogWatch
reads the error-log lines every server wrote since they were last read (the
servers alive when the test began and the ones it starts), when a server
stops and when the test ends, and collects as problems

  - a line holding any remembered secret (never excusable),
  - a line at level error, crit, alert or emerg, or a child crash (`exit
    signal`, AH00052, "Segmentation fault", a C `Assertion`), unless one of
    the patterns the test declared matches it (re.search): the marker
    @pytest.mark.expect_log(r"...", ...) or log.ignore(r"...").

The position read up to is kept per server between tests, so a test also
answers for what its fixtures of wider scope logged while being set up.
Lines of servers stopped outside any test (module and session teardown) are
checked with no pattern; conftest.py reports them at the end of the session.
"""

import os
import re
import threading
import urllib.parse

from .env import CODE_RE

SECRETS = set()
LOG_LEAKS = []          # (server name, secret) found in logs of stopped servers
_VARIANTS = {}          # secret -> its variants, computed once


def remember_secret(value):
    if value is None:
        return
    value = str(value)
    if len(value) >= 6:
        SECRETS.add(value)


def secret_variants(value):
    out = {value, urllib.parse.quote_plus(value), urllib.parse.quote(value, safe="")}
    if CODE_RE.match(value):
        out.add(value.replace("-", ""))
    return out


def _variants(value):
    v = _VARIANTS.get(value)
    if v is None:
        v = _VARIANTS[value] = tuple(x for x in secret_variants(value) if x)
    return v


def find_leaks(text, secrets=None):
    leaks = []
    for s in sorted(secrets if secrets is not None else SECRETS):
        for v in _variants(s):
            # a code's digits inside a longer number (an account id) are not it
            if v in text and (not v.isdigit()
                              or re.search(r"(?<!\d)%s(?!\d)" % v, text)):
                leaks.append(s)
                break
    return leaks


# --------------------------------------------------------------------------
# the error log of one server

# "[Tue Dec 02 05:53:42.123456 2025] [dbd:error] [pid ...] ...": the level of
# the line itself (a forged "[natomm:crit]" inside a logged value is not one)
LEVEL_RE = re.compile(r"^\[[^\]]*\] \[(?P<module>[^\]:]*):(?P<level>emerg|alert|crit|error)\]")
# AH00051/AH00052 "child pid N exit signal Segmentation fault (11)" are
# notices; an assert() of the module writes its message to stderr (the log)
CRASH_RE = re.compile(r"exit signal|AH00052|Segmentation fault|Assertion")

# what a server logs while its database is unusable (break_database(), a
# PostgreSQL outage): the module's failed queries, and mod_dbd failing to
# (re)connect (PostgreSQL).  @pytest.mark.expect_log(*ne.DATABASE_DOWN)
DATABASE_DOWN = (
    r"\[natomm:error\] .*NATOMM: database: ",
    r"\[dbd:error\] .*AH00629: Can't connect to ",
    r"\[dbd:error\] .*AH00639: DBD \[\w+\] Error: ",
    r"\[dbd:error\] .*AH02655: Failed to acquire DBD connection from pool",
)


def read_from(path, offset, complete):
    """(text, new offset) of the file from a byte offset: up to the last
    newline, or everything when complete (the writer is gone)."""
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size < offset:           # replaced or truncated: read it all
                offset = 0
            f.seek(offset)
            data = f.read()
    except (FileNotFoundError, PermissionError):
        return "", offset
    if not complete:
        cut = data.rfind(b"\n") + 1
        data = data[:cut]
    return data.decode("utf-8", "replace"), offset + len(data)


def file_size(path):
    try:
        return os.stat(path).st_size
    except (FileNotFoundError, PermissionError):
        return 0


def problem_lines(text, ignored=(), secrets=None):
    """[(kind, line)] of the lines of text the check does not accept:
    ("secret", line) for a line holding a secret, ("unexpected", line) for an
    error-or-worse or crash line that no ignored pattern matches."""
    out = []
    if not text:
        return out
    lines = text.splitlines()
    for s in find_leaks(text, secrets):
        variants = _variants(s)
        hit = [l for l in lines if any(v in l for v in variants)]
        out.append(("secret", "%r in: %s" % (s, hit[0] if hit else "(across lines)")))
    for line in lines:
        if (LEVEL_RE.search(line) or CRASH_RE.search(line)) \
                and not any(p.search(line) for p in ignored):
            out.append(("unexpected", line))
    return out


# --------------------------------------------------------------------------
# the watch of one test

class LogWatch:
    """The error-log lines of one test.  ignore() declares lines the test
    produces on purpose (regular expressions, re.search on each line)."""

    def __init__(self, name):
        self.name = name
        self.ignored = []
        self.problems = []          # (server, kind, line)

    def ignore(self, *patterns):
        for p in patterns:
            self.ignored.append(re.compile(p) if isinstance(p, str) else p)
        return self

    def note(self, server, text):
        found = problem_lines(text, self.ignored)
        for kind, line in found:
            self.problems.append((server, kind, line))
        if found:
            server.keep = True      # the root stays for a look

    def report(self, limit=40):
        if not self.problems:
            return ""
        out = ["error log check of %s: %d line(s) not accepted (declare the expected ones"
               " with @pytest.mark.expect_log(r\"...\") or log.ignore(r\"...\"); secrets"
               " are never accepted)" % (self.name, len(self.problems))]
        last = None
        for server, kind, line in self.problems[:limit]:
            if server is not last:
                out.append("  %s (%s):" % (server.name, server.error_log))
                last = server
            out.append("    %s: %s" % (kind, line[:600]))
        if len(self.problems) > limit:
            out.append("  ... and %d more" % (len(self.problems) - limit))
        return "\n".join(out)


_lock = threading.RLock()
_offsets = {}           # server -> byte offset of its error log read up to
_watch = None           # the LogWatch of the running test, if any
ORPHANS = []            # (server name, error log, kind, line) outside any test


def _check(server, complete):
    off = _offsets.get(server)
    if off is None:
        return
    text, _offsets[server] = read_from(server.error_log, off, complete)
    if not text:
        return
    if _watch is not None:
        _watch.note(server, text)
    else:
        for kind, line in problem_lines(text):
            ORPHANS.append((server.name, server.error_log, kind, line))


def server_starting(server):
    """Called by HttpdServer.start(): follow its log from where it ends now
    (a restarted server keeps the position it was read up to)."""
    with _lock:
        if server not in _offsets:
            _offsets[server] = file_size(server.error_log)


def server_stopped(server):
    """Called by HttpdServer.stop(): read what it wrote, all of it."""
    with _lock:
        _check(server, complete=True)


def server_gone(server):
    """Called by HttpdServer.cleanup(), before its root is removed."""
    with _lock:
        _check(server, complete=True)
        _offsets.pop(server, None)


def begin(watch):
    global _watch
    with _lock:
        _watch = watch


def end(watch):
    """Reads the new lines of every server followed, then ends the watch."""
    global _watch
    with _lock:
        try:
            for server in list(_offsets):
                _check(server, complete=not getattr(server, "started", False))
        finally:
            _watch = None
