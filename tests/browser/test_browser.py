"""The browser suite: the demo site in Debian's Chromium (playwright-core).

One httpd for the module (tests/integration/natomm_env.py's HttpdServer) whose
DocumentRoot is the repository's htdocs/ with the demo's sample video behind
the gate, and the security headers of conf/dev-httpd.conf.in. Each scenario of
tests/browser/flows.mjs runs in its own node process with a fresh Chromium
profile; screenshots of every screen go to tests/output/screens/.

Run:  make && npm ci && /usr/bin/python3 -m pytest -q tests/browser
Env:  NATOMM_KEEP=1 keeps the server root; NATOMM_CHROMIUM overrides
      /usr/bin/chromium; NATOMM_NODE overrides the node on PATH.
"""

import os
import shutil
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))

import natomm_env as ne  # noqa: E402

FLOWS = os.path.join(HERE, "flows.mjs")
SCREENS = os.path.join(REPO, "tests", "output", "screens")
VIDEO_NAME = "nato-defence-ministers-sample.mp4"
CHROMIUM = os.environ.get("NATOMM_CHROMIUM", "/usr/bin/chromium")
NODE = os.environ.get("NATOMM_NODE") or shutil.which("node") or "/usr/bin/node"

SCENARIOS = [
    "register_download",
    "gated_link_login",
    "login_unverified",
    "reset_return",
    "account_page",
    "unsubscribe",
    "french",
    "keyboard",
    "layout_360",
]


def security_headers_block():
    """The mod_headers block of the demo config, so the test checks what `make run` sends."""
    with open(os.path.join(REPO, "conf", "dev-httpd.conf.in")) as f:
        text = f.read()
    start = text.index("# --- security headers")
    end = text.index("# --- end of security headers")
    return text[start:end]


def missing_tools():
    problems = []
    if not os.path.isfile(NODE):
        problems.append("node is missing (apt-get install nodejs npm)")
    if not os.path.isfile(CHROMIUM):
        problems.append("%s is missing (apt-get install chromium)" % CHROMIUM)
    for pkg in ("playwright-core", "axe-core"):
        if not os.path.isdir(os.path.join(REPO, "node_modules", pkg)):
            problems.append("node_modules/%s is missing (run `npm ci` in %s)" % (pkg, REPO))
    return problems


def install_site(server):
    """Copy the repository's htdocs over the generated root's placeholder pages."""
    subprocess.run(["bash", os.path.join(REPO, "scripts", "demo-assets"),
                    os.path.join(REPO, "htdocs")], check=True)
    shutil.copytree(os.path.join(REPO, "htdocs"), server.htdocs, dirs_exist_ok=True)
    old = time.time() - 3600       # strong ETags, as for a site deployed a while ago
    for dirpath, dirnames, filenames in os.walk(server.htdocs):
        os.chmod(dirpath, 0o755)
        for name in filenames:
            p = os.path.join(dirpath, name)
            os.chmod(p, 0o644)
            os.utime(p, (old, old))
    return os.path.join(server.htdocs, "videos", VIDEO_NAME)


@pytest.fixture(scope="module")
def demo_server():
    problems = missing_tools()
    if problems:
        pytest.fail("the browser suite cannot run:\n  " + "\n  ".join(problems), pytrace=False)
    ne.ensure_module_built()
    extra = security_headers_block() + "\n# the page counts 60 s; a short server interval lets the test resend\n" \
        "NatommResendInterval 2s\n"
    server = ne.HttpdServer(name="browser", extra_conf=extra)
    server.video_file = install_site(server)
    server.failed = False
    try:
        server.start()
        yield server
    finally:
        server.stop()
        server.cleanup(keep=server.failed)


@pytest.fixture(scope="module", autouse=True)
def fresh_screens():
    shutil.rmtree(SCREENS, ignore_errors=True)
    os.makedirs(SCREENS, exist_ok=True)
    yield


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_browser(demo_server, scenario):
    env = dict(os.environ, NATOMM_VIDEO_FILE=demo_server.video_file,
               NATOMM_CHROMIUM=CHROMIUM, NO_COLOR="1")
    cmd = [NODE, FLOWS, demo_server.url, demo_server.mail_dir, SCREENS, scenario]
    try:
        p = subprocess.run(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=150)
    except subprocess.TimeoutExpired as e:
        demo_server.failed = True
        out = e.stdout.decode("utf-8", "replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        pytest.fail("%s timed out:\n%s" % (scenario, out[-8000:]), pytrace=False)
    if p.returncode != 0:
        demo_server.failed = True
        tail = "\n".join(demo_server.read_error_log().splitlines()[-20:])
        pytest.fail("scenario %s failed (rc=%d):\n%s\n--- error_log tail ---\n%s"
                    % (scenario, p.returncode, p.stdout[-12000:], tail), pytrace=False)
