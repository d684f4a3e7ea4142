"""Issue 15, item 6: what configtest and the start say about a deployment.

- settings of a <VirtualHost> are the ones checked for the handler it mounts;
- a SQLite database folder (or file) the children cannot write, and an SMTP
  cafile= they cannot read, stop configtest with one line naming the path;
- a missing NatommPublicURL is a warning naming the directive;
- the shipped conf/natomm.conf passes with and without the module loaded,
  and a gate left behind by `a2dismod natomm` fails closed.
"""

import os
import pwd
import shutil
import tempfile

import pytest
import requests

import natomm as ne
from natomm import expect_json

HOST_MODULE = "LoadModule authz_host_module %s/mod_authz_host.so" % ne.MODULES_DIR


@pytest.fixture
def tmpdir_root():
    d = tempfile.mkdtemp(prefix="natomm-it-checks-", dir="/tmp")
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def vhost_conf(srv_port, mail_dir, with_mail=True, mount="/konto"):
    mail = ('    NatommMailFrom "VH <no-reply@example.org>"\n'
            "    NatommMailTransport file:%s\n" % mail_dir) if with_mail else ""
    return ("<VirtualHost 127.0.0.1:%d>\n"
            "    ServerName 127.0.0.1:%d\n"
            '    NatommSiteName "Virtual"\n%s'
            "    NatommMailTemplates %s/conf/mail\n"
            "    NatommPublicURL https://vh.example.org\n"
            "    <Location %s>\n        SetHandler natomm\n    </Location>\n"
            "    <Location /subs>\n        SetHandler natomm-subscribers\n"
            "        Require ip 127.0.0.1\n    </Location>\n"
            "</VirtualHost>\n" % (srv_port, srv_port, mail, ne.REPO, mount))


def test_mail_settings_inside_a_virtual_host(server_factory):
    s = server_factory(name="vhost", start=False, natomm_conf="",
                       extra_modules=[HOST_MODULE])
    s.extra_conf = vhost_conf(s.port, s.mail_dir)
    s.write_config()
    rc, out = s.configtest()
    assert rc == 0, out
    assert not ne.lines_naming(out, "NatommMailFrom"), out
    s.start()
    # the export learns the mount of that virtual host's handler
    c = s.client()
    addr = ne.unique_email("vh")
    expect_json(c.post("/konto/register", {"email": addr, "password": ne.GOOD_PASSWORD}),
                202)
    code = ne.extract_code(s.wait_for_mail(addr))
    expect_json(c.post("/konto/verify", {"email": addr, "code": code}), 200)
    expect_json(c.post("/konto/newsletter", {"subscribe": "1"}), 200)
    r = requests.get(s.url + "/subs", timeout=10)
    assert r.status_code == 200, r.text
    assert "https://vh.example.org/konto/newsletter/unsubscribe?token=" in r.text
    c.close()


def test_virtual_host_without_mail_settings_is_named(server_factory):
    s = server_factory(name="vhost-bad", start=False, natomm_conf="",
                       extra_modules=[HOST_MODULE])
    s.extra_conf = vhost_conf(s.port, s.mail_dir, with_mail=False)
    s.write_config()
    rc, out = s.configtest()
    assert rc != 0, out
    lines = ne.lines_naming(out, "NatommMailFrom")
    assert len(lines) == 1 and "VirtualHost" in lines[0], out


def test_unwritable_sqlite_folder(server_factory, tmpdir_root):
    if ne.DB_KIND != "sqlite":
        pytest.skip("SQLite only")
    ro = os.path.join(tmpdir_root, "ro")
    os.mkdir(ro, 0o755)                       # root's: www-data cannot write
    db = ne.SqliteDatabase(os.path.join(ro, "natomm.db"))
    s = server_factory(name="rodb", start=False, db=db)
    rc, out = s.configtest()
    assert rc != 0, out
    lines = ne.lines_naming(out, ro)
    assert len(lines) == 1 and "DBDParams" in lines[0] and "www-data" in lines[0], out
    # a missing folder
    db2 = ne.SqliteDatabase(os.path.join(tmpdir_root, "missing", "natomm.db"))
    s2 = server_factory(name="nodb", start=False, db=db2)
    rc, out = s2.configtest()
    assert rc != 0 and "does not exist" in out, out
    # the folder is fine, but a file in it is root's (natommctl run as root
    # by hand with sqlite3, say)
    ok = os.path.join(tmpdir_root, "ok")
    os.mkdir(ok, 0o755)
    pw = pwd.getpwnam(ne.RUN_USER)
    os.chown(ok, pw.pw_uid, pw.pw_gid)
    open(os.path.join(ok, "natomm.db-wal"), "w").close()
    s3 = server_factory(name="walroot", start=False,
                        db=ne.SqliteDatabase(os.path.join(ok, "natomm.db")))
    rc, out = s3.configtest()
    assert rc != 0 and ne.lines_naming(out, "natomm.db-wal"), out
    os.chown(os.path.join(ok, "natomm.db-wal"), pw.pw_uid, pw.pw_gid)
    rc, out = s3.configtest()
    assert rc == 0, out


