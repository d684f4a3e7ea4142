"""SPEC section 3: configuration, checked with `apache2 -t` (configtest).

"A bad value (unknown transport, malformed duration, AuthType natomm without
mod_dbd or without a DBDriver) stops `apachectl configtest` with one clear line
naming the directive.  Durations accept 30s, 30m, 12h, 30d."
"""

import pytest

import natomm as ne


def test_default_config_is_valid(configtest):
    rc, out = configtest()
    assert rc == 0, out
    assert "Syntax OK" in out


def test_all_duration_units_accepted(configtest):
    rc, out = configtest("NatommCodeLifetime register 30s\n"
                         "NatommCodeLifetime reset 30m\n"
                         "NatommSessionIdle 12h\n"
                         "NatommSessionLifetime 30d\n")
    assert rc == 0, out
    assert "Syntax OK" in out


@pytest.mark.parametrize("value", ["10x", "abc", "-5m", "30 m", "5w"])
def test_malformed_duration_fails(configtest, value):
    rc, out = configtest("NatommCodeLifetime register %s\n" % value)
    assert rc != 0, out
    assert "Syntax OK" not in out
    assert ne.lines_naming(out, "NatommCodeLifetime"), out


def test_malformed_session_duration_fails(configtest):
    rc, out = configtest("NatommSessionIdle 10x\n")
    assert rc != 0, out
    assert ne.lines_naming(out, "NatommSessionIdle"), out


def test_unknown_mail_transport_fails(configtest):
    rc, out = configtest(mail_transport="gopher://x")
    assert rc != 0, out
    assert "Syntax OK" not in out
    assert ne.lines_naming(out, "NatommMailTransport"), out


@pytest.mark.parametrize("transport", ["smtp://127.0.0.1:25", "smtps://user:pass@127.0.0.1:465",
                                       "smtp://127.0.0.1:587?starttls"])
def test_known_mail_transports_accepted(configtest, transport):
    rc, out = configtest(mail_transport=transport)
    assert rc == 0, out


def test_authtype_natomm_without_dbdriver_fails(configtest):
    rc, out = configtest(dbd_driver=False)
    assert rc != 0, out
    assert "Syntax OK" not in out
    assert ne.lines_naming(out, "DBDriver"), out


def test_authtype_natomm_without_mod_dbd_fails(configtest):
    # no LoadModule dbd_module and therefore no DBD* directives either
    rc, out = configtest(load_dbd=False, dbd_driver=False)
    assert rc != 0, out
    assert "Syntax OK" not in out
    assert ne.lines_naming(out, "mod_dbd"), out
