#!/usr/bin/env python3
"""`sluice convert` stopped by SIGINT/SIGTERM in the middle of a long conversion: exit 130,
no output, no temporary file beside it, no dead-letter file.

    python3 tests/cli/test_signal.py SLUICE SLUICE_DEMO
"""

import os
import signal
import subprocess
import time

from cli_common import Suite, check, eq, listdir, read, write

s = Suite("signal")

ROWS = 3_700_000  # about 300 MB of CSV


def interrupted(d, src, out, sig, delay=0.5, extra=()):
    before = listdir(d)
    p = subprocess.Popen([s.sluice, "convert", *extra, src, out],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(delay)
    still_running = p.poll() is None
    p.send_signal(sig)
    stdout, stderr = p.communicate(timeout=60)
    check(still_running, f"the conversion ended within {delay} s: make the input bigger")
    eq(p.returncode, 130, f"exit status after {signal.Signals(sig).name} "
                          f"(stderr: {stderr.decode(errors='replace').strip()[:300]})")
    after = listdir(d)
    return before, after, stderr.decode("utf-8", "replace")


big = None


@s.case("generate")
def _(d):
    global big
    big = s.generate(os.path.join(s.scratch, "big.csv"), ROWS)
    check(os.path.getsize(big) > 250e6, f"sluice_demo wrote only {os.path.getsize(big)} bytes")


@s.case("sigint_gzip_output")
def _(d):
    out = os.path.join(d, "out.jsonl.gz")
    before, after, msg = interrupted(d, big, out, signal.SIGINT)
    eq(after, before, "directory after SIGINT (output or temporary left?)")
    check(msg.strip(), "no message on stderr")


@s.case("sigterm_plain_output")
def _(d):
    out = os.path.join(d, "out.jsonl")
    before, after, _ = interrupted(d, big, out, signal.SIGTERM, delay=0.3)
    eq(after, before, "directory after SIGTERM")


@s.case("sigint_keeps_existing_output")
def _(d):
    out = write(os.path.join(d, "out.csv.zst"), b"previous\n")
    before, after, _ = interrupted(d, big, out, signal.SIGINT)
    eq(after, before, "directory after SIGINT")
    eq(read(out), b"previous\n", "existing OUTPUT")


@s.case("sigint_with_dead_letters")
def _(d):
    out = os.path.join(d, "out.json.gz")
    dl = os.path.join(d, "dead.jsonl")
    before, after, _ = interrupted(d, big, out, signal.SIGINT,
                                   extra=("--on-error", "skip", "--dead-letter", dl))
    eq(after, before, "directory after SIGINT (dead-letter file left?)")


@s.case("sigint_to_stdout")
def _(d):
    p = subprocess.Popen([s.sluice, "convert", "--to", "jsonl", big, "-"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(0.3)
    p.send_signal(signal.SIGINT)
    _, stderr = p.communicate(timeout=60)
    eq(p.returncode, 130, f"exit status (stderr {stderr[:300]!r})")


if big and os.path.exists(big):
    os.remove(big)
s.finish()
