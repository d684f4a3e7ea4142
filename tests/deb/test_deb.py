"""SPEC section 10, issue 15 item 4: the Debian package, installed into this
machine's real /etc/apache2 and taken out again.

`make deb-test` (not part of `make test`: it needs root, changes the
machine's Apache configuration for a minute, and takes about a minute).
Everything it touches is put back: /etc/apache2, /var/lib/apache2 and
/var/log/apache2 are saved in a tar file before and restored after, the
state folders the server makes are removed, and Apache is never left
running. It

1. installs build/libapache2-mod-natomm_<version>_<arch>.deb with
   `apt-get install ./...deb`, checks its dependencies and files,
2. runs `a2enmod natomm`, writes a site as the README's quick start says,
   `apachectl configtest`, starts Apache on a free loopback port,
3. registers, verifies, downloads a gated file, uses natommctl with the
   default configuration,
4. stops Apache, purges the package, and checks that nothing of it is left.
"""

import glob
import os
import pwd
import re
import shutil
import socket
import subprocess
import tarfile
import tempfile
import time

import pytest
import requests

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PACKAGE = "libapache2-mod-natomm"
PASSWORD = "Kx7#mQ2!vR9@pL"
CODE_RE = re.compile(r"^\s*([BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4})\s*$", re.M)
SAVED = ["etc/apache2", "var/lib/apache2", "var/log/apache2"]
MADE = ["/var/lib/natomm", "/var/run/apache2", "/var/lock/apache2", "/run/apache2"]
ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
       "LANG": "C", "DEBIAN_FRONTEND": "noninteractive", "HOME": "/root"}

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


def sh(*cmd, check=True, timeout=300):
    p = subprocess.run(list(cmd), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, env=ENV, timeout=timeout, stdin=subprocess.DEVNULL)
    if check and p.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s" % (" ".join(cmd), p.returncode,
                                                      p.stdout[-4000:]))
    return p


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def deb_file():
    found = sorted(glob.glob(os.path.join(REPO, "build", PACKAGE + "_*.deb")))
    if not found:
        sh("make", "-C", REPO, "deb", timeout=900)
        found = sorted(glob.glob(os.path.join(REPO, "build", PACKAGE + "_*.deb")))
    assert found, "make deb made no package"
    return found[-1]


def apache_pid():
    for f in ("/var/run/apache2/apache2.pid", "/run/apache2/apache2.pid"):
        try:
            with open(f) as fh:
                pid = int(fh.read().strip())
            os.kill(pid, 0)
            return pid
        except (OSError, ValueError):
            continue
    return None


@pytest.fixture
def machine(tmp_path):
    """This machine's Apache, saved and restored around the test."""
    if apache_pid():
        pytest.skip("the system's Apache is running: not touching it")
    if sh("dpkg-query", "-W", "-f=${Status}", PACKAGE, check=False).stdout.startswith(
            "install ok installed"):
        pytest.skip("%s is installed on this machine already" % PACKAGE)
    if os.path.exists("/var/lib/natomm"):
        pytest.skip("/var/lib/natomm exists already")
    saved = tmp_path / "saved.tar"
    with tarfile.open(saved, "w") as t:
        for d in SAVED:
            if os.path.exists("/" + d):
                t.add("/" + d, arcname=d)
    existed = {d: os.path.exists(d) for d in MADE}
    # packages must not start services (apache2 would take port 80)
    made_policy = not os.path.exists("/usr/sbin/policy-rc.d")
    if made_policy:
        with open("/usr/sbin/policy-rc.d", "w") as f:
            f.write("#!/bin/sh\nexit 101\n")
        os.chmod("/usr/sbin/policy-rc.d", 0o755)
    site = tempfile.mkdtemp(prefix="natomm-deb-site-", dir="/tmp")
    try:
        yield site
    finally:
        pid = apache_pid()
        if pid:
            sh("apache2ctl", "stop", check=False)
            deadline = time.time() + 10
            while apache_pid() and time.time() < deadline:
                time.sleep(0.2)
            if apache_pid():
                os.kill(pid, 9)
        if sh("dpkg-query", "-W", "-f=${Status}", PACKAGE, check=False).stdout.strip() \
                not in ("", "unknown ok not-installed"):
            sh("apt-get", "purge", "-y", "-q", "-o", "DPkg::Lock::Timeout=120", PACKAGE,
               check=False)
        for d in SAVED:
            shutil.rmtree("/" + d, ignore_errors=True)
        with tarfile.open(saved) as t:
            t.extractall("/")
        for d, was in existed.items():
            if not was and os.path.lexists(d):
                if os.path.islink(d):
                    os.unlink(d)
                else:
                    shutil.rmtree(d, ignore_errors=True)
        if made_policy:
            os.unlink("/usr/sbin/policy-rc.d")
        shutil.rmtree(site, ignore_errors=True)


SITE_CONF = """# the README's quick start, on a free port
Listen 127.0.0.1:{port}
DBDriver  sqlite3
DBDParams /var/lib/natomm/natomm.db
NatommSiteName      "NATO Multimedia"
NatommMailFrom      "NATO Multimedia <no-reply@example.org>"
NatommMailTransport file:/var/lib/natomm/mail
NatommPublicURL     http://127.0.0.1:{port}
<VirtualHost 127.0.0.1:{port}>
    ServerName 127.0.0.1
    DocumentRoot {site}
    <Directory {site}>
        Require all granted
    </Directory>
    <Location /account>
        SetHandler natomm
    </Location>
    Alias /videos {videos}
    <Directory {videos}>
        AuthType natomm
        Require valid-user
    </Directory>
</VirtualHost>
"""


