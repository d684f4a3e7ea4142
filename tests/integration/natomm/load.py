"""Parallel bursts, background traffic and slow downloads for the robustness
tests (test_burst_limits.py, test_faults.py, test_revocation_bound.py).

Not re-exported by natomm/__init__.py: `from natomm.load import burst, CLOSE`.

Every request of a burst carries `Connection: close`: under load the event
MPM closes idle keep-alive connections, and requests does not retry a POST
on a connection the server closed, which would look like a server failure.
"""

import hashlib
import socket
import threading
import time

CLOSE = {"Connection": "close"}


class Outcome:
    """What one call of a burst gave: its value or its exception, and when."""

    def __init__(self, index):
        self.index = index
        self.value = None
        self.error = None
        self.started = None
        self.elapsed = None

    @property
    def status(self):
        return getattr(self.value, "status_code", None)

    def json(self):
        try:
            return self.value.json()
        except Exception:
            return None

    def __repr__(self):
        if self.error is not None:
            return "<#%d error %r after %.2fs>" % (self.index, self.error, self.elapsed or 0)
        body = self.json()
        return "<#%d %s %s %.2fs>" % (self.index, self.status,
                                      body if body is not None else "", self.elapsed or 0)


def burst(calls, timeout=60.0):
    """Runs every callable in a thread of its own, all released together by a
    threading.Barrier; returns their Outcomes in the order of calls."""
    n = len(calls)
    barrier = threading.Barrier(n + 1)
    out = [Outcome(i) for i in range(n)]

    def run(i, fn):
        o = out[i]
        try:
            barrier.wait(timeout=30)
        except threading.BrokenBarrierError as e:
            o.error = e
            return
        o.started = time.time()
        try:
            o.value = fn()
        except Exception as e:          # reported by the caller
            o.error = e
        o.elapsed = time.time() - o.started

    threads = [threading.Thread(target=run, args=(i, fn), daemon=True)
               for i, fn in enumerate(calls)]
    for t in threads:
        t.start()
    barrier.wait(timeout=30)
    deadline = time.time() + timeout
    for t in threads:
        t.join(max(0.1, deadline - time.time()))
    stuck = [i for i, t in enumerate(threads) if t.is_alive()]
    assert not stuck, "burst calls %r still running after %.0fs" % (stuck, timeout)
    return out


def statuses(outcomes):
    """{status: count} (None for a call that raised)."""
    out = {}
    for o in outcomes:
        out[o.status] = out.get(o.status, 0) + 1
    return out


class Traffic:
    """Threads that keep sending requests until stopped; each answer is kept
    as (time, kind, status or 0, detail).  `kinds` maps a name to a callable
    returning a response; `ok` maps a name to a predicate on the response."""

    def __init__(self, kinds, ok, pause=0.05):
        self.kinds = kinds
        self.ok = ok
        self.pause = pause
        self.log = []
        self.lock = threading.Lock()
        self.stop_event = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(k,), daemon=True)
                        for k in kinds]

    def _run(self, kind):
        fn = self.kinds[kind]
        while not self.stop_event.is_set():
            t = time.time()
            try:
                r = fn()
                good = self.ok[kind](r)
                detail = r.text[:160] if not good else ""
                entry = (t, kind, r.status_code, good, detail)
            except Exception as e:      # a broken connection is a failure too
                entry = (t, kind, 0, False, repr(e)[:300])
            with self.lock:
                self.log.append(entry)
            time.sleep(self.pause)

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def stop(self, timeout=60):
        self.stop_event.set()
        for t in self.threads:
            t.join(timeout)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def failures(self):
        with self.lock:
            return [e for e in self.log if not e[3]]

    def counts(self):
        out = {}
        with self.lock:
            for e in self.log:
                out[e[1]] = out.get(e[1], 0) + 1
        return out


class SlowDownload:
    """A GET of a gated file over a raw socket with a small receive buffer,
    read at `rate` bytes per second in a thread: a long download whose
    server side stays busy (the bytes cannot all sit in socket buffers).
    After join(): status, headers, length, sha256, error."""

    def __init__(self, server, path, cookie, rate=1 << 20, source_ip=None,
                 rcvbuf=32 * 1024, headers=None):
        self.server = server
        self.path = path
        self.cookie = cookie
        self.rate = rate
        self.source_ip = source_ip
        self.rcvbuf = rcvbuf
        self.extra = headers or {}
        self.status = None
        self.headers = {}
        self.length = 0
        self.sha256 = None
        self.error = None
        self.started = None
        self.first_byte = threading.Event()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def join(self, timeout=120):
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "slow download still running"
        return self

    def _run(self):
        h = hashlib.sha256()
        try:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.rcvbuf)
            if self.source_ip:
                s.bind((self.source_ip, 0))
            s.settimeout(60)
            s.connect(("127.0.0.1", self.server.port))
            self.started = time.time()
            lines = ["GET %s HTTP/1.1" % self.path, "Host: 127.0.0.1:%d" % self.server.port,
                     "Cookie: %s" % self.cookie, "Connection: close"]
            lines += ["%s: %s" % kv for kv in self.extra.items()]
            s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
            buf = b""
            while b"\r\n\r\n" not in buf:
                chunk = s.recv(4096)
                if not chunk:
                    raise IOError("connection closed in the headers: %r" % buf[:200])
                buf += chunk
            head, _, body = buf.partition(b"\r\n\r\n")
            head_lines = head.decode("latin-1").split("\r\n")
            self.status = int(head_lines[0].split()[1])
            for line in head_lines[1:]:
                k, _, v = line.partition(":")
                self.headers[k.strip().lower()] = v.strip()
            self.first_byte.set()
            h.update(body)
            self.length = len(body)
            t0 = time.time()
            while True:
                chunk = s.recv(16384)
                if not chunk:
                    break
                h.update(chunk)
                self.length += len(chunk)
                # pace: never ahead of rate bytes per second
                ahead = self.length / float(self.rate) - (time.time() - t0)
                if ahead > 0:
                    time.sleep(ahead)
            s.close()
        except Exception as e:
            self.error = e
        finally:
            self.sha256 = h.hexdigest()
            self.first_byte.set()
            self.done.set()
