"""Issue 15 item 5: `make install` keeps an edited mods-available/natomm.conf
(the new one goes beside it as natomm.conf.dist) and `make uninstall` takes
back what install put, keeping the edited file. Into a DESTDIR: nothing on
this machine is touched.
"""

import os
import subprocess

import natomm as ne


def make(*args, destdir):
    p = subprocess.run(["make", "-C", ne.REPO, "-s"] + list(args) + ["DESTDIR=%s" % destdir],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=600)
    assert p.returncode == 0, p.stdout[-3000:]
    return p.stdout


def files(root):
    out = set()
    for d, _, names in os.walk(root):
        for n in names:
            out.add(os.path.relpath(os.path.join(d, n), root))
    return out


def test_install_keeps_an_edited_conf_and_uninstall_cleans_up(tmp_path):
    dest = str(tmp_path / "root")
    make("install", destdir=dest)
    got = files(dest)
    for f in ("etc/apache2/mods-available/natomm.load",
              "etc/apache2/mods-available/natomm.conf",
              "usr/lib/apache2/modules/mod_natomm.so",
              "usr/local/sbin/natommctl", "usr/local/share/man/man8/natommctl.8",
              "usr/share/mod_natomm/mail/en/register_code.txt"):
        assert f in got, (f, sorted(got))
    conf = os.path.join(dest, "etc/apache2/mods-available/natomm.conf")
    with open(conf, "a") as f:
        f.write("# edited by the sysadmin\nNatommSiteName \"Mine\"\n")
    out = make("install", destdir=dest)
    assert "natomm.conf.dist" in out
    assert "edited by the sysadmin" in open(conf).read()
    assert os.path.exists(conf + ".dist")
    # unchanged: installed again in place, no .dist
    dest2 = str(tmp_path / "root2")
    make("install", destdir=dest2)
    make("install", destdir=dest2)
    assert not os.path.exists(os.path.join(dest2, "etc/apache2/mods-available/natomm.conf.dist"))

    out = make("uninstall", destdir=dest)
    assert files(dest) == {"etc/apache2/mods-available/natomm.conf"}, files(dest)
    make("uninstall", destdir=dest2)
    assert files(dest2) == set()
