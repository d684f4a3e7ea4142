"""A real SMTP server on loopback for the mail tests (Debian's python3-aiosmtpd).

SmtpSink runs aiosmtpd's Controller in a thread of the test process, on a fixed
free port so that it can be stopped and started again at the same address
(the httpd under test keeps its NatommMailTransport URL).  Every message the
sink accepts is kept as a `Delivery` (envelope, raw bytes, parsed message,
the AUTH login used, whether the session was under TLS).

Options:
  tls="starttls"   offer STARTTLS (self-signed cert, see make_cert)
  tls="implicit"   SMTPS: TLS from the first byte
  auth={"user": "password"}   require AUTH (PLAIN/LOGIN) before MAIL
  refuse={"addr": "550 no such user"}   answer RCPT for addr with that line
  refuse_all="451 try later"   answer every RCPT with that line
  delay=0.3        seconds to wait before answering DATA (a slow server)
  slow={"addr": 3}   extra seconds before answering DATA for mail to addr
"""

import asyncio
import email
import email.policy
import os
import ssl
import subprocess
import tempfile
import threading
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from .env import free_port


def make_cert(directory=None, cn="127.0.0.1"):
    """(cert.pem, key.pem) of a fresh self-signed certificate for `cn`."""
    directory = directory or tempfile.mkdtemp(prefix="natomm-smtp-tls-", dir="/tmp")
    os.chmod(directory, 0o755)
    cert = os.path.join(directory, "cert.pem")
    key = os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-subj", "/CN=%s" % cn, "-days", "1",
                    "-keyout", key, "-out", cert],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.chmod(cert, 0o644)
    return cert, key


class Delivery:
    def __init__(self, mail_from, rcpt_tos, content, login, tls, peer):
        self.mail_from = mail_from
        self.rcpt_tos = list(rcpt_tos)
        self.content = content                     # raw bytes as received
        self.login = login                         # AUTH login (str) or None
        self.tls = tls                             # True if under TLS
        self.peer = peer
        self.at = time.time()
        self.msg = email.message_from_bytes(content, policy=email.policy.default)

    def __repr__(self):
        return "<Delivery %s -> %s %r>" % (self.mail_from, self.rcpt_tos,
                                           str(self.msg.get("Subject", "")))


class _Handler:
    def __init__(self, sink):
        self.sink = sink

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        with self.sink.lock:
            self.sink.attempts.append((time.time(), "MAIL", address))
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        sink = self.sink
        with sink.lock:
            sink.attempts.append((time.time(), "RCPT", address))
            answer = sink.refuse.get(address.lower()) or sink.refuse_all
            if answer:
                sink.refused.append((time.time(), address, answer))
                return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.sink.lock:
            for r in envelope.rcpt_tos:
                self.sink.attempts.append((time.time(), "DATA", r))
        delay = self.sink.delay + max([self.sink.slow.get(r.lower(), 0)
                                       for r in envelope.rcpt_tos] or [0])
        if delay:
            await asyncio.sleep(delay)
        transport = server.transport
        tls = bool(transport is not None
                   and transport.get_extra_info("ssl_object") is not None)
        login = None
        if isinstance(session.auth_data, LoginPassword):
            login = session.auth_data.login.decode("utf-8", "replace")
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8")
        d = Delivery(envelope.mail_from, envelope.rcpt_tos, content, login, tls,
                     session.peer)
        with self.sink.lock:
            self.sink.deliveries.append(d)
        return "250 Message accepted for delivery"


