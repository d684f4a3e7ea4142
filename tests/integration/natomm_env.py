"""Test environment for the mod_natomm integration suite.

In the style of httpd's test/pyhttpd: every server instance gets a generated,
self-contained server root (conf/, logs/, htdocs/, var/, run/) under /tmp and
Debian's real httpd (/usr/sbin/apache2) is started on a free loopback port with
the module built in this repository (.libs/mod_natomm.so).

Nothing here touches /etc/apache2.
"""

import atexit
import email
import email.policy
import email.utils
import itertools
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse
import uuid

import requests
from requests.adapters import HTTPAdapter
from urllib3.poolmanager import PoolManager

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.environ.get("NATOMM_REPO") or os.path.abspath(os.path.join(HERE, "..", ".."))
MODULE_PATH = os.environ.get("NATOMM_MODULE") or os.path.join(REPO, ".libs", "mod_natomm.so")
APACHE = os.environ.get("NATOMM_APACHE", "/usr/sbin/apache2")
MODULES_DIR = "/usr/lib/apache2/modules"
RUN_USER = "www-data"
RUN_GROUP = "www-data"

SITE_NAME = "NATO Multimedia"
# Passes every rule of SPEC section 3: 14 code points, upper, lower, digit,
# symbol, no whitespace, no dictionary core, not the site name or a local part.
GOOD_PASSWORD = "Kx7#mQ2!vR9@pL"
OTHER_PASSWORD = "Wq4$zJ8%tN3^hB"

CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
CODE_RE = re.compile(r"^[ \t]*([%s]{4}-[%s]{4})[ \t\r]*$" % (CODE_ALPHABET, CODE_ALPHABET),
                     re.MULTILINE)
JSON_CT = "application/json; charset=utf-8"
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
VIDEO_SIZE = 2 * 1024 * 1024

# --------------------------------------------------------------------------
# secrets registry: everything that must never show up in the error log

SECRETS = set()
LOG_LEAKS = []          # (server name, secret) found in logs of stopped servers


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


def find_leaks(text, secrets=None):
    leaks = []
    for s in sorted(secrets if secrets is not None else SECRETS):
        for v in secret_variants(s):
            if v and v in text:
                leaks.append(s)
                break
    return leaks


# --------------------------------------------------------------------------
# small utilities

def unique_email(prefix="j", domain="example.org"):
    return "%s-%s@%s" % (prefix, uuid.uuid4().hex[:16], domain)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_ip_counter = itertools.count(1)


def next_source_ip():
    """A fresh loopback source address (127.20.0.1, 127.20.0.2, ...).

    Every client gets its own address so that the per-IP throttles of SPEC
    section 3 (registrations 20/h, code entries 10/min, ...) of one test never
    spill into another test.  The whole 127/8 is routed to lo on Linux."""
    n = next(_ip_counter) + (os.getpid() % 50) * 1000
    a, rest = divmod(n, 250 * 250)
    b, c = divmod(rest, 250)
    return "127.%d.%d.%d" % (20 + a % 200, b, c + 1)


def ensure_module_built():
    """Return the module path, running `make -C <repo>` once if it is missing."""
    if os.path.isfile(MODULE_PATH):
        return MODULE_PATH
    proc = subprocess.run(["make", "-C", REPO], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0 or not os.path.isfile(MODULE_PATH):
        raise RuntimeError("cannot build %s (make -C %s exited %d):\n%s"
                           % (MODULE_PATH, REPO, proc.returncode, proc.stdout[-6000:]))
    return MODULE_PATH


# --------------------------------------------------------------------------
# databases: SQLite (default) or PostgreSQL (NATOMM_DB=pgsql)
#
# Every HttpdServer gets its own database unless it is handed one (db=...):
# SQLite: <root>/var/natomm.db; PostgreSQL: a fresh database (CREATE DATABASE)
# in one throwaway cluster per test session, started on first use and stopped
# and deleted at session end (conftest.py, with an atexit fallback).  Tests
# read and break the database only through HttpdServer.db_rows(),
# db_tables(), break_database() and restore_database(), which work on both.

def _db_kind_from_env():
    v = (os.environ.get("NATOMM_DB") or "sqlite").strip().lower()
    if v in ("", "sqlite", "sqlite3"):
        return "sqlite"
    if v in ("pgsql", "pg", "postgres", "postgresql"):
        return "pgsql"
    raise RuntimeError("NATOMM_DB=%r: use sqlite or pgsql" % v)


DB_KIND = _db_kind_from_env()


def _find_pg_bin():
    """The newest /usr/lib/postgresql/<version>/bin with initdb (Debian's layout)."""
    best = None
    try:
        versions = os.listdir("/usr/lib/postgresql")
    except FileNotFoundError:
        versions = []
    for v in versions:
        if os.path.isfile(os.path.join("/usr/lib/postgresql", v, "bin", "initdb")):
            try:
                key = tuple(int(x) for x in v.split("."))
            except ValueError:
                continue
            if best is None or key > best[0]:
                best = (key, os.path.join("/usr/lib/postgresql", v, "bin"))
    return best[1] if best else "/usr/lib/postgresql/15/bin"


PG_BIN = os.environ.get("NATOMM_PG_BIN") or _find_pg_bin()
PG_USER = "postgres"            # the OS user the cluster runs as (it refuses root)
RUNUSER = shutil.which("runuser", path="/usr/sbin:/sbin:/usr/bin:/bin") or "/usr/sbin/runuser"
# throwaway clusters: durability off, room for every server of a session
PG_SETTINGS = ("-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
               " -c max_connections=400 -c shared_buffers=32MB")


def _sql_literal(v):
    """One SQL literal, the same for SQLite and PostgreSQL (with
    standard_conforming_strings on, which the harness sets)."""
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, (bytes, bytearray)):
        return "'\\x%s'::bytea" % bytes(v).hex()
    s = str(v)
    if "\0" in s:
        raise ValueError("NUL in an SQL parameter")
    return "'" + s.replace("'", "''") + "'"


