#!/usr/bin/python3
"""make bench: what the gate costs, against ungated serving, in one run.

One machine, one run, printed and never asserted (the machines are shared
and noisy: the numbers are for reading, not for failing a build). Debian's
apache2 with the event MPM and sendfile on, wrk on 127.0.0.1:

- requests/s and MB/s for the same bytes ungated and gated (cookie), for a
  4 KiB, a 1 MiB and a 64 MiB file and a 1 KiB Range of the 1 MiB file, on
  SQLite and on PostgreSQL; ungated and gated runs alternate, in pairs, and
  the ratio is the median of the pairs' ratios;
- the same files behind Apache's own mod_auth_form + mod_session_crypto, as
  a comparison row;
- the login's latency next to one bare argon2id hash (the floor);
- errors at 1,000 concurrent keep-alive connections on a gated file;
- the httpd processes' RSS before and after 500,000 gated requests.

Env: BENCH_SECONDS (3) per run, BENCH_PAIRS (3), BENCH_SOAK (500000),
BENCH_PGSQL=0 to leave PostgreSQL out. It finishes within 10 minutes.
"""
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import natomm as ne  # noqa: E402

SECONDS = int(os.environ.get("BENCH_SECONDS", "3"))
PAIRS = int(os.environ.get("BENCH_PAIRS", "3"))
SOAK = int(os.environ.get("BENCH_SOAK", "500000"))
THREADS, CONNECTIONS = 2, 32
FILES = [("4 KiB", "f4k.bin", 4096, None), ("1 MiB", "f1m.bin", 1 << 20, None),
         ("64 MiB", "f64m.bin", 64 << 20, None),
         ("1 KiB Range of 1 MiB", "f1m.bin", 1 << 20, "bytes=1024-2047")]

# the bench is one client address: the per-IP limits stay out of the way
CONF = """
EnableSendfile On
ServerLimit 4
StartServers 4
ThreadLimit 256
ThreadsPerChild 256
MaxRequestWorkers 1024
MinSpareThreads 64
MaxSpareThreads 1024
AsyncRequestWorkerFactor 16
ListenBacklog 2048
NatommIPLimit login-failures 100000/1m
NatommIPLimit registrations 100000/1h
KeepAliveTimeout 30
MaxKeepAliveRequests 0
"""

FORM_CONF = """
LoadModule auth_form_module {mods}/mod_auth_form.so
LoadModule request_module {mods}/mod_request.so
LoadModule session_module {mods}/mod_session.so
LoadModule session_cookie_module {mods}/mod_session_cookie.so
LoadModule session_crypto_module {mods}/mod_session_crypto.so
LoadModule authn_file_module {mods}/mod_authn_file.so
<Location /form-login>
    SetHandler form-login-handler
    AuthFormLoginRequiredLocation /public/f4k.bin
    AuthFormProvider file
    AuthUserFile {htpasswd}
    AuthType form
    AuthName bench
    Session On
    SessionCookieName bench_session path=/
    SessionCryptoPassphrase bench-passphrase-0123456789
</Location>
<Directory "{root}/htdocs/formgated">
    AuthType form
    AuthName bench
    AuthFormProvider file
    AuthUserFile {htpasswd}
    Session On
    SessionCookieName bench_session path=/
    SessionCryptoPassphrase bench-passphrase-0123456789
    Require valid-user
</Directory>
"""


def wrk(url, header=None, connections=CONNECTIONS, seconds=SECONDS, threads=THREADS):
    cmd = ["wrk", "-t%d" % threads, "-c%d" % connections, "-d%ds" % seconds, "--timeout", "10s"]
    if header:
        for h in header:
            cmd += ["-H", h]
    out = subprocess.run(cmd + [url], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, timeout=seconds + 60).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    tx = re.search(r"Transfer/sec:\s+([\d.]+)(\w+)", out)
    non2 = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errs = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    total = re.search(r"(\d+) requests in", out)
    if not rps:
        raise RuntimeError("wrk failed:\n" + out)
    unit = {"B": 1e-6, "KB": 1e-3, "MB": 1.0, "GB": 1e3}.get(tx.group(2), 1.0) if tx else 0
    return {"rps": float(rps.group(1)), "mbs": float(tx.group(1)) * unit if tx else 0.0,
            "errors": (int(non2.group(1)) if non2 else 0) +
                      (sum(int(x) for x in errs.groups()) if errs else 0),
            "requests": int(total.group(1)) if total else 0}


