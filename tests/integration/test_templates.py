"""Mail templates: NatommMailTemplates names a folder of <lang>/<name>.txt
files; a message without a file there uses the copy built into the module,
so a module loaded straight from the build (no `make install`, no
NatommMailTemplates) still mails its codes."""

import os

import natomm as ne
from natomm import expect_json


def register(srv, **fields):
    c = srv.client()
    addr, r = c.register(ne.unique_email("tpl"), **fields)
    assert expect_json(r, 202)["status"] == "code_sent"
    return addr, srv.wait_for_mail(addr)


def test_built_in_templates_when_the_folder_is_missing(server_factory):
    srv = server_factory(name="tpl-none")
    # the harness sets NatommMailTemplates; point it at nothing instead
    srv.stop()
    srv.extra_conf = "NatommMailTemplates /nonexistent/natomm-templates\n"
    srv.write_config()
    srv.start()
    addr, msg = register(srv)
    assert ne.extract_code(msg), ne.mail_text(msg)
    assert "verification code" in str(msg["Subject"])
    _, msg = register(srv, language="fr")
    assert ne.extract_code(msg)
    assert "vérification" in str(msg["Subject"])


def test_a_template_folder_overrides_the_built_in_copy(server_factory):
    srv = server_factory(name="tpl-custom", start=False)
    folder = os.path.join(srv.root, "templates")
    os.makedirs(os.path.join(folder, "en"))
    with open(os.path.join(folder, "en", "register_code.txt"), "w") as f:
        f.write("Subject: Custom code for {{site}}\n\nYour code:\n\n{{code}}\n\n"
                "Valid {{minutes}} minutes.\n")
    os.chmod(srv.root, 0o755)
    srv.extra_conf = "NatommMailTemplates %s\n" % folder
    srv.write_config()
    srv.start()
    _, msg = register(srv)
    assert str(msg["Subject"]) == "Custom code for NATO Multimedia"
    assert ne.extract_code(msg)
    # no French file in that folder: the built-in French template
    _, msg = register(srv, language="fr")
    assert "vérification" in str(msg["Subject"])