class SmtpSink:
    def __init__(self, *, tls=None, auth=None, refuse=None, refuse_all=None,
                 cert=None, port=None, delay=0, slow=None):
        assert tls in (None, "starttls", "implicit")
        self.tls = tls
        self.auth = dict(auth or {})
        self.refuse = {k.lower(): v for k, v in (refuse or {}).items()}
        self.refuse_all = refuse_all
        self.delay = delay
        self.slow = {k.lower(): v for k, v in (slow or {}).items()}
        self.port = port or free_port()
        self.host = "127.0.0.1"
        self.lock = threading.Lock()
        self.deliveries = []
        self.attempts = []          # (time, "MAIL"|"RCPT"|"DATA", address)
        self.refused = []           # (time, address, answer)
        self.logins = []            # (mechanism, login, success)
        self.controller = None
        self.cert = self.key = None
        if tls:
            self.cert, self.key = cert or make_cert()

    # -- TLS / AUTH
    def _server_ctx(self):
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(self.cert, self.key)
        return ctx

    def _authenticator(self, server, session, envelope, mechanism, auth_data):
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode("utf-8", "replace")
        password = auth_data.password.decode("utf-8", "replace")
        ok = login in self.auth and self.auth[login] == password
        with self.lock:
            self.logins.append((mechanism, login, ok))
        return AuthResult(success=ok, handled=False,
                          auth_data=auth_data if ok else None)

    # -- control
    def start(self, timeout=10.0):
        assert self.controller is None
        kw = {}
        if self.tls == "starttls":
            kw.update(tls_context=self._server_ctx(), require_starttls=False)
        if self.auth:
            # aiosmtpd only counts STARTTLS as TLS for auth_require_tls; with
            # implicit TLS the whole session is encrypted anyway
            kw.update(authenticator=self._authenticator, auth_required=True,
                      auth_require_tls=self.tls != "implicit")
        ctl_kw = {}
        if self.tls == "implicit":
            ctl_kw["ssl_context"] = self._server_ctx()
        deadline = time.time() + timeout
        while True:
            ctl = Controller(_Handler(self), hostname=self.host, port=self.port,
                             ready_timeout=5.0, **ctl_kw, **kw)
            try:
                ctl.start()
                break
            except (OSError, RuntimeError):
                # the port may take a moment to be bindable again
                try:
                    ctl.stop(no_assert=True)
                except Exception:
                    pass
                if time.time() > deadline:
                    raise
                time.sleep(0.2)
        self.controller = ctl
        return self

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def running(self):
        return self.controller is not None

    # -- URLs for NatommMailTransport
    def url(self, user=None, password=None, scheme=None, query=""):
        scheme = scheme or ("smtps" if self.tls == "implicit" else "smtp")
        cred = ""
        if user is not None:
            cred = user + (":" + password if password is not None else "") + "@"
        return "%s://%s%s:%d%s" % (scheme, cred, self.host, self.port,
                                   ("?" + query) if query else "")

    # -- reading
    def messages(self, to=None):
        with self.lock:
            ds = list(self.deliveries)
        if to is None:
            return ds
        to = to.lower()
        return [d for d in ds if to in [r.lower() for r in d.rcpt_tos]]

    def count(self, to=None):
        return len(self.messages(to))

    def wait_for(self, to, since=0, timeout=10.0, pred=None):
        """The first message to `to` after the `since` first ones (and matching pred)."""
        deadline = time.time() + timeout
        while True:
            msgs = self.messages(to)[since:]
            if pred:
                msgs = [d for d in msgs if pred(d)]
            if msgs:
                return msgs[0]
            if time.time() > deadline:
                raise AssertionError("no mail to %s within %.1fs (sink has %d in all: %r)"
                                     % (to, timeout, len(self.messages()), self.messages()[-5:]))
            time.sleep(0.05)

    def wait_count(self, n, to=None, timeout=10.0):
        deadline = time.time() + timeout
        while self.count(to) < n:
            if time.time() > deadline:
                raise AssertionError("%d mail(s) to %s within %.1fs, wanted %d"
                                     % (self.count(to), to or "anyone", timeout, n))
            time.sleep(0.05)
        return self.messages(to)

    def attempts_for(self, addr):
        with self.lock:
            return [t for t, kind, a in self.attempts
                    if kind == "RCPT" and a.lower() == addr.lower()]