def test_unreadable_cafile(configtest, tmpdir_root):
    ca = os.path.join(tmpdir_root, "ca.pem")
    with open(ca, "w") as f:
        f.write("not really a certificate\n")
    os.chmod(ca, 0o600)                       # root's only
    rc, out = configtest(mail_transport="smtp://127.0.0.1:25?starttls&cafile=" + ca)
    assert rc != 0, out
    lines = ne.lines_naming(out, ca)
    assert len(lines) == 1 and "cafile" in lines[0], out
    os.chmod(ca, 0o644)
    rc, out = configtest(mail_transport="smtp://127.0.0.1:25?starttls&cafile=" + ca)
    assert rc == 0, out
    rc, out = configtest(mail_transport="smtp://127.0.0.1:25?starttls&cafile="
                         + ca + ".missing")
    assert rc != 0 and "no such file" in out, out


def test_missing_public_url_is_a_warning(configtest):
    rc, out = configtest()
    assert rc == 0, out
    lines = ne.lines_naming(out, "NatommPublicURL")
    assert len(lines) == 1 and "[natomm:warn]" in lines[0], out
    rc, out = configtest("NatommPublicURL https://media.example.org\n")
    assert rc == 0 and not ne.lines_naming(out, "NatommPublicURL"), out


SITE_GATE = """NatommLoginPage /login.html
<Directory "{root}/htdocs/videos">
    AuthType natomm
    Require valid-user
</Directory>
"""


def shipped_conf():
    with open(os.path.join(ne.REPO, "conf", "natomm.conf")) as f:
        return f.read()


def test_shipped_conf_with_the_module(configtest):
    rc, out = configtest(natomm_conf=shipped_conf())
    assert rc == 0, out


@pytest.mark.expect_log(r"\[authn_core:error\] .*AuthType natomm configured without "
                        r"corresponding module",
                        r"\[core:error\] .*AH00027: No authentication done but request "
                        r"not allowed without authentication")
def test_gate_fails_closed_without_the_module(server_factory):
    s = server_factory(name="nomod", start=False, natomm_conf=shipped_conf())
    text = s.config_text()
    text = "\n".join(l.replace(" natomm:info", "") for l in text.splitlines()
                     if not l.startswith("LoadModule natomm_module"))
    # what a2dismod leaves: the site's own gate, outside any <IfModule>
    text += "\n" + SITE_GATE.replace("NatommLoginPage /login.html\n", "").format(root=s.root)
    with open(s.conf_path, "w") as f:
        f.write(text)
    rc, out = s.configtest()
    assert rc == 0, out
    s.start()
    assert requests.get(s.url + "/public/free.txt", timeout=10).status_code == 200
    for headers in ({}, {"Range": "bytes=0-9"}, {"Accept": ne.BROWSER_ACCEPT}):
        r = requests.get(s.url + "/videos/sample.mp4", headers=headers, timeout=10)
        assert r.status_code >= 400, (headers, r.status_code)
        assert len(r.content) < 10000
    r = requests.head(s.url + "/videos/sample.mp4", timeout=10)
    assert r.status_code >= 400


@pytest.mark.parametrize("spec, ok", [("nosuch", False), ("NoSuch:1", False),
                                      ("none", True), ("NONE", True)])
def test_session_cache_provider_checked_at_configtest(server_factory, spec, ok):
    """An unknown socache provider stops configtest with one line naming the
    directive; none (any case) needs no provider."""
    s = server_factory("NatommSessionCache %s\n" % spec, name="cachespec", start=False)
    rc, out = s.configtest()
    if ok:
        assert rc == 0, out
    else:
        assert rc != 0, out
        lines = [l for l in out.splitlines() if "NatommSessionCache %s" % spec in l]
        assert len(lines) == 1 and "no such socache provider" in lines[0], out