def pairs(ungated_url, gated_url, gated_headers, rng):
    hdr_u = ["Range: " + rng] if rng else None
    hdr_g = gated_headers + (["Range: " + rng] if rng else [])
    us, gs = [], []
    for _ in range(PAIRS):
        us.append(wrk(ungated_url, hdr_u))
        gs.append(wrk(gated_url, hdr_g))
    ratio = statistics.median(g["rps"] / u["rps"] for u, g in zip(us, gs) if u["rps"])
    med = lambda runs, k: statistics.median(r[k] for r in runs)  # noqa: E731
    return {"u_rps": med(us, "rps"), "u_mbs": med(us, "mbs"), "g_rps": med(gs, "rps"),
            "g_mbs": med(gs, "mbs"), "ratio": ratio,
            "errors": sum(r["errors"] for r in us + gs)}


def place_files(srv, folders):
    for _, name, size, _ in FILES:
        src = os.path.join(srv.htdocs, "videos", name)
        if not os.path.exists(src):
            with open(src, "wb") as f:
                remaining = size
                while remaining:
                    n = min(remaining, 1 << 20)
                    f.write(os.urandom(n))
                    remaining -= n
        for d in folders:
            os.makedirs(os.path.join(srv.htdocs, d), exist_ok=True)
            dst = os.path.join(srv.htdocs, d, name)
            if not os.path.exists(dst):
                os.link(src, dst)
    for dirpath, _, files in os.walk(srv.htdocs):
        os.chmod(dirpath, 0o755)
        for f in files:
            os.chmod(os.path.join(dirpath, f), 0o644)


def rss_kib(srv):
    """The resident memory of the server's processes (parent and children)."""
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                if srv.conf_path.encode() not in f.read():
                    continue
            with open("/proc/%s/status" % pid) as f:
                total += int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))
        except (OSError, AttributeError):
            continue
    return total


def bare_argon2_ms():
    """One argon2id hash (m=19 MiB, t=2, p=1): the median of 9, timed by a tiny C program."""
    src = r'''
#include <argon2.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
int main(void) {
    char out[128]; unsigned char salt[16] = {1}; struct timespec a, b; double ms[9];
    for (int i = 0; i < 9; i++) {
        clock_gettime(CLOCK_MONOTONIC, &a);
        argon2id_hash_encoded(2, 19456, 1, "Kx7#mQ2!vR9@pL", 14, salt, 16, 32, out, sizeof out);
        clock_gettime(CLOCK_MONOTONIC, &b);
        ms[i] = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
        for (int j = i; j > 0 && ms[j] < ms[j - 1]; j--) {
            double t = ms[j]; ms[j] = ms[j - 1]; ms[j - 1] = t;
        }
    }
    printf("%.2f\n", ms[4]); return 0;
}
'''
    d = tempfile.mkdtemp(prefix="natomm-bench-")
    try:
        with open(os.path.join(d, "h.c"), "w") as f:
            f.write(src)
        subprocess.run(["cc", "-O2", "-std=gnu99", "-o", os.path.join(d, "h"),
                        os.path.join(d, "h.c"), "-largon2"], check=True)
        return float(subprocess.run([os.path.join(d, "h")], stdout=subprocess.PIPE,
                                    text=True, check=True).stdout)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def login_ms(srv, acc, n=48):
    """Medians of the first 16 logins and of the rest. The first ones are
    slower: each glibc arena a worker thread gets (up to 8 per core) first
    takes a hash's 19 MiB from the kernel, which zeroes the pages; later
    hashes reuse memory the arena kept."""
    times = []
    c = srv.client()
    for _ in range(n):
        t = time.perf_counter()
        r = c.login(acc.email, acc.password)
        times.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 200, r.text
    return statistics.median(times[:16]), statistics.median(times[16:])


def form_cookie(srv):
    """A mod_auth_form session: log in through its form-login-handler."""
    import requests
    r = requests.post(srv.url + "/form-login",
                      data={"httpd_username": "bench", "httpd_password": "bench-pass"},
                      allow_redirects=False, timeout=10)
    for c in r.raw.headers.getlist("Set-Cookie"):
        if c.startswith("bench_session="):
            return c.split(";")[0]
    raise RuntimeError("mod_auth_form gave no session: %s %r" % (r.status_code, r.headers))


