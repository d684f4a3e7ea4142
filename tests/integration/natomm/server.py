"""One generated server root and one httpd instance (pyhttpd's env.py + conf.py).

In the style of httpd's test/pyhttpd: every server instance gets a generated,
self-contained server root (conf/, logs/, htdocs/, var/, run/) under /tmp and
Debian's real httpd (/usr/sbin/apache2) is started on a free loopback port with
the module built in this repository (.libs/mod_natomm.so).

Nothing here touches /etc/apache2.
"""

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time

import requests

from .client import Client
from .db import DB_KIND, SqliteDatabase, new_database
from .env import (APACHE, MODULE_PATH, MODULES_DIR, REPO, RUN_GROUP, RUN_USER, SITE_NAME,
                  VIDEO_SIZE, free_port)
from . import log
from .log import LOG_LEAKS, find_leaks
from .mail import Mailbox

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


HTTPD_ENV_PREFIX = "NATOMM_HTTPD_ENV_"


def httpd_env():
    """Extra environment of apache2 and its children: every variable
    NATOMM_HTTPD_ENV_<NAME>=value of the test run becomes NAME=value there
    (make test-asan: LD_PRELOAD of the sanitizer runtimes, ASAN_OPTIONS,
    UBSAN_OPTIONS), without putting them into pytest's own process."""
    return {k[len(HTTPD_ENV_PREFIX):]: v for k, v in os.environ.items()
            if k.startswith(HTTPD_ENV_PREFIX) and len(k) > len(HTTPD_ENV_PREFIX)}


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
            "# generated by tests/integration/natomm/server.py",
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
        env.update(httpd_env())
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
        log.server_starting(self)
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
            log.server_stopped(self)
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
        log.server_stopped(self)
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
        log.server_gone(self)      # its last lines, checked before the root goes
        # (a server whose log the check refused has .keep set)
        if keep or self.keep or os.environ.get("NATOMM_KEEP"):
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

    def db_execute(self, sql, params=()):
        """One writing statement, `?` placeholders, on either driver."""
        self.db.execute(sql, params)

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
    def wait_for_outbox_sent(self, timeout, what="mail not delivered"):
        """Wait until no outbox row is waiting to be sent."""
        deadline = time.time() + timeout
        while self.db_rows("SELECT COUNT(*) FROM natomm_outbox WHERE sent_at IS NULL")[0][0]:
            assert time.time() < deadline, what
            time.sleep(0.1)

    def wait_for_mail(self, to, since=None, timeout=10.0):
        return self.mailbox.wait_for(to, since=since, timeout=timeout)

    def count_mail(self, to=None):
        return self.mailbox.count(to)

    def mail_names(self, to=None):
        return self.mailbox.names(to)

    def client(self, source_ip=None):
        return Client(self, source_ip=source_ip)
