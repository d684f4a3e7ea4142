"""The browser suite: the demo site in Debian's Chromium (playwright-core).

One httpd for the module (the tests/integration/natomm package's HttpdServer) whose
DocumentRoot is a copy of the assembled site, build/htdocs/ (scripts/build-pages
makes it from htdocs/, see htdocs/README.md), with the demo's sample video behind
the gate, and the security headers of conf/dev-httpd.conf.in. Each scenario of
tests/browser/flows.mjs runs in its own node process with a fresh Chromium
profile; screenshots of every screen go to tests/output/screens/. The
other_settings scenario gets a second server whose NatommPasswordLength,
NatommCodeFormat, NatommCodeLifetime, NatommResendInterval and
NatommSessionRemember all differ from the defaults.

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

import natomm as ne  # noqa: E402

FLOWS = os.path.join(HERE, "flows.mjs")
SITE = os.path.join(REPO, "build", "htdocs")
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
    "no_javascript",
    "double_registration",
    "download_link",
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


def build_site():
    """Assemble the pages into build/htdocs (what `make pages` does) and add the sample video."""
    subprocess.run([sys.executable, os.path.join(REPO, "scripts", "build-pages")], check=True)
    subprocess.run(["bash", os.path.join(REPO, "scripts", "demo-assets"), SITE], check=True)


def install_site(server):
    """Copy the assembled site over the generated root's placeholder pages."""
    shutil.copytree(SITE, server.htdocs, dirs_exist_ok=True)
    old = time.time() - 3600       # strong ETags, as for a site deployed a while ago
    for dirpath, dirnames, filenames in os.walk(server.htdocs):
        os.chmod(dirpath, 0o755)
        for name in filenames:
            p = os.path.join(dirpath, name)
            os.chmod(p, 0o644)
            os.utime(p, (old, old))
    return os.path.join(server.htdocs, "videos", VIDEO_NAME)


# the second server of other_settings: every value the pages show differs
# from the defaults (SPEC §3), so a page that hard-codes one is caught
OTHER_SETTINGS = """
NatommPasswordLength 14 64
NatommCodeFormat digits 6
NatommCodeLifetime register 15m
NatommCodeLifetime reset 45m
NatommResendInterval 2m
NatommSessionRemember 7d
"""


def site_server(name, settings):
    problems = missing_tools()
    if problems:
        pytest.fail("the browser suite cannot run:\n  " + "\n  ".join(problems), pytrace=False)
    ne.ensure_module_built()
    build_site()
    server = ne.HttpdServer(name=name, extra_conf=security_headers_block() + settings)
    server.video_file = install_site(server)
    server.failed = False
    try:
        server.start()
        yield server
    finally:
        server.stop()
        server.cleanup(keep=server.failed)


@pytest.fixture(scope="module")
def demo_server():
    # a short interval lets a test ask for a new code; the page counts it too
    yield from site_server("browser", "\nNatommResendInterval 2s\n")


@pytest.fixture(scope="module")
def settings_server():
    yield from site_server("browser-settings", OTHER_SETTINGS)


@pytest.fixture(scope="module", autouse=True)
def fresh_screens():
    shutil.rmtree(SCREENS, ignore_errors=True)
    os.makedirs(SCREENS, exist_ok=True)
    yield


def run_scenario(server, scenario):
    env = dict(os.environ, NATOMM_VIDEO_FILE=server.video_file,
               NATOMM_ACCESS_LOG=server.access_log, NATOMM_CHROMIUM=CHROMIUM, NO_COLOR="1")
    cmd = [NODE, FLOWS, server.url, server.mail_dir, SCREENS, scenario]
    try:
        p = subprocess.run(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=150)
    except subprocess.TimeoutExpired as e:
        server.failed = True
        out = e.stdout.decode("utf-8", "replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        pytest.fail("%s timed out:\n%s" % (scenario, out[-8000:]), pytrace=False)
    if p.returncode != 0:
        server.failed = True
        tail = "\n".join(server.read_error_log().splitlines()[-20:])
        pytest.fail("scenario %s failed (rc=%d):\n%s\n--- error_log tail ---\n%s"
                    % (scenario, p.returncode, p.stdout[-12000:], tail), pytrace=False)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_browser(demo_server, scenario):
    run_scenario(demo_server, scenario)


def test_other_settings(settings_server):
    """The pages follow GET /account/settings of a server configured otherwise."""
    run_scenario(settings_server, "other_settings")
