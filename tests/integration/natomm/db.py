"""Databases: SQLite (default) or PostgreSQL (NATOMM_DB=pgsql).

Every HttpdServer gets its own database unless it is handed one (db=...):
SQLite: <root>/var/natomm.db; PostgreSQL: a fresh database (CREATE DATABASE)
in one throwaway cluster per test session, started on first use and stopped
and deleted at session end (conftest.py, with an atexit fallback).  Tests
read and break the database only through HttpdServer.db_rows(),
db_tables(), break_database() and restore_database(), which work on both.
"""

import atexit
import itertools
import os
import pwd
import re
import shutil
import subprocess
import tempfile
import threading
import uuid

from .env import RUN_USER, free_port

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
    """A SQLite file.  Read through a read-only URI connection; written only
    by execute(), for what a sysadmin (or natommctl) would do by hand."""

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

    def execute(self, sql, params=()):
        """One statement in a transaction of its own (the server's WAL and
        shared-memory files exist already, so none is made root's)."""
        import sqlite3
        db = sqlite3.connect(self.path, timeout=10)
        try:
            db.execute(sql, tuple(params))
            db.commit()
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
