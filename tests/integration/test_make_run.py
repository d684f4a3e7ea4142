"""SPEC section 2, issue 15 item 5: `make run` from a clone that httpd's
children cannot enter (a 0700 folder, run as root, as CI runs it: no
terminal, no stdin, CI=true) serves the demo site, registers and mails.

Slow (it builds the clone): marked `slow`.
"""

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

import pytest
import requests

import natomm as ne
from natomm import GOOD_PASSWORD, expect_json

pytestmark = pytest.mark.slow


def copy_tree(dest):
    """The working tree as git sees it (tracked and new files, not ignored)."""
    names = subprocess.run(["git", "-C", ne.REPO, "ls-files", "-z", "--cached", "--others",
                            "--exclude-standard"], stdout=subprocess.PIPE,
                           check=True).stdout.split(b"\0")
    for n in names:
        if not n:
            continue
        src = os.path.join(ne.REPO, n.decode())
        if not os.path.isfile(src):
            continue
        dst = os.path.join(dest, n.decode())
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(src, dst)


@pytest.fixture
def private_clone():
    outer = tempfile.mkdtemp(prefix="natomm-it-private-", dir="/tmp")
    os.chmod(outer, 0o700)
    clone = os.path.join(outer, "natomm")
    os.mkdir(clone)
    copy_tree(clone)
    stage = tempfile.mkdtemp(prefix="natomm-it-stage-", dir="/tmp")
    shutil.rmtree(stage)
    yield clone, stage
    shutil.rmtree(outer, ignore_errors=True)
    shutil.rmtree(stage, ignore_errors=True)


def test_make_run_from_a_folder_the_children_cannot_enter(private_clone):
    clone, stage = private_clone
    port = ne.free_port()
    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
           "HOME": "/root", "LANG": "C.UTF-8", "CI": "true", "PORT": str(port),
           "NATOMM_RUN_DIR": stage}
    log = open(os.path.join(os.path.dirname(clone), "make-run.log"), "w+")
    p = subprocess.Popen(["make", "run"], cwd=clone, env=env, stdin=subprocess.DEVNULL,
                         stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = "http://127.0.0.1:%d" % port
    try:
        deadline = time.time() + 300
        while True:
            assert p.poll() is None, open(log.name).read()[-4000:]
            try:
                if requests.get(url + "/", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.time() < deadline, open(log.name).read()[-4000:]
            time.sleep(0.5)
        out = open(log.name).read()
        assert "serving a copy from %s" % stage in out, out[-3000:]
        r = requests.get(url + "/", timeout=10)
        assert r.status_code == 200 and "<html" in r.text.lower()

        s = requests.Session()
        s.trust_env = False
        addr = ne.unique_email("run")
        r = s.post(url + "/account/register", data={"email": addr, "password": GOOD_PASSWORD},
                   headers={"Origin": url}, timeout=30)
        expect_json(r, 202)
        # the code: in var/mail (a link to the staged folder) and on the terminal
        mail_dir = os.path.join(clone, "var", "mail")
        assert os.path.islink(os.path.join(clone, "var"))
        deadline = time.time() + 15
        code = None
        while code is None:
            for n in os.listdir(mail_dir):
                with open(os.path.join(mail_dir, n), encoding="utf-8", errors="replace") as f:
                    text = f.read()
                if addr in text:
                    m = re.search(r"^\s*([%s]{4}-[%s]{4})\s*$" % (ne.CODE_ALPHABET,
                                                                  ne.CODE_ALPHABET), text, re.M)
                    code = m and m.group(1)
            assert time.time() < deadline, os.listdir(mail_dir)
            time.sleep(0.2)
        ne.remember_secret(code)
        r = s.post(url + "/account/verify", data={"email": addr, "code": code},
                   headers={"Origin": url}, timeout=30)
        expect_json(r, 200)
        r = s.get(url + "/videos/nato-defence-ministers-sample.mp4",
                  headers={"Range": "bytes=0-99"}, timeout=30)
        assert r.status_code == 206, r.status_code
        time.sleep(1)
        assert "===== mail " in open(log.name).read()
    finally:
        os.killpg(p.pid, signal.SIGINT)
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
        log.close()
    # nothing of it still listens
    with pytest.raises(requests.RequestException):
        requests.get(url + "/", timeout=2)
