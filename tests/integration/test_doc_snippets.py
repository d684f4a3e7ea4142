"""Issue 15 item 6: every configuration snippet of README.md and docs/*.md
(the ```apache blocks) goes through `apachectl configtest` with the module
loaded, inside the suite's usual configuration. Apache has no trailing
comments ("Directive value  # note" passes "#" and "note" as arguments),
so a directive line may not carry one; and a block that is not tagged
`apache` must not hold configuration.

The example paths of the docs are mapped onto the generated server root
(/var/lib/natomm to its var/, /srv/videos to its htdocs/videos, ...), and
the password file they name is made, so that configtest judges the
directives and not this machine.
"""

import glob
import os
import re

import pytest

import natomm as ne

EXTRA = ["LoadModule %s_module %s/mod_%s.so" % (m, ne.MODULES_DIR, m)
         for m in ("authz_host", "alias", "status", "remoteip")]
DIRECTIVE = re.compile(r"^\s*(</?[A-Za-z]+|Natomm[A-Za-z]+|DBD[A-Za-z]+|LoadModule|"
                       r"SetHandler|AuthType|Require)\b")


def snippets():
    out = []
    for path in [os.path.join(ne.REPO, "README.md")] + sorted(
            glob.glob(os.path.join(ne.REPO, "docs", "*.md"))):
        text = open(path, encoding="utf-8").read()
        for m in re.finditer(r"^```([A-Za-z0-9_-]*)[ \t]*\n(.*?)^```", text, re.S | re.M):
            line = text[:m.start()].count("\n") + 1
            out.append((os.path.relpath(path, ne.REPO), line, m.group(1), m.group(2)))
    return out


CONFIG = [s for s in snippets() if s[2] == "apache"]


def test_there_are_snippets():
    files = {s[0] for s in CONFIG}
    assert {"README.md", "docs/directives.md", "docs/operations.md"} <= files, files
    assert len(CONFIG) > 40


@pytest.mark.parametrize("where,line,lang,body", [s for s in snippets() if s[2] != "apache"],
                         ids=lambda v: str(v) if isinstance(v, (int, str)) and len(str(v)) < 40
                         else "")
def test_untagged_blocks_hold_no_configuration(where, line, lang, body):
    if lang in ("sh", "json", "yaml", "text", "sql", "c"):
        return
    looks = [l for l in body.splitlines() if DIRECTIVE.match(l)]
    assert not looks, "%s:%d: configuration in a ```%s block: tag it ```apache" % (
        where, line, lang)


def adapt(srv, body, tmp):
    """The snippet with its example paths on this server's root."""
    pw = os.path.join(tmp, "natomm-smtp.pw")
    if not os.path.exists(pw):
        with open(pw, "w") as f:
            f.write("secret-smtp-password\n")
        os.chmod(pw, 0o600)
    maps = [
        ("modules/", ne.MODULES_DIR + "/"),
        (ne.MODULES_DIR + "/mod_natomm.so", srv.module_path),
        ("/var/lib/natomm/natomm.db", os.path.join(srv.var_dir, "natomm.db")),
        ("/var/lib/natomm/mail", srv.mail_dir),
        ("/var/lib/natomm", srv.var_dir),
        ("/var/spool/natomm", srv.mail_dir),
        ("/srv/videos", os.path.join(srv.htdocs, "videos")),
        ("/etc/apache2/natomm-smtp.pw", pw),
    ]
    for a, b in maps:
        body = body.replace(a, b)
    return body


@pytest.mark.parametrize("where,line,lang,body", CONFIG,
                         ids=["%s:%d" % (s[0], s[1]) for s in CONFIG])
def test_snippet_passes_configtest(tmp_path, where, line, lang, body):
    for n, l in enumerate(body.splitlines(), line + 1):
        code = re.sub(r'"[^"]*"', '""', l)
        if code.strip() and not code.lstrip().startswith("#"):
            assert not re.search(r"\s#", code), \
                "%s:%d: a trailing comment (Apache takes it as arguments): %s" % (where, n, l)
    # the server root is known once the server is made: then the snippet
    # goes in, with its paths mapped onto it
    s = ne.HttpdServer(name="snippet", extra_modules=EXTRA)
    try:
        s.extra_conf = adapt(s, body, str(tmp_path))
        s.write_config()
        rc, out = s.configtest()
    finally:
        s.cleanup()
    assert rc == 0, "%s:%d:\n%s\n--- configtest ---\n%s" % (where, line, body, out)
