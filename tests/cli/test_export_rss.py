#!/usr/bin/env python3
"""Peak memory of a compressed Postgres export (issue 15): `sluice export --to x.jsonl.gz` on
two compression threads costs little more than the same export uncompressed - two
libdeflate compressors (653 KiB of tables each at level 6) and the blocks in flight (threads + 1
slots of 512 KiB and their compressed form), not two 1 MiB blocks per thread.

    python3 tests/cli/test_export_rss.py SLUICE SLUICE_DEMO

Needs SLUICE_TEST_PG_DSN (scripts/lib/postgres.sh). Each export runs in a fresh child of a
small Python, whose ru_maxrss (os.wait4) is the export's own peak.
"""

import gzip
import os
import subprocess

from cli_common import Failure, Skip, Suite, check, eq

s = Suite("export_rss")
DSN = os.environ.get("SLUICE_TEST_PG_DSN", "")
ROWS = 300_000
# Rows like benchmarks/data/events.sql's (about 230 bytes of JSON each).
QUERY = (f"select i as id, 'user-' || (i % 50000) as user_name, i * 1.5 as amount, "
         f"timestamptz '2024-01-01' + i * interval '1 second' as at, (i % 7 = 0) as flag, "
         f"md5(i::text) || md5((i * 7)::text) || md5((i * 13)::text) as payload "
         f"from generate_series(1, {ROWS}) i")
MIB = 1024
# Measured on this query: 2.2-2.4 MiB over the plain export with three 512 KiB slots, 3.0-3.2 MiB
# with two 1 MiB slots (one per thread, before issue 15).
EXTRA_KIB = 2.7 * MIB


def peak_kib(out, *args):
    probe = ("import os,subprocess,sys\n"
             "p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)\n"
             "e = p.stderr.read()\n"
             "_, st, ru = os.wait4(p.pid, 0)\n"
             "sys.stderr.buffer.write(e)\n"
             "print(ru.ru_maxrss if os.waitstatus_to_exitcode(st) == 0 else -1)\n")
    r = subprocess.run(["python3", "-c", probe, s.sluice, "export", "--dsn", DSN, "--query", QUERY,
                        *args, "--to", out], capture_output=True, timeout=600)
    kib = int(r.stdout.decode().strip() or -1)
    if kib < 0:
        raise Failure(f"export {args} failed: {r.stderr[:400]!r}")
    return kib


@s.case("jsonl_gz_two_threads")
def _(d):
    if not DSN:
        raise Skip("SLUICE_TEST_PG_DSN is needed")
    plain = os.path.join(d, "out.jsonl")
    packed = os.path.join(d, "out.jsonl.gz")
    # Each twice; the larger peak counts, so noise cannot make one side look small.
    base = max(peak_kib(plain) for _ in range(2))
    one = peak_kib(packed, "--threads", "1")
    two = max(peak_kib(packed, "--threads", "2") for _ in range(2))
    print(f"     peak RSS: jsonl {base / MIB:.1f} MiB, jsonl.gz 1 thread {one / MIB:.1f} MiB, "
          f"2 threads {two / MIB:.1f} MiB (+{(two - base) / MIB:.2f} MiB)", flush=True)
    with open(plain, "rb") as f:
        want = f.read()
    with gzip.open(packed, "rb") as f:
        eq(f.read(), want, "the 2-thread .jsonl.gz decompressed vs the plain export")
    eq(want.count(b"\n"), ROWS, "lines")
    check(two - base <= EXTRA_KIB,
          f"2 compression threads add {(two - base) / MIB:.2f} MiB to the export's peak RSS "
          f"({base / MIB:.1f} -> {two / MIB:.1f} MiB): more than {EXTRA_KIB / MIB:.1f} MiB")


s.finish()
