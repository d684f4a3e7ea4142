"""Where things are and the constants of the suite (pyhttpd's env.py).

Paths of the repository, the module and Debian's apache2; the passwords,
code alphabet and content types the tests use; small utilities (unique
addresses, free ports, a loopback source address per client) and the build
of the module.  Nothing here touches /etc/apache2.
"""

import itertools
import os
import re
import socket
import subprocess
import uuid

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
HERE = os.path.dirname(PACKAGE_DIR)             # tests/integration
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
# small utilities

def unique_email(prefix="j", domain="example.org"):
    return "%s-%s@%s" % (prefix, uuid.uuid4().hex[:16], domain)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def vhost_conf(port, lines, scheme=None):
    """A Listen line and a <VirtualHost> on 127.0.0.1:port holding lines.
    scheme ("https") goes on the Listen line and into the ServerName."""
    return "\n".join(
        ["Listen 127.0.0.1:%d%s" % (port, " " + scheme if scheme else ""),
         "<VirtualHost 127.0.0.1:%d>" % port,
         "    ServerName %s127.0.0.1:%d" % (scheme + "://" if scheme else "", port)] +
        ["    " + l for l in lines] + ["</VirtualHost>"])


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
