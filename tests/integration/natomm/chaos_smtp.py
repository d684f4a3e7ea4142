"""An SMTP server on loopback that misbehaves on purpose (aiosmtpd), for
test_chaos_smtp.py and test_faults.py.  Not re-exported by __init__.py:
`from natomm.chaos_smtp import ChaosSink, seeded_plan`.

What happens to each attempt is decided by `plan(recipient, attempt)` (the
attempt counts from 1 per recipient, at RCPT), returning one of

  ("accept", 0)        250 after the data: a delivery, recorded
  ("451", 0)           451 after the data (try again later)
  ("554", 0)           554 after the data (refused for good)
  ("rcpt451", 0)       451 at RCPT
  ("drop", 0)          the connection is cut (RST) once the data is in, before
                       any answer: the client cannot know, and must retry
  ("stall", seconds)   waits that long after the data, then 250
  ("stall-drop", s)    waits that long after the data, then cuts the connection
  ("hold", event)      waits until the threading.Event is set (or the client
                       leaves), then 250 if the client is still there

Only a 250 answer that was written to a live connection counts as a delivery
(`deliveries`); every attempt is kept in `attempts` as (time, recipient,
attempt, action, peer).
"""

import asyncio
import email
import email.policy
import random
import threading
import time

from aiosmtpd.controller import Controller

from .env import free_port


def seeded_plan(seed, weights, settle_after=5, stall=1.5, key=None):
    """A plan drawn from weights {action: weight} with random.Random seeded by
    (seed, key(recipient), attempt): the same for a recipient and attempt
    whatever the order of delivery (key: the part of the address that is the
    same from run to run, default all of it).  From attempt settle_after on,
    every attempt is accepted (so the run ends)."""
    actions = sorted(weights)
    w = [weights[a] for a in actions]

    def plan(rcpt, attempt):
        if attempt >= settle_after:
            return ("accept", 0)
        k = key(rcpt) if key else rcpt.lower()
        rnd = random.Random("%s|%s|%d" % (seed, k, attempt))
        a = rnd.choices(actions, w)[0]
        return (a, stall if a.startswith("stall") else 0)
    return plan


def expected_outcome(plan, rcpt, most=50):
    """('delivered' | 'given_up', attempts) that a plan leads to for rcpt if
    every transient failure is retried."""
    for n in range(1, most + 1):
        a, _ = plan(rcpt, n)
        if a in ("accept", "stall"):
            return "delivered", n
        if a == "554":
            return "given_up", n
    raise AssertionError("plan never ends for %s" % rcpt)


class Delivery:
    def __init__(self, rcpt, content, attempt, peer):
        self.rcpt = rcpt
        self.content = content
        self.attempt = attempt
        self.peer = peer
        self.at = time.time()
        self.msg = email.message_from_bytes(content, policy=email.policy.default)
        self.message_id = str(self.msg.get("Message-ID", ""))

    def __repr__(self):
        return "<Delivery %s #%d %s>" % (self.rcpt, self.attempt, self.message_id)


class _Handler:
    def __init__(self, sink):
        self.sink = sink

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        sink = self.sink
        with sink.lock:
            n = sink.counter[address.lower()] = sink.counter.get(address.lower(), 0) + 1
            action = sink.plan(address, n)
            sink.attempts.append((time.time(), address, n, action[0], session.peer))
        envelope.natomm_action = getattr(envelope, "natomm_action", {})
        envelope.natomm_action[address] = (n, action)
        if action[0] == "rcpt451":
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        sink = self.sink
        transport = server.transport
        # one recipient per message (the module sends one per recipient)
        rcpt = envelope.rcpt_tos[0]
        n, (action, arg) = envelope.natomm_action[rcpt]
        with sink.lock:
            sink.in_data[rcpt.lower()] = session.peer
        try:
            if action in ("stall", "stall-drop"):
                await asyncio.sleep(arg)
            elif action == "hold":
                while not arg.is_set():
                    if transport is None or transport.is_closing():
                        break
                    await asyncio.sleep(0.05)
            if action in ("drop", "stall-drop"):
                transport.abort()
                return "451 4.4.2 cut"          # never written: the transport is gone
            if action == "451":
                return "451 4.3.0 try again later"
            if action == "554":
                return "554 5.7.1 refused for good"
            if transport is None or transport.is_closing():
                with sink.lock:
                    sink.abandoned.append((time.time(), rcpt, n))
                return "451 4.4.2 client gone"
            content = envelope.original_content or envelope.content
            if isinstance(content, str):
                content = content.encode("utf-8")
            with sink.lock:
                sink.deliveries.append(Delivery(rcpt, content, n, session.peer))
            return "250 2.0.0 accepted"
        finally:
            with sink.lock:
                sink.in_data.pop(rcpt.lower(), None)


class ChaosSink:
    def __init__(self, plan, port=None):
        self.plan = plan
        self.port = port or free_port()
        self.host = "127.0.0.1"
        self.lock = threading.Lock()
        self.counter = {}
        self.attempts = []
        self.deliveries = []
        self.abandoned = []         # a 250 not written: the client had gone
        self.in_data = {}           # recipient -> peer of a DATA being answered
        self.controller = None

    def start(self):
        deadline = time.time() + 10
        while True:
            ctl = Controller(_Handler(self), hostname=self.host, port=self.port,
                             ready_timeout=5.0)
            try:
                ctl.start()
                break
            except (OSError, RuntimeError):
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

    def url(self):
        return "smtp://%s:%d" % (self.host, self.port)

    def messages(self, to=None):
        with self.lock:
            ds = list(self.deliveries)
        if to is None:
            return ds
        return [d for d in ds if d.rcpt.lower() == to.lower()]

    def count(self, to=None):
        return len(self.messages(to))

    def attempts_for(self, to):
        with self.lock:
            return [a for a in self.attempts if a[1].lower() == to.lower()]

    def wait_count(self, n, to=None, timeout=10.0):
        deadline = time.time() + timeout
        while self.count(to) < n:
            if time.time() > deadline:
                raise AssertionError("%d deliveries to %s within %.0fs, wanted %d"
                                     % (self.count(to), to or "anyone", timeout, n))
            time.sleep(0.05)
        return self.messages(to)

    def wait_in_data(self, to, timeout=10.0):
        """The peer (host, port) of the connection whose DATA for `to` is
        being held, once there is one."""
        deadline = time.time() + timeout
        while True:
            with self.lock:
                peer = self.in_data.get(to.lower())
            if peer:
                return peer
            if time.time() > deadline:
                raise AssertionError("no DATA for %s within %.0fs (attempts %r)"
                                     % (to, timeout, self.attempts_for(to)))
            time.sleep(0.05)