def bench_driver(kind, results, extras):
    db = ne.new_database("bench-" + kind, kind=kind)
    srv = ne.HttpdServer(name="bench-" + kind, extra_conf="", servers=2, db=db)
    htpasswd = os.path.join(srv.root, "conf", "htpasswd")
    h = subprocess.run(["openssl", "passwd", "-apr1", "bench-pass"], stdout=subprocess.PIPE,
                       text=True, check=True).stdout.strip()
    with open(htpasswd, "w") as f:
        f.write("bench:%s\n" % h)
    os.chmod(htpasswd, 0o644)
    srv.extra_conf = CONF + FORM_CONF.format(mods=ne.MODULES_DIR, htpasswd=htpasswd,
                                             root=srv.root)
    place_files(srv, ["public", "formgated"])
    srv.write_config()
    srv.start()
    try:
        acc = ne.create_account(srv)
        cookie = ["Cookie: " + acc.cookie]
        for label, name, _, rng in FILES:
            results.append((kind, label, pairs(srv.url + "/public/" + name,
                                               srv.url + "/videos/" + name, cookie, rng)))
        if kind == "sqlite":
            fc = ["Cookie: " + form_cookie(srv)]
            for label, name, _, rng in FILES:
                results.append(("mod_auth_form", label,
                                pairs(srv.url + "/public/" + name,
                                      srv.url + "/formgated/" + name, fc, rng)))
            extras["login"] = login_ms(srv, acc)
            # 1,000 keep-alive connections: warmed up, then ungated and gated
            wrk(srv.url + "/public/f4k.bin", connections=1000, seconds=2)
            extras["c1000"] = (wrk(srv.url + "/public/f4k.bin", connections=1000, seconds=5),
                               wrk(srv.url + "/videos/f4k.bin", cookie, connections=1000,
                                   seconds=5))
            before = rss_kib(srv)
            t = time.time()
            done = 0
            while done < SOAK and time.time() - t < 120:
                done += wrk(srv.url + "/videos/f4k.bin", cookie, seconds=5)["requests"]
            extras["soak"] = (done, before, rss_kib(srv))
    finally:
        srv.stop()
        srv.cleanup()
        db.drop()


def main():
    if not shutil.which("wrk"):
        sys.exit("make bench needs wrk (scripts/deps installs it)")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 8192)), hard))
    started = time.time()
    results, extras = [], {}
    kinds = ["sqlite"] + (["pgsql"] if os.environ.get("BENCH_PGSQL", "1") != "0" else [])
    try:
        for k in kinds:
            bench_driver(k, results, extras)
    finally:
        ne.shutdown_session_cluster()
    print()
    print("| gate | request | ungated req/s | ungated MB/s | gated req/s | gated MB/s "
          "| gated/ungated (median of %d pairs) |" % PAIRS)
    print("|---|---|---:|---:|---:|---:|---:|")
    for kind, label, r in results:
        print("| %s | %s | %.0f | %.1f | %.0f | %.1f | %.3f |" % (
            {"sqlite": "natomm, SQLite", "pgsql": "natomm, PostgreSQL"}.get(kind, kind),
            label, r["u_rps"], r["u_mbs"], r["g_rps"], r["g_mbs"], r["ratio"]))
    print()
    bare = bare_argon2_ms()
    if "login" in extras:
        cold, warm = extras["login"]
        print("login: %.1f ms median of the first 16, %.1f ms median of the next 32; "
              "one bare argon2id hash: %.1f ms (warm login / hash: %.2f)"
              % (cold, warm, bare, warm / bare))
    if "c1000" in extras:
        u, g = extras["c1000"]
        print("1,000 concurrent keep-alive connections on a 4 KiB file, 5 s each: ungated "
              "%d requests, %d errors; gated %d requests, %d errors" % (
                  u["requests"], u["errors"], g["requests"], g["errors"]))
    if "soak" in extras:
        n, before, after = extras["soak"]
        print("RSS of the httpd processes: %d KiB before, %d KiB after %d gated requests "
              "(%+.1f%%)" % (before, after, n, 100.0 * (after - before) / before))
    for kind, label, r in results:
        if r["errors"]:
            print("errors (non-2xx or socket) in %s, %s: %d" % (kind, label, r["errors"]))
    print("%.0f s in all" % (time.time() - started))


if __name__ == "__main__":
    main()
