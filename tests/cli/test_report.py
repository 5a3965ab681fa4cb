#!/usr/bin/env python3
"""What `sluice convert` tells a person and a machine at the end of a run (issue 10, defect 7):
--progress gives a progress bar, then one summary line (rows, bytes in and out, MB/s, peak
memory) and an aligned table of the stages; --stats gives every stage's counters as one JSON
object, once, as the last line on stderr - never a JSON document at each progress report.

    python3 tests/cli/test_report.py SLUICE SLUICE_DEMO
"""

import json
import os
import pty
import re
import subprocess

from cli_common import Suite, check, eq, err

s = Suite("report")

SUMMARY = re.compile(r"^sluice: ([\d,]+) rows, ([\d.]+ [kMG]?B) in, ([\d.]+ [kMG]?B) out, "
                     r"[\d.]+ s, [\d.]+ [kMG]?B/s, peak memory [\d.]+ MiB$")
STAGES = ["read", "decompress", "records", "encode", "compress"]


def check_table(lines, rows):
    """`lines` are the stage table: a header, then one line per stage, aligned. A stage's
    worker pool or queue has a row of its own named `stage.part` (compress.threads with
    parallel gzip on two or more cores, read.queue ...); the stages proper come in
    pipeline order. Returns the number of table lines."""
    check(len(lines) >= len(STAGES) + 1, f"no stage table: {lines!r}")
    head = lines[0]
    n = 1
    while n < len(lines) and lines[n].startswith("  "):
        n += 1
    body = lines[1:n]
    eq(head.split(), ["stage", "in", "out", "bytes", "out"], "table header")
    names = [l.split()[0] for l in body]
    eq([x for x in names if "." not in x], STAGES, "stages, in pipeline order")
    for x in names:
        check("." not in x or x.split(".")[0] in STAGES, f"{x}: a part of a known stage")
    widths = {len(l) for l in [head] + body}
    eq(len(widths), 1, f"table lines of one width (aligned): {[head] + body!r}")
    records = next(l for l in body if l.split()[0] == "records").split()
    eq(records[1:3], [f"{rows:,}", f"{rows:,}"], "records in/out")
    # One width and no trailing blanks: the numbers are right-aligned in their columns.
    check(all(not l.endswith(" ") for l in [head] + body), f"trailing blanks: {body!r}")
    return n


@s.case("progress_is_human")
def _(d):
    src = s.generate(os.path.join(d, "in.csv"), 5000)
    r = s.ok("convert", "--progress", src, os.path.join(d, "out.jsonl.gz"))
    text = err(r)
    check("{" not in text, f"JSON in the human output: {text!r}")
    lines = text.splitlines()
    at = [i for i, l in enumerate(lines) if l.startswith("sluice: ")]
    eq(len(at), 1, f"summary lines in {text!r}")
    i = at[0]
    check(i >= 1 and re.search(r"5,000 rows", lines[i - 1]), f"no progress report before the summary: {text!r}")
    m = SUMMARY.match(lines[i])
    check(m, f"summary line: {lines[i]!r}")
    eq(m.group(1), "5,000", "rows in the summary")
    n = check_table(lines[i + 1:], 5000)
    eq(len(lines), i + 1 + n, f"nothing after the table: {text!r}")


@s.case("stats_is_json_only")
def _(d):
    src = s.generate(os.path.join(d, "in.csv"), 3000)
    r = s.ok("convert", "--stats", src, os.path.join(d, "out.jsonl.gz"))
    lines = err(r).splitlines()
    eq(len(lines), 1, f"--stats alone prints the JSON object only: {lines!r}")
    doc = json.loads(lines[0])
    eq([st["name"] for st in doc["stages"] if "." not in st["name"]], STAGES, "stages in the JSON")
    rec = next(st for st in doc["stages"] if st["name"] == "records")
    eq((rec["in"], rec["out"]), (3000, 3000), "records counters")
    for st in doc["stages"]:
        check({"in", "out", "errors", "rejects", "bytes"} <= set(st), f"counters missing: {st}")


def run_on_tty(args):
    """Runs sluice with stderr on a pseudo-terminal (so the live bar is drawn); returns its
    exit status and everything written to the terminal."""
    master, slave = pty.openpty()
    p = subprocess.Popen([s.sluice, *args], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=slave)
    os.close(slave)
    out = b""
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        out += data
    os.close(master)
    return p.wait(timeout=300), out.decode("utf-8", "replace").replace("\r\n", "\n")


@s.case("terminal_bar_then_summary_table_and_json_once")
def _(d):
    # Big enough for several reports at the terminal's 200 ms interval.
    src = s.generate(os.path.join(d, "in.csv"), 400_000)
    rc, text = run_on_tty(["convert", "--progress", "--stats", "--threads", "1", src,
                           os.path.join(d, "out.jsonl.gz")])
    eq(rc, 0, f"exit status; terminal: {text[-2000:]!r}")
    bars = re.findall(r"\r\033\[K\[[# ]{24}\] +[\d.]+%", text)
    check(len(bars) >= 2, f"no live bar redrawn in place: {text[:1000]!r}")
    check("100.0%" in text, f"the bar never reached 100%: {text[-1500:]!r}")
    lines = [l.split("\r")[-1] for l in text.rstrip("\n").split("\n")]
    json_lines = [l for l in lines if l.lstrip().startswith("{")]
    eq(len(json_lines), 1, "JSON documents on the terminal (only the final --stats one)")
    eq(lines[-1], json_lines[0], "the --stats JSON is the last line")
    json.loads(lines[-1])
    at = [i for i, l in enumerate(lines) if l.startswith("sluice: ")]
    eq(len(at), 1, f"summary lines: {lines!r}")
    check(SUMMARY.match(lines[at[0]]), f"summary line: {lines[at[0]]!r}")
    check(re.search(r"\[#{24}\] 100\.0%", lines[at[0] - 1]), f"the finished bar is not right above the summary: {lines!r}")
    check_table(lines[at[0] + 1:-1], 400_000)


s.finish()