def bind_params(sql, params):
    """Replace each `?` placeholder (outside quotes) by a quoted literal."""
    params = list(params)
    out, i, n, q = [], 0, 0, None
    while i < len(sql):
        ch = sql[i]
        if q:
            out.append(ch)
            if ch == q:
                q = None
        elif ch in ("'", '"'):
            q = ch
            out.append(ch)
        elif ch == "?":
            if n >= len(params):
                raise ValueError("more ? than parameters in %r" % sql)
            out.append(_sql_literal(params[n]))
            n += 1
        else:
            out.append(ch)
        i += 1
    if n != len(params):
        raise ValueError("%d parameters for %d placeholders in %r" % (len(params), n, sql))
    return "".join(out)


class SqliteDatabase:
    """A SQLite file.  Read through a read-only URI connection, never written."""

    kind = "sqlite"

    def __init__(self, path, own_dir=False):
        self.path = path
        self.name = path
        self.own_dir = own_dir      # drop() removes the directory (new_database())
        self._saved = None

    def describe(self):
        return "sqlite %s" % self.path

    def dbd_conf(self):
        return ["DBDriver sqlite3", "DBDParams %s" % self.path]

    def rows(self, sql, params=()):
        import sqlite3
        db = sqlite3.connect("file:%s?mode=ro" % self.path, uri=True, timeout=5)
        try:
            return [tuple(r) for r in db.execute(sql, tuple(params)).fetchall()]
        finally:
            db.close()

    def exists(self):
        return os.path.isfile(self.path)

    def tables(self):
        return [r[0] for r in self.rows(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]

    def break_(self):
        """Garbage over the db file, its WAL and its shared-memory index (the
        children keep their file descriptors, so permissions alone would not
        do), then remove all access to the files and their directory."""
        import glob
        saved = []
        for f in sorted(glob.glob(self.path + "*")):
            with open(f, "rb") as fh:
                data = fh.read()
            saved.append((f, data, os.stat(f).st_mode & 0o7777))
            with open(f, "r+b") as fh:
                fh.write(os.urandom(max(len(data), 4096)))
            os.chmod(f, 0)
        d = os.path.dirname(self.path)
        saved.append((d, None, os.stat(d).st_mode & 0o7777))
        os.chmod(d, 0)
        self._saved = saved

    def restore(self):
        """Best effort: permissions back, and the bytes saved at break time
        written back over the garbage (in place: the children keep their
        descriptors)."""
        saved, self._saved = self._saved, None
        if not saved:
            return
        for f, data, mode in reversed(saved):
            try:
                if data is not None:
                    os.chmod(f, 0o600)
                    with open(f, "r+b") as fh:
                        fh.write(data)
                        fh.truncate(len(data))
                os.chmod(f, mode)
            except OSError:
                pass

    def drop(self):
        if self._saved:
            self.restore()
        if self.own_dir:
            shutil.rmtree(os.path.dirname(self.path), ignore_errors=True)


class PgCluster:
    """A throwaway PostgreSQL cluster on a free loopback port.

    Its whole life belongs to the test set-up: init() + start() make it,
    destroy() stops it and removes the directory.  postgres refuses to run as
    root, so the cluster runs as the `postgres` user; psql runs as root with
    -U postgres over TCP (trust authentication)."""

    def __init__(self, name="session"):
        self.name = name
        self.root = tempfile.mkdtemp(prefix="natomm-pg-%s-" % name, dir="/tmp")
        self.data = os.path.join(self.root, "data")
        self.log = os.path.join(self.root, "postgres.log")
        self.port = None
        self.running = False
        self._lock = threading.Lock()
        pw = pwd.getpwnam(PG_USER)
        os.chown(self.root, pw.pw_uid, pw.pw_gid)
        os.chmod(self.root, 0o755)

    def _as_postgres(self, args, timeout=60, check=True):
        p = subprocess.run([RUNUSER, "-u", PG_USER, "--"] + args,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=timeout, cwd="/tmp",
                           env={"PATH": "%s:/usr/sbin:/usr/bin:/sbin:/bin" % PG_BIN, "LANG": "C",
                                "LC_ALL": "C"})
        if check and p.returncode != 0:
            raise RuntimeError("%s failed (rc=%d):\n%s\n--- %s ---\n%s" % (
                " ".join(args), p.returncode, p.stdout[-4000:], self.log,
                self.read_log()[-4000:]))
        return p

    def read_log(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except (FileNotFoundError, PermissionError):
            return ""

    def init(self):
        self._as_postgres([os.path.join(PG_BIN, "initdb"), "-D", self.data, "-A", "trust",
                           "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync"],
                          timeout=120)
        return self

    def start(self):
        """Starts (or restarts, on the same port) and waits until it accepts."""
        if self.port is None:
            self.port = free_port()
        opts = "-p %d -k %s -c listen_addresses=127.0.0.1 %s" % (self.port, self.root,
                                                                  PG_SETTINGS)
        self._as_postgres([os.path.join(PG_BIN, "pg_ctl"), "-D", self.data, "-o", opts,
                           "-l", self.log, "-w", "-t", "60", "start"], timeout=90)
        self.running = True
        return self

    def stop(self, mode="fast"):
        if not self.running:
            return
        self._as_postgres([os.path.join(PG_BIN, "pg_ctl"), "-D", self.data, "-m", mode,
                           "-w", "-t", "60", "stop"], timeout=90, check=False)
        self.running = False

    def destroy(self):
        try:
            if self.running or os.path.exists(os.path.join(self.data, "postmaster.pid")):
                self.running = True
                self.stop("fast")
                if os.path.exists(os.path.join(self.data, "postmaster.pid")):
                    self.stop("immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def describe(self):
        return "PostgreSQL cluster %s on 127.0.0.1:%s" % (self.root, self.port)

    def psql(self, sql, db="postgres", timeout=30):
        """Runs SQL (one -c string, no psql variable interpolation); stdout."""
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PGCLIENTENCODING": "UTF8",
               "PGOPTIONS": "-c standard_conforming_strings=on -c client_min_messages=warning",
               "PGCONNECT_TIMEOUT": "5"}
        p = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1",
                            "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                            "-d", db, "-c", sql],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                           env=env)
        if p.returncode != 0:
            raise RuntimeError("psql on %s failed (rc=%d): %s\nSQL: %s" % (
                db, p.returncode, p.stderr.decode("utf-8", "replace").strip(), sql[:500]))
        return p.stdout.decode("utf-8")

    def create_database(self, name):
        self.psql('CREATE DATABASE "%s"' % name)
        return PgDatabase(self, name)


_db_counter = itertools.count(1)


class PgDatabase:
    """One database of a PgCluster."""

    kind = "pgsql"

    def __init__(self, cluster, name):
        self.cluster = cluster
        self.name = name
        self.broken = False

    def describe(self):
        return "pgsql database %s (%s)" % (self.name, self.cluster.describe())

    def dbd_conf(self):
        return ["DBDriver pgsql",
                'DBDParams "host=127.0.0.1 port=%d dbname=%s user=postgres"'
                % (self.cluster.port, self.name)]

    def rows(self, sql, params=()):
        """Rows as tuples with the column types of the driver (numbers as
        int, NULL as None), like sqlite3.  Only for queries (SELECT ...)."""
        import json
        q = bind_params(sql, params).strip().rstrip(";")
        out = self.cluster.psql("SELECT coalesce(json_agg(t), '[]'::json) FROM (%s) t" % q,
                                db=self.name)
        rows = json.loads(out, object_pairs_hook=lambda pairs: tuple(v for _, v in pairs))
        return [tuple(r) for r in rows]

    def execute(self, sql, params=()):
        self.cluster.psql(bind_params(sql, params), db=self.name)

    def exists(self):
        return bool(self.cluster.psql("SELECT 1 FROM pg_database WHERE datname = %s"
                                      % _sql_literal(self.name)).strip())

    def tables(self):
        return [r[0] for r in self.rows(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1")]

    def break_(self):
        """No new connection to this database, and every open one ended:
        the other databases of the cluster are not touched."""
        self.cluster.psql('ALTER DATABASE "%s" ALLOW_CONNECTIONS false' % self.name)
        self.cluster.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                          " WHERE datname = %s AND pid <> pg_backend_pid()"
                          % _sql_literal(self.name))
        self.broken = True

    def restore(self):
        self.cluster.psql('ALTER DATABASE "%s" ALLOW_CONNECTIONS true' % self.name)
        self.broken = False

    def drop(self):
        if not self.cluster.running:
            return
        try:
            self.cluster.psql('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % self.name)
        except RuntimeError as e:       # pragma: no cover - cleanup only
            print("\n[natomm] cannot drop %s: %s" % (self.name, e))


_session_cluster = None
_session_cluster_lock = threading.Lock()


def session_cluster():
    """The PostgreSQL cluster of this test session, started on first use."""
    global _session_cluster
    with _session_cluster_lock:
        if _session_cluster is None:
            c = PgCluster("session")
            try:
                c.init().start()
            except Exception:
                c.destroy()
                raise
            _session_cluster = c
            atexit.register(shutdown_session_cluster)
        return _session_cluster


def shutdown_session_cluster():
    global _session_cluster
    with _session_cluster_lock:
        c, _session_cluster = _session_cluster, None
    if c is not None:
        c.destroy()


def _db_name(label):
    clean = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")[:30] or "db"
    return "natomm_%s_%d_%s" % (clean, next(_db_counter), uuid.uuid4().hex[:8])


def new_database(label="db", kind=None, cluster=None):
    """A fresh, empty database of the session's kind (or `kind`), not tied to
    any server: hand it to several servers with HttpdServer(db=...).  The
    caller drops it (db.drop()) after stopping the servers."""
    kind = kind or DB_KIND
    if kind == "pgsql":
        return (cluster or session_cluster()).create_database(_db_name(label))
    d = tempfile.mkdtemp(prefix="natomm-it-db-%s-" % re.sub(r"[^a-z0-9]+", "", label.lower()),
                         dir="/tmp")
    os.chmod(d, 0o755)
    pw = pwd.getpwnam(RUN_USER)
    os.chown(d, pw.pw_uid, pw.pw_gid)
    return SqliteDatabase(os.path.join(d, "natomm.db"), own_dir=True)


# --------------------------------------------------------------------------
# cookies

def parse_set_cookie(header):
    """'n=v; Path=/; HttpOnly' -> (name, value, {attr-lower: value-or-True})"""
    parts = [p.strip() for p in header.split(";")]
    name, _, value = parts[0].partition("=")
    attrs = {}
    for p in parts[1:]:
        if not p:
            continue
        k, eq, v = p.partition("=")
        attrs[k.strip().lower()] = v.strip() if eq else True
    return name.strip(), value.strip(), attrs


def set_cookie_headers(response):
    try:
        return list(response.raw.headers.getlist("Set-Cookie"))
    except AttributeError:  # pragma: no cover
        v = response.headers.get("Set-Cookie")
        return [v] if v else []


def set_cookies(response):
    return [parse_set_cookie(h) for h in set_cookie_headers(response)]


def cookie_is_deletion(value, attrs):
    if "max-age" in attrs:
        try:
            if int(attrs["max-age"]) <= 0:
                return True
        except ValueError:
            pass
    if "expires" in attrs and attrs["expires"] is not True:
        try:
            t = email.utils.parsedate_to_datetime(attrs["expires"])
            if t.timestamp() < time.time():
                return True
        except (TypeError, ValueError):
            pass
    return False


# --------------------------------------------------------------------------
# HTTP client

class _SourceAdapter(HTTPAdapter):
    def __init__(self, source_ip, **kw):
        self._source = (source_ip, 0)
        super().__init__(**kw)

    def init_poolmanager(self, connections, maxsize, block=False, **kw):
        self.poolmanager = PoolManager(num_pools=connections, maxsize=maxsize,
                                       block=block, source_address=self._source, **kw)


class Client:
    """A client bound to its own loopback source address.

    Cookies are handled by hand (not by requests' jar) so tests can plant,
    keep or replay them precisely.  POSTs get `Origin: <server url>` unless
    told otherwise."""

    def __init__(self, server, source_ip=None):
        self.server = server
        self.source_ip = source_ip or next_source_ip()
        self.http = requests.Session()
        self.http.trust_env = False
        from http.cookiejar import DefaultCookiePolicy
        self.http.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        self.http.mount("http://", _SourceAdapter(self.source_ip))
        self.cookies = {}

    def close(self):
        self.http.close()

    # -- cookies
    def cookie_header(self):
        return "; ".join("%s=%s" % kv for kv in self.cookies.items())

    def _absorb_cookies(self, r):
        for name, value, attrs in set_cookies(r):
            if value:
                remember_secret(value)
            if not value or cookie_is_deletion(value, attrs):
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value

    # -- requests
    def request(self, method, path, *, body=None, data=None, headers=None,
                origin=True, content_type=None, send_cookies=True,
                cookie=None, timeout=30, stream=False):
        """data: dict or list of pairs (form-encoded), or a str/bytes sent raw."""
        hdrs = {}
        if data is not None:
            if isinstance(data, (dict, list, tuple)):
                pairs = list(data.items()) if isinstance(data, dict) else list(data)
                for k, v in pairs:
                    if k in ("password", "current_password", "code", "reset_token"):
                        remember_secret(v)
                body = urllib.parse.urlencode(pairs).encode("utf-8")
            elif isinstance(data, str):
                body = data.encode("utf-8")
            else:
                body = data
            if content_type is None:
                content_type = "application/x-www-form-urlencoded"
        if content_type:
            hdrs["Content-Type"] = content_type
        if method.upper() == "POST" and origin:
            hdrs["Origin"] = self.server.url if origin is True else origin
        if cookie is not None:
            hdrs["Cookie"] = cookie
        elif send_cookies and self.cookies:
            hdrs["Cookie"] = self.cookie_header()
        if headers:
            hdrs.update(headers)
        hdrs = {k: v for k, v in hdrs.items() if v is not None}
        if method.upper() == "POST" and body is None:
            body = b""
        r = self.http.request(method, self.server.url + path, data=body, headers=hdrs,
                              allow_redirects=False, timeout=timeout, stream=stream)
        self._absorb_cookies(r)
        return r

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def head(self, path, **kw):
        return self.request("HEAD", path, **kw)

    def post(self, path, data=None, **kw):
        return self.request("POST", path, data=data, **kw)

    # -- account helpers
    def register(self, email_addr=None, password=GOOD_PASSWORD, **fields):
        email_addr = email_addr or unique_email()
        data = {"email": email_addr, "password": password}
        data.update(fields)
        return email_addr, self.post("/account/register", data)

    def verify(self, email_addr, code):
        return self.post("/account/verify", {"email": email_addr, "code": code})

    def login(self, email_addr, password=GOOD_PASSWORD, **fields):
        data = {"email": email_addr, "password": password}
        data.update(fields)
        return self.post("/account/login", data)

    def logout(self):
        return self.post("/account/logout")

    def session(self, **kw):
        return self.get("/account/session", **kw)


# --------------------------------------------------------------------------
# mail

def parse_mail_file(path):
    with open(path, "rb") as f:
        msg = email.message_from_bytes(f.read(), policy=email.policy.default)
    msg.natomm_path = path
    return msg


def text_part(msg):
    """The text/plain part of a message (the message itself if not multipart)."""
    if msg.is_multipart():
        for part in msg.walk():
            if part.get_content_type() == "text/plain" and not part.is_multipart():
                return part
        return None
    return msg if msg.get_content_type() == "text/plain" else None


def mail_text(msg):
    part = text_part(msg)
    if part is None:
        return ""
    return part.get_content()


def extract_code(msg, digits=None):
    """The verification code standing alone on its own line of the text body."""
    text = mail_text(msg)
    if digits:
        # N digits, possibly shown in groups ("325-118", "325 118")
        for m in re.finditer(r"^[ \t]*(\d[\d -]*\d)[ \t\r]*$", text, re.MULTILINE):
            if len(re.sub(r"[ -]", "", m.group(1))) == digits:
                remember_secret(m.group(1))
                remember_secret(re.sub(r"[ -]", "", m.group(1)))
                return m.group(1)
        return None
    else:
        m = CODE_RE.search(text)
    if not m:
        return None
    code = m.group(1)
    remember_secret(code)
    return code


class Mailbox:
    def __init__(self, path):
        self.path = path
        self._cache = {}

    def _files(self):
        try:
            names = os.listdir(self.path)
        except FileNotFoundError:
            return []
        return sorted(n for n in names if n.endswith(".eml"))

    def messages(self, to=None):
        out = []
        for name in self._files():
            full = os.path.join(self.path, name)
            msg = self._cache.get(name)
            if msg is None:
                try:
                    msg = parse_mail_file(full)
                    msg.natomm_mtime = os.stat(full).st_mtime_ns
                except FileNotFoundError:
                    continue
                self._cache[name] = msg
            msg.natomm_name = name
            if to is None or to.lower() in str(msg.get("To", "")).lower():
                out.append(msg)
        out.sort(key=lambda m: (m.natomm_mtime, m.natomm_name))
        return out

    def names(self, to=None):
        return {m.natomm_name for m in self.messages(to)}

    def count(self, to=None):
        return len(self.messages(to))

    def wait_for(self, to, since=None, timeout=10.0):
        """Wait for a new .eml whose To: contains `to`.

        since: None (any message counts), a set of file names already seen,
        or an int (number of messages to that address already seen)."""
        deadline = time.time() + timeout
        while True:
            msgs = self.messages(to)
            if since is None:
                new = msgs
            elif isinstance(since, int):
                new = msgs[since:]
            else:
                new = [m for m in msgs if m.natomm_name not in since]
            if new:
                return new[-1]
            if time.time() > deadline:
                raise AssertionError("no new mail to %s within %.1fs (have %d: %s)"
                                     % (to, timeout, len(msgs),
                                        [m.natomm_name for m in msgs]))
            time.sleep(0.1)


# --------------------------------------------------------------------------
# server

HTDOCS_INDEX = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>NATO Multimedia</title></head>
<body><h1>NATO Multimedia</h1><p><a href="/videos/sample.mp4">sample video</a></p></body></html>
"""
HTDOCS_LOGIN = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Log in</title></head>
<body><h1>Log in</h1><form method="post" action="/account/login">
<input name="email"><input name="password" type="password"><button>Log in</button>
</form></body></html>
"""
FREE_TXT = "free for everyone\n"


class HttpdServer:
    """One generated server root + one httpd instance.

    db: None gives the server a database of its own (SQLite file in its root,
    or a fresh PostgreSQL database with NATOMM_DB=pgsql), dropped at cleanup;
    a SqliteDatabase/PgDatabase (new_database(), or another server's .db) is
    shared and left to its maker.  mail_dir: the folder of the file: mail
    transport and of .mailbox (another server's, so that both deliver into one
    folder)."""

    def __init__(self, name="default", extra_conf="", *, module_path=None,
                 load_dbd=True, dbd_driver=True, mail_transport=None,
                 natomm_conf=None, extra_modules=(), servers=2, db=None,
                 mail_dir=None):
        self.name = name
        self.module_path = module_path or MODULE_PATH
        self.extra_conf = extra_conf
        self.load_dbd = load_dbd
        self.dbd_driver = dbd_driver
        self.mail_transport = mail_transport
        self.natomm_conf = natomm_conf
        self.extra_modules = list(extra_modules)
        self.servers = servers
        self.port = free_port()
        self.root = tempfile.mkdtemp(prefix="natomm-it-%s-" % name, dir="/tmp")
        os.chmod(self.root, 0o755)
        self.url = "http://127.0.0.1:%d" % self.port
        self.conf_path = os.path.join(self.root, "conf", "httpd.conf")
        self.error_log = os.path.join(self.root, "logs", "error_log")
        self.access_log = os.path.join(self.root, "logs", "access_log")
        self.pid_file = os.path.join(self.root, "run", "httpd.pid")
        self.var_dir = os.path.join(self.root, "var")
        self.mail_dir = mail_dir or os.path.join(self.var_dir, "mail")
        self.htdocs = os.path.join(self.root, "htdocs")
        self.mailbox = Mailbox(self.mail_dir)
        self.pid = None
        self.started = False
        self.keep = False
        self._make_root()
        self.owns_db = db is None and dbd_driver
        if db is None and dbd_driver:
            if DB_KIND == "pgsql":
                try:
                    db = new_database(name)
                except Exception:
                    shutil.rmtree(self.root, ignore_errors=True)
                    raise
            else:
                db = SqliteDatabase(os.path.join(self.var_dir, "natomm.db"))
        self.db = db
        self.db_kind = db.kind if db is not None else None
        # the SQLite file (None on PostgreSQL): prefer db_rows() & co.
        self.db_path = db.path if db is not None and db.kind == "sqlite" else None
        self.write_config()

    # -- layout
    def _make_root(self):
        pw = pwd.getpwnam(RUN_USER)
        for d in ("conf", "logs", "run", "htdocs", "htdocs/videos", "htdocs/public",
                  "var", "var/mail"):
            os.makedirs(os.path.join(self.root, d), exist_ok=True)
            os.chmod(os.path.join(self.root, d), 0o755)
        for d in ("var", "var/mail"):
            os.chown(os.path.join(self.root, d), pw.pw_uid, pw.pw_gid)
        with open(os.path.join(self.htdocs, "index.html"), "w") as f:
            f.write(HTDOCS_INDEX)
        with open(os.path.join(self.htdocs, "login.html"), "w") as f:
            f.write(HTDOCS_LOGIN)
        with open(os.path.join(self.htdocs, "public", "free.txt"), "w") as f:
            f.write(FREE_TXT)
        self.video_path = os.path.join(self.htdocs, "videos", "sample.mp4")
        with open(self.video_path, "wb") as f:
            f.write(os.urandom(VIDEO_SIZE))
        old = time.time() - 3600   # strong ETags (a just-written file gets a weak one)
        for p in ("index.html", "login.html", "public/free.txt", "videos/sample.mp4"):
            os.chmod(os.path.join(self.htdocs, p), 0o644)
            os.utime(os.path.join(self.htdocs, p), (old, old))

    def video_bytes(self):
        with open(self.video_path, "rb") as f:
            return f.read()

    def config_text(self):
        r = self.root
        lines = [
            "# generated by tests/integration/natomm_env.py",
            'ServerRoot "%s"' % r,
            'DefaultRuntimeDir "%s/run"' % r,
            'PidFile "%s"' % self.pid_file,
            "Listen 127.0.0.1:%d" % self.port,
            "ServerName 127.0.0.1:%d" % self.port,
            "",
            "LoadModule mpm_event_module %s/mod_mpm_event.so" % MODULES_DIR,
            "LoadModule authz_core_module %s/mod_authz_core.so" % MODULES_DIR,
            "LoadModule authz_user_module %s/mod_authz_user.so" % MODULES_DIR,
            "LoadModule authn_core_module %s/mod_authn_core.so" % MODULES_DIR,
            "LoadModule mime_module %s/mod_mime.so" % MODULES_DIR,
            "LoadModule dir_module %s/mod_dir.so" % MODULES_DIR,
        ]
        if self.load_dbd:
            lines.append("LoadModule dbd_module %s/mod_dbd.so" % MODULES_DIR)
        lines += [
            "LoadModule socache_shmcb_module %s/mod_socache_shmcb.so" % MODULES_DIR,
            "LoadModule headers_module %s/mod_headers.so" % MODULES_DIR,
        ]
        for m in self.extra_modules:
            lines.append(m)
        lines += [
            "LoadModule natomm_module %s" % self.module_path,
            "",
            "User %s" % RUN_USER,
            "Group %s" % RUN_GROUP,
            "StartServers %d" % self.servers,
            "ServerLimit %d" % self.servers,
            "ThreadsPerChild 16",
            "MaxRequestWorkers %d" % (16 * self.servers),
            "MinSpareThreads 1",
            "MaxSpareThreads %d" % (16 * self.servers),
            "Timeout 30",
            'ErrorLog "logs/error_log"',
            "LogLevel warn natomm:info",
            'LogFormat "%h %u \\"%r\\" %>s %b" natomm_it',
            'CustomLog "logs/access_log" natomm_it',
            'DocumentRoot "%s/htdocs"' % r,
            "TypesConfig /etc/mime.types",
            "DirectoryIndex index.html",
            "<Directory />",
            "    AllowOverride None",
            "    Require all denied",
            "</Directory>",
            '<Directory "%s/htdocs">' % r,
            "    Require all granted",
            "</Directory>",
            "",
        ]
        if self.dbd_driver:
            lines += self.db.dbd_conf()
        transport = self.mail_transport or "file:%s" % self.mail_dir
        if self.natomm_conf is not None:
            lines.append(self.natomm_conf)
        else:
            lines += [
                'NatommSiteName "%s"' % SITE_NAME,
                'NatommMailFrom "NATO Multimedia <no-reply@example.org>"',
                "NatommMailTransport %s" % transport,
                "NatommMailTemplates %s/conf/mail" % REPO,
                "NatommLoginPage /login.html",
                "<Location /account>",
                "    SetHandler natomm",
                "</Location>",
                '<Directory "%s/htdocs/videos">' % r,
                "    AuthType natomm",
                "    Require valid-user",
                "</Directory>",
            ]
        if self.extra_conf:
            lines += ["", "# extra", self.extra_conf]
        return "\n".join(lines) + "\n"

    def write_config(self):
        with open(self.conf_path, "w") as f:
            f.write(self.config_text())

    # -- control
    def _apache(self, *args, timeout=30):
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C"}
        return subprocess.run([APACHE, "-f", self.conf_path] + list(args),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, env=env, timeout=timeout)

    def configtest(self):
        """(returncode, combined output) of `apache2 -t -f conf`."""
        p = self._apache("-t")
        return p.returncode, p.stdout

    def read_error_log(self):
        try:
            with open(self.error_log, "r", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def read_access_log(self):
        try:
            with open(self.access_log, "r", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def start(self, timeout=10.0):
        p = self._apache("-k", "start")
        if p.returncode != 0:
            raise RuntimeError("apache2 -k start failed (rc=%d) for %s:\n%s\n--- error_log ---\n%s"
                               % (p.returncode, self.root, p.stdout, self.read_error_log()[-6000:]))
        deadline = time.time() + timeout
        last = None
        probe = requests.Session()
        probe.trust_env = False
        while time.time() < deadline:
            try:
                r = probe.get(self.url + "/index.html", timeout=2)
                if r.status_code == 200:
                    self.started = True
                    self.pid = self._read_pid()
                    return self
                last = "status %d" % r.status_code
            except requests.RequestException as e:
                last = repr(e)
            time.sleep(0.1)
        self.pid = self._read_pid()
        self.started = self.pid is not None
        raise RuntimeError("httpd at %s did not answer within %.0fs (%s); root %s\n"
                           "--- error_log ---\n%s" % (self.url, timeout, last, self.root,
                                                       self.read_error_log()[-6000:]))

    def _read_pid(self):
        try:
            with open(self.pid_file) as f:
                return int(f.read().strip())
        except (FileNotFoundError, ValueError):
            return None

    @staticmethod
    def _alive(pid):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        # a zombie counts as gone
        try:
            with open("/proc/%d/stat" % pid) as f:
                return f.read().split(")")[-1].split()[0] != "Z"
        except FileNotFoundError:
            return False

    def stop(self, timeout=10.0):
        pid = self.pid or self._read_pid()
        if pid is None:
            return
        self._apache("-k", "stop")
        deadline = time.time() + timeout
        while time.time() < deadline:
            if not self._alive(pid) and not os.path.exists(self.pid_file):
                break
            time.sleep(0.1)
        else:
            if self._alive(pid):   # the parent we started; only that pid
                os.kill(pid, signal.SIGKILL)
        self.started = False
        self.pid = None
        self.check_logs_for_secrets()

    def graceful(self):
        p = self._apache("-k", "graceful")
        if p.returncode != 0:
            raise RuntimeError("graceful failed: %s" % p.stdout)

    def check_logs_for_secrets(self):
        leaks = find_leaks(self.read_error_log())
        for s in leaks:
            LOG_LEAKS.append((self.name, s))
        return leaks

    def cleanup(self, keep=False):
        if keep or os.environ.get("NATOMM_KEEP"):
            print("\n[natomm] kept server root %s (%s)" % (
                self.root, self.db.describe() if self.db is not None else "no database"))
            return
        # root can remove it even if a test chmod-ed things
        for dirpath, dirnames, filenames in os.walk(self.root):
            for d in dirnames:
                try:
                    os.chmod(os.path.join(dirpath, d), 0o755)
                except OSError:
                    pass
        shutil.rmtree(self.root, ignore_errors=True)
        if self.owns_db and self.db is not None:
            self.db.drop()

    # -- database (both drivers)
    def db_rows(self, sql, params=()):
        """Rows of a query as tuples; `?` placeholders, numbers as int, NULL
        as None, on SQLite (read-only connection) and PostgreSQL (psql)."""
        return self.db.rows(sql, params)

    def db_tables(self):
        """The names of the tables of the server's database, sorted."""
        return self.db.tables()

    def db_exists(self):
        return self.db.exists()

    def break_database(self):
        """Make the database unusable under the running server.  SQLite:
        garbage over the file (+ WAL, shm) and no permissions; PostgreSQL: the
        database refuses connections and its open ones are terminated (the
        cluster, which other servers share, keeps running)."""
        self.db.break_()

    def restore_database(self):
        """Undo break_database() (SQLite: best effort; PostgreSQL: exact)."""
        self.db.restore()

    # -- mail
    def wait_for_mail(self, to, since=None, timeout=10.0):
        return self.mailbox.wait_for(to, since=since, timeout=timeout)

    def count_mail(self, to=None):
        return self.mailbox.count(to)

    def mail_names(self, to=None):
        return self.mailbox.names(to)

    def client(self, source_ip=None):
        return Client(self, source_ip=source_ip)


# --------------------------------------------------------------------------
# response checks

def lines_naming(out, word):
    """The lines of a command's output that mention word."""
    return [l for l in out.splitlines() if word in l]


def cache_control_tokens(r):
    return {t.strip().split("=")[0].lower() for t in r.headers.get("Cache-Control", "").split(",")
            if t.strip()}


def expect_json(r, status):
    """Assert the /account response contract of SPEC section 4 and return the body."""
    assert r.status_code == status, "expected %d, got %d: %s %r" % (
        status, r.status_code, r.headers.get("Content-Type"), r.text[:600])
    assert r.headers.get("Content-Type") == JSON_CT, r.headers.get("Content-Type")
    assert "no-store" in cache_control_tokens(r), r.headers.get("Cache-Control")
    try:
        return r.json()
    except ValueError:
        raise AssertionError("body is not JSON: %r" % r.text[:600])


def expect_error(r, status, code):
    body = expect_json(r, status)
    assert body.get("error") == code, body
    assert isinstance(body.get("message"), str) and body["message"].strip(), body
    return body


def allow_methods(r):
    return {m.strip().upper() for m in r.headers.get("Allow", "").split(",") if m.strip()}


def assert_session_cookie(r):
    """SPEC section 8: HttpOnly; SameSite=Lax; Path=/ (Secure + __Host- only over HTTPS)."""
    cookies = [c for c in set_cookies(r) if c[1]]
    assert len(cookies) == 1, set_cookie_headers(r)
    name, value, attrs = cookies[0]
    assert "httponly" in attrs, attrs
    assert str(attrs.get("samesite", "")).lower() == "lax", attrs
    assert attrs.get("path") == "/", attrs
    assert "domain" not in attrs, attrs
    if name.startswith("__Host-"):
        assert "secure" in attrs
    # 256-bit token: at least 32 bytes of entropy in whatever encoding
    assert len(value) >= 43, value
    return name, value, attrs


class Account:
    def __init__(self, email_addr, password, client):
        self.email = email_addr
        self.password = password
        self.client = client

    @property
    def cookie(self):
        return self.client.cookie_header()


def register_and_get_code(client, server, email_addr=None, password=GOOD_PASSWORD,
                          digits=None, **fields):
    email_addr = email_addr or unique_email()
    seen = server.mail_names(email_addr)
    email_addr, r = client.register(email_addr, password, **fields)
    assert r.status_code == 202, r.text
    msg = server.wait_for_mail(email_addr, since=seen)
    code = extract_code(msg, digits=digits)
    assert code, "no code line in mail:\n%s" % mail_text(msg)
    return email_addr, code, msg


def create_accounts(server, n, prefix="j"):
    """n verified accounts, registered together so that one mail tick serves
    all; each Account's client holds its session cookie."""
    clients = [server.client() for _ in range(n)]
    addrs, seen = [], []
    for c in clients:
        addr = unique_email(prefix)
        seen.append(server.mail_names(addr))
        _, r = c.register(addr, GOOD_PASSWORD)
        assert expect_json(r, 202)["status"] == "code_sent"
        addrs.append(addr)
    out = []
    for c, addr, s in zip(clients, addrs, seen):
        code = extract_code(server.wait_for_mail(addr, since=s))
        assert code
        assert expect_json(c.verify(addr, code), 200) == {"status": "verified"}
        out.append(Account(addr, GOOD_PASSWORD, c))
    return out


def account_id(server, addr):
    """The database id of the account for an address (as text)."""
    rows = server.db_rows("SELECT id FROM natomm_account WHERE email_norm = ?",
                          (addr.lower(),))
    assert rows, "no account row for %s" % addr
    return str(rows[0][0])


def wait_event(server, event, account, ip, timeout=3.0):
    """Wait for the error-log line of an account event."""
    pat = re.compile(r"NATOMM: event=%s account=%s ip=%s\b" % (
        re.escape(event), re.escape(str(account)), re.escape(ip)))
    deadline = time.time() + timeout
    while not pat.search(server.read_error_log()):
        if time.time() > deadline:
            raise AssertionError("no log line 'event=%s account=%s ip=%s'" % (event, account, ip))
        time.sleep(0.1)


def create_account(server, client=None, email_addr=None, password=GOOD_PASSWORD, **fields):
    """Register + verify; returns an Account whose client holds the session cookie."""
    client = client or server.client()
    email_addr, code, _ = register_and_get_code(client, server, email_addr, password, **fields)
    r = client.verify(email_addr, code)
    assert r.status_code == 200, r.text
    assert client.cookies, "verify set no cookie"
    return Account(email_addr, password, client)