def test_package_installs_serves_and_purges(machine):
    deb = deb_file()
    name = os.path.basename(deb)
    assert re.match(r"^%s_[0-9][^_]*_[a-z0-9]+\.deb$" % PACKAGE, name), name
    info = sh("dpkg-deb", "-f", deb, "Depends").stdout
    for dep in ("apache2-api-20120211", "libaprutil1-dbd-sqlite3 | libaprutil1-dbd-pgsql",
                "libargon2-1", "libcurl4"):
        assert dep in info, info

    sh("apt-get", "install", "-y", "-q", "--no-install-recommends",
       "-o", "DPkg::Lock::Timeout=120", deb)
    files = [l for l in sh("dpkg", "-L", PACKAGE).stdout.splitlines() if l.strip()]
    for f in ("/usr/lib/apache2/modules/mod_natomm.so", "/usr/sbin/natommctl",
              "/usr/share/man/man8/natommctl.8.gz", "/etc/apache2/mods-available/natomm.load",
              "/etc/apache2/mods-available/natomm.conf",
              "/usr/share/mod_natomm/mail/en/register_code.txt",
              "/usr/share/mod_natomm/mail/fr/register_code.txt"):
        assert f in files, (f, files)
        assert os.path.exists(f), f
    with open("/etc/apache2/mods-available/natomm.load") as f:
        assert "# Depends: dbd" in f.read()
    st = os.stat("/var/lib/natomm")
    assert pwd.getpwuid(st.st_uid).pw_name == "www-data"
    # dh_apache2 enables the module (and so dbd); a2enmod is then a no-op
    sh("a2enmod", "-q", "natomm", "socache_shmcb")
    assert os.path.exists("/etc/apache2/mods-enabled/natomm.load")
    assert os.path.exists("/etc/apache2/mods-enabled/dbd.load")
    assert apache_pid() is None, "the package started Apache"

    port = free_port()
    videos = os.path.join(machine, "v")
    os.makedirs(videos)
    with open(os.path.join(machine, "index.html"), "w") as f:
        f.write("<!doctype html><title>portal</title><p>portal</p>\n")
    video = os.urandom(100000)
    with open(os.path.join(videos, "clip.mp4"), "wb") as f:
        f.write(video)
    os.chmod(machine, 0o755)
    sh("install", "-d", "-o", "www-data", "-g", "www-data", "-m", "0750",
       "/var/lib/natomm/mail")
    # only this site, on its own port
    with open("/etc/apache2/ports.conf", "w") as f:
        f.write("# natomm deb test\n")
    sh("a2dissite", "-q", "000-default", check=False)
    with open("/etc/apache2/sites-available/natomm-deb-test.conf", "w") as f:
        f.write(SITE_CONF.format(port=port, site=machine, videos=videos))
    sh("a2ensite", "-q", "natomm-deb-test")
    out = sh("apachectl", "configtest").stdout
    assert "Syntax OK" in out, out

    sh("apachectl", "start")
    url = "http://127.0.0.1:%d" % port
    deadline = time.time() + 15
    while True:
        try:
            if requests.get(url + "/", timeout=2).status_code == 200:
                break
        except requests.RequestException:
            pass
        assert time.time() < deadline, open("/var/log/apache2/error.log").read()[-3000:]
        time.sleep(0.2)
    s = requests.Session()
    s.trust_env = False
    addr = "deb-%d@example.org" % os.getpid()
    r = s.post(url + "/account/register", data={"email": addr, "password": PASSWORD},
               headers={"Origin": url}, timeout=30)
    assert r.status_code == 202, r.text
    code, deadline = None, time.time() + 15
    while not code:
        for n in os.listdir("/var/lib/natomm/mail"):
            text = open(os.path.join("/var/lib/natomm/mail", n), errors="replace").read()
            if addr in text and CODE_RE.search(text):
                code = CODE_RE.search(text).group(1)
        assert time.time() < deadline, "no mail"
        time.sleep(0.2)
    assert s.get(url + "/videos/clip.mp4", timeout=10).status_code == 401
    r = s.post(url + "/account/verify", data={"email": addr, "code": code},
               headers={"Origin": url}, timeout=30)
    assert r.status_code == 200, r.text
    r = s.get(url + "/videos/clip.mp4", timeout=30)
    assert r.status_code == 200 and r.content == video
    r = s.get(url + "/videos/clip.mp4", headers={"Range": "bytes=10-19"}, timeout=30)
    assert r.status_code == 206 and r.content == video[10:20]
    # natommctl finds the database through /etc/apache2/apache2.conf
    p = sh("natommctl", "show", addr)
    assert addr in p.stdout and "verified" in p.stdout, p.stdout
    assert sh("natommctl", "show", "nobody@example.org", check=False).returncode == 1
    assert "natommctl - accounts" in sh("man", "-P", "cat", "natommctl").stdout

    sh("apachectl", "stop")
    deadline = time.time() + 10
    while apache_pid() and time.time() < deadline:
        time.sleep(0.2)
    assert apache_pid() is None

    sh("apt-get", "purge", "-y", "-q", "-o", "DPkg::Lock::Timeout=120", PACKAGE)
    status = sh("dpkg-query", "-W", "-f=${Status}", PACKAGE, check=False).stdout
    assert "installed" not in status or "not-installed" in status, status
    left = [f for f in files if os.path.isfile(f)]
    assert left == [], left
    assert not os.path.exists("/var/lib/natomm")
    assert not glob.glob("/etc/apache2/mods-*/natomm.*")
