#!/usr/bin/python3
"""make bench: what the gate costs, as ratios against ungated serving.

One run, one machine, one httpd: the same file is fetched ungated and
gated (session cache warm, and with NatommSessionCache none so every check
reads the database), whole and as small Range requests, with ApacheBench on
127.0.0.1. Prints a table; asserts nothing (the machines are shared and
noisy: numbers are for reading, not for failing a build).
"""
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import natomm_env as ne  # noqa: E402

REQUESTS = int(os.environ.get("BENCH_REQUESTS", "4000"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "8"))
SMALL = 64 * 1024


def ab(url, cookie=None, rng=None, n=REQUESTS):
    cmd = ["ab", "-q", "-k", "-n", str(n), "-c", str(CONCURRENCY), "-s", "30"]
    if cookie:
        cmd += ["-C", cookie]
    if rng:
        cmd += ["-H", "Range: " + rng]
    out = subprocess.run(cmd + [url], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, timeout=120).stdout
    rps = re.search(r"Requests per second:\s+([\d.]+)", out)
    failed = re.search(r"Failed requests:\s+(\d+)", out)
    non2xx = re.search(r"Non-2xx responses:\s+(\d+)", out)
    if not rps:
        raise RuntimeError("ab failed:\n" + out)
    bad = int(failed.group(1)) + (int(non2xx.group(1)) if non2xx else 0)
    return float(rps.group(1)), bad


def setup(extra, name):
    srv = ne.HttpdServer(name=name, extra_conf=extra, servers=2)
    # the same bytes gated and ungated
    with open(os.path.join(srv.htdocs, "videos", "small.bin"), "wb") as f:
        f.write(os.urandom(SMALL))
    for name in ("small.bin", "sample.mp4"):
        shutil.copy(os.path.join(srv.htdocs, "videos", name),
                    os.path.join(srv.htdocs, "public", name))
    srv.start()
    acc = ne.create_account(srv)
    cookie = acc.client.cookie_header()
    return srv, cookie


def main():
    if not shutil.which("ab"):
        sys.exit("make bench needs ab (apache2-utils)")
    rows = []
    # generous per-IP limits: ab is one client address
    limits = "NatommIPLimit login-failures 100000/1m\n"
    srv, cookie = setup(limits, "bench")
    nocache, nocookie = setup(limits + "NatommSessionCache none\n", "bench-nocache")
    try:
        base = srv.url
        cases = [
            ("64 KiB file, whole", "/public/small.bin", "/videos/small.bin", None),
            ("64 KiB file, Range 0-1023", "/public/small.bin", "/videos/small.bin",
             "bytes=0-1023"),
        ]
        # warm up both servers
        ab(base + "/public/small.bin", n=200)
        ab(base + "/videos/small.bin", cookie=cookie, n=200)
        ab(nocache.url + "/videos/small.bin", cookie=nocookie, n=200)
        for label, ungated, gated, rng in cases:
            u, ubad = ab(base + ungated, rng=rng)
            g, gbad = ab(base + gated, cookie=cookie, rng=rng)
            d, dbad = ab(nocache.url + gated, cookie=nocookie, rng=rng)
            rows.append((label, u, g, d, ubad + gbad + dbad))
        u, ubad = ab(base + "/public/small.bin", rng="bytes=0-65535")
        g, gbad = ab(base + "/videos/sample.mp4", cookie=cookie, rng="bytes=0-65535")
        d, dbad = ab(nocache.url + "/videos/sample.mp4", cookie=nocookie,
                     rng="bytes=0-65535")
        rows.append(("64 KiB of the 2 MiB video (Range) vs the 64 KiB file", u, g, d,
                     ubad + gbad + dbad))
        n = max(200, REQUESTS // 10)
        u, ubad = ab(base + "/public/sample.mp4", n=n)
        g, gbad = ab(base + "/videos/sample.mp4", cookie=cookie, n=n)
        d, dbad = ab(nocache.url + "/videos/sample.mp4", cookie=nocookie, n=n)
        rows.append(("2 MiB video, whole", u, g, d, ubad + gbad + dbad))
    finally:
        srv.stop()
        nocache.stop()
        srv.cleanup()
        nocache.cleanup()

    print()
    print("mod_natomm gate: requests per second (ab -k -c %d -n %d, 127.0.0.1, %d cores)"
          % (CONCURRENCY, REQUESTS, os.cpu_count()))
    print()
    print("| request | ungated | gated, cache | ratio | gated, no cache (DB) | ratio | errors |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, u, g, d, bad in rows:
        print("| %s | %.0f | %.0f | %.2f | %.0f | %.2f | %d |"
              % (label, u, g, g / u, d, d / u, bad))
    print()
    print("ratio = gated / ungated in this run; 1.00 means the gate costs nothing.")


if __name__ == "__main__":
    main()
