"""SPEC section 7: expired codes, sessions and never-verified accounts are purged
(by the background watchdog, every NatommPurgeInterval).

Two servers with short lifetimes, set up together so their waits overlap:
  purge:  NatommPurgeInterval 1s, NatommUnverifiedLifetime 2s,
          NatommCodeLifetime reset 1s, NatommSessionLifetime 2s
  codes:  NatommPurgeInterval 1s, NatommCodeLifetime register 1s
          (never-verified accounts keep their default lifetime of 24 h there)

An expired code is kept a day past its expiry, so that a late try still hears
400 code_expired (SPEC section 4) rather than invalid_code; the purge removes it
after that day, which a test cannot wait for. What is checked here is that the
purge running every second neither deletes it early nor lets it through.
"""

import time

import pytest

import natomm as ne
from natomm import GOOD_PASSWORD, expect_error, expect_json, unique_email

PURGE_CONF = """
NatommPurgeInterval 1s
NatommUnverifiedLifetime 2s
NatommCodeLifetime reset 1s
NatommSessionLifetime 2s
"""
CODES_CONF = """
NatommPurgeInterval 1s
NatommCodeLifetime register 1s
"""
DEADLINE = 7.0       # lifetime (<= 2 s) + whole-second rounding + purge interval, with room


def count(server, sql, args=()):
    return server.db_rows(sql, args)[0][0]


def account_id_or_none(server, addr):
    rows = server.db_rows("SELECT id FROM natomm_account WHERE email_norm = ?",
                          (addr.lower(),))
    return str(rows[0][0]) if rows else None


def wait_until(pred, t_start, what, deadline=DEADLINE):
    while not pred():
        if time.time() > t_start + deadline:
            raise AssertionError("%s: still there %.1f s later" % (what, time.time() - t_start))
        time.sleep(0.2)


class Setup:
    pass


@pytest.fixture(scope="module")
def purge_setup(module_server_factory):
    """Everything that must expire, made at once; the tests then wait for it."""
    p = module_server_factory(PURGE_CONF, name="purge")
    q = module_server_factory(CODES_CONF, name="purgecodes")
    st = Setup()
    st.p, st.q = p, q

    # a verified account on p (registered, verified within its 2 s)
    keeper = p.client()
    st.keeper = unique_email("keep")
    _, r = keeper.register(st.keeper, GOOD_PASSWORD)
    assert expect_json(r, 202)["status"] == "code_sent"
    # a registration on p that is never verified
    st.pending = unique_email("pend")
    _, r = p.client().register(st.pending, GOOD_PASSWORD)
    assert expect_json(r, 202)["status"] == "code_sent"
    st.t_pending = time.time()
    # a registration on q: its code lives 1 s, the account 24 h
    st.q_pending = unique_email("qpend")
    _, r = q.client().register(st.q_pending, GOOD_PASSWORD)
    assert expect_json(r, 202)["status"] == "code_sent"
    st.t_q_code = time.time()

    code = ne.extract_code(p.wait_for_mail(st.keeper))
    st.q_code = ne.extract_code(q.wait_for_mail(st.q_pending))
    assert st.q_code
    assert expect_json(keeper.verify(st.keeper, code), 200) == {"status": "verified"}
    st.keeper_id = ne.account_id(p, st.keeper)
    st.pending_id = ne.account_id(p, st.pending)
    st.q_pending_id = ne.account_id(q, st.q_pending)
    assert st.keeper_id and st.pending_id and st.q_pending_id

    # sessions on p: an ordinary one (2 s) and a "remember me" one (30 d)
    c = p.client()
    assert expect_json(c.login(st.keeper), 200)["status"] == "logged_in"
    rc = p.client()
    assert expect_json(rc.login(st.keeper, remember="1"), 200)["status"] == "logged_in"
    st.short_client, st.remember_client = c, rc
    st.t_session = time.time()
    # a reset code on p (1 s)
    seen = p.mail_names(st.keeper)
    assert expect_json(p.client().post("/account/password/forgot", {"email": st.keeper}),
                       202)["status"] == "code_sent"
    st.t_reset = time.time()
    st.reset_code = ne.extract_code(p.wait_for_mail(st.keeper, since=seen))
    assert st.reset_code

    # all of it is in the database now
    assert count(p, "SELECT COUNT(*) FROM natomm_code WHERE account_id = ?"
                 " AND purpose = 'register'", (st.pending_id,)) == 1
    assert count(p, "SELECT COUNT(*) FROM natomm_code WHERE account_id = ?"
                 " AND purpose = 'reset'", (st.keeper_id,)) == 1
    return st


@pytest.mark.slow
def test_unverified_account_purged(purge_setup):
    st = purge_setup
    wait_until(lambda: account_id_or_none(st.p, st.pending) is None, st.t_pending,
               "never-verified account (NatommUnverifiedLifetime 2s)")
    for table in ("natomm_code", "natomm_session", "natomm_reset_token"):
        assert count(st.p, "SELECT COUNT(*) FROM %s WHERE account_id = ?" % table,
                     (st.pending_id,)) == 0, table
    # the verified account registered at the same time stays
    assert ne.account_id(st.p, st.keeper) == st.keeper_id


@pytest.mark.slow
def test_expired_register_code_outlives_the_purge(purge_setup):
    st = purge_setup
    q = st.q
    # expired 1 s after it was made; let the purge (every second) run a few times
    time.sleep(max(0.0, st.t_q_code + 4.0 - time.time()))
    assert count(q, "SELECT COUNT(*) FROM natomm_code WHERE account_id = ?",
                 (st.q_pending_id,)) == 1, "the expired code is gone already"
    r = q.client().verify(st.q_pending, st.q_code)
    expect_error(r, 400, "code_expired")
    assert not [x for x in ne.set_cookies(r) if x[1]]
    assert ne.account_id(q, st.q_pending) == st.q_pending_id


@pytest.mark.slow
def test_expired_reset_code_outlives_the_purge(purge_setup):
    st = purge_setup
    time.sleep(max(0.0, st.t_reset + 3.0 - time.time()))
    r = st.p.client().post("/account/password/verify",
                           {"email": st.keeper, "code": st.reset_code})
    expect_error(r, 400, "code_expired")
    assert "reset_token" not in r.text
    assert ne.account_id(st.p, st.keeper) == st.keeper_id


@pytest.mark.slow
def test_expired_sessions_purged(purge_setup):
    st = purge_setup
    # the sessions of verify and login live 2 s (NatommSessionLifetime 2s)
    wait_until(lambda: count(st.p, "SELECT COUNT(*) FROM natomm_session WHERE account_id = ?"
                             " AND expires_at < ?", (st.keeper_id, int(time.time()) + 60)) == 0,
               st.t_session, "expired sessions (NatommSessionLifetime 2s)")
    assert expect_json(st.short_client.session(), 200) == {"authenticated": False}


@pytest.mark.slow
def test_live_session_survives_purge(purge_setup):
    st = purge_setup
    # by now the purge has run several times (every second)
    time.sleep(max(0.0, st.t_session + 3.5 - time.time()))
    rows = st.p.db_rows("SELECT expires_at FROM natomm_session WHERE account_id = ?",
                        (st.keeper_id,))
    assert len(rows) == 1 and rows[0][0] > time.time() + 29 * 86400, \
        "the purge deleted a live \"remember me\" session (30 days): %r" % rows
    s = expect_json(st.remember_client.session(), 200)
    assert s["authenticated"] is True and s["email"] == st.keeper, s
