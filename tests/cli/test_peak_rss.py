#!/usr/bin/env python3
"""Peak memory of `sluice convert` does not grow with the input: converting a ~2 GB CSV
uses no more memory than a ~20 MB one, within 15%. Slow (ctest label `slow`).

Each conversion runs in a fresh child process whose peak RSS comes from os.wait4.

    python3 tests/cli/test_peak_rss.py SLUICE SLUICE_DEMO

SLUICE_RSS_BIG_ROWS overrides the big input's row count (default 25,000,000: about 2 GB).
"""

import os
import subprocess
import time

from cli_common import Failure, Suite, check

s = Suite("peak_rss")

ROW_BYTES = 81  # sluice_demo writes about 81 bytes a row
SMALL_ROWS = 250_000  # ~20 MB
BIG_ROWS = int(os.environ.get("SLUICE_RSS_BIG_ROWS", "25000000"))  # ~2 GB
TOLERANCE = 1.15


def peak_rss_kib(*args):
    """Runs `sluice ARGS` in a fresh process; returns (peak RSS in KiB, seconds)."""
    t0 = time.monotonic()
    p = subprocess.Popen([s.sluice, *map(str, args)], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    # Read stderr while waiting (it is small), then reap with wait4 for the child's rusage.
    stderr = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise Failure(f"sluice {' '.join(map(str, args))} exited {p.returncode}: {stderr[:400]!r}")
    return ru.ru_maxrss, time.monotonic() - t0


def compare(d, out_ext, big_rows):
    small = s.generate(os.path.join(d, "small.csv"), SMALL_ROWS)
    big = s.generate(os.path.join(d, "big.csv"), big_rows)
    try:
        out = os.path.join(d, "out" + out_ext)
        # The small one twice (the larger peak counts), so noise does not make it look small.
        small_peak = max(peak_rss_kib("convert", small, out)[0] for _ in range(2))
        os.remove(out)
        big_peak, secs = peak_rss_kib("convert", big, out)
        big_size = os.path.getsize(big)
        os.remove(out)
    finally:
        for p in (small, big):
            if os.path.exists(p):
                os.remove(p)
    print(f"     {out_ext}: small peak {small_peak / 1024:.1f} MiB, big ({big_size / 1e9:.2f} GB, "
          f"{secs:.1f} s) peak {big_peak / 1024:.1f} MiB", flush=True)
    check(big_peak <= small_peak * TOLERANCE,
          f"{out_ext}: peak RSS {big_peak / 1024:.1f} MiB for {big_size / 1e9:.2f} GB vs "
          f"{small_peak / 1024:.1f} MiB for ~{SMALL_ROWS * ROW_BYTES / 1e6:.0f} MB: more than "
          f"{(TOLERANCE - 1) * 100:.0f}% higher")


@s.case("csv_to_jsonl_2GB")
def _(d):
    compare(d, ".jsonl", BIG_ROWS)


@s.case("csv_to_jsonl_gz_300MB")
def _(d):
    compare(d, ".jsonl.gz", BIG_ROWS // 8)


@s.case("long_jsonl_record_linear")
def _(d):
    # One 40 MB JSONL record (longer than many read batches) must cost about what 40 MB of
    # short records cost, not O(n^2): the JSON window grew by exact reserve() per refill.
    src = os.path.join(d, "long.jsonl")
    with open(src, "w") as f:
        f.write('{"a":"' + "x" * 40_000_000 + '","b":1}\n{"a":"y","b":2}\n')
    out = os.path.join(d, "long.csv")
    try:
        _, secs = peak_rss_kib("convert", src, out)
        check(os.path.getsize(out) == 40_000_000 + len("a,b\n,1\ny,2\n"), "output size")
    finally:
        for p in (src, out):
            if os.path.exists(p):
                os.remove(p)
    check(secs < 4.0, f"a 40 MB JSONL record took {secs:.1f} s to convert (quadratic?)")


s.finish()
