#!/usr/bin/env python3
"""End-to-end tests of `sluice convert`: conformance, round trips, formats, compression,
stdin/stdout, the JSON -> CSV rules, bad input, dead letters, progress.

    python3 tests/cli/test_convert.py SLUICE SLUICE_DEMO
"""

import gzip
import json
import os
import random
import re
import shutil
import subprocess

from cli_common import (Failure, Skip, Suite, check, csv_spectrum_dir, eq, err, expect_exit,
                        jsonl_records, listdir, read, write)

s = Suite("convert")

FORMATS = ["csv", "tsv", "jsonl", "json"]
COMPRESSIONS = ["", ".gz", ".zst"]


# --- csv-spectrum ------------------------------------------------------------------------------
@s.case("csv_spectrum")
def _(d):
    root = csv_spectrum_dir()
    names = sorted(n[:-4] for n in os.listdir(os.path.join(root, "csvs")) if n.endswith(".csv"))
    check(names, "csv-spectrum has no files")
    problems = []
    for name in names:
        src = os.path.join(root, "csvs", name + ".csv")
        if name == "location_coordinates":
            # Its second field holds `37.8"N` unquoted (and its JSON a different phone number
            # from the CSV): not RFC 4180, so the strict reader must reject it at line 2, as
            # the library's own csv-spectrum test expects.
            r = s.run("convert", src, os.path.join(d, name + ".jsonl"))
            if r.returncode != 2 or not re.search(r"\bline 2\b", err(r)):
                problems.append(f"{name}: exit {r.returncode}, want 2 naming line 2: {err(r)}")
            continue
        with open(os.path.join(root, "json", name + ".json"), encoding="utf-8") as f:
            want = json.load(f)
        out_json = os.path.join(d, name + ".json")
        out_jsonl = os.path.join(d, name + ".jsonl")
        for out in (out_json, out_jsonl):
            r = s.run("convert", src, out)
            if r.returncode != 0:
                problems.append(f"{name} -> {os.path.basename(out)}: exit {r.returncode}: {err(r)}")
                continue
            data = read(out)
            try:
                got = json.loads(data) if out.endswith(".json") else [
                    json.loads(l) for l in data.decode("utf-8").splitlines() if l.strip()]
            except ValueError as e:
                problems.append(f"{name} -> {os.path.basename(out)}: invalid JSON ({e}): {data[:200]!r}")
                continue
            if got != want:
                problems.append(f"{name} -> {os.path.basename(out)}: got {got!r}, want {want!r}")
    check(not problems, "\n  " + "\n  ".join(problems))


# --- generated data --------------------------------------------------------------------------
PIECES = ["a", "b", "xyz", "42", "-1.5", " ", "  lead", "trail ", ",", '"', '""', "\n", "\r\n",
          "\t", ";", "|", "é", "Zoë", "李小龙", "🚚", "\u2028", "\\", "\\n", "{}", "[1]",
          "'", "null", "true", "0"]


def random_field(rng):
    if rng.random() < 0.15:
        return ""
    return "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 5)))


def csv_field(v, delim=","):
    """The writer's minimal quoting: only fields holding the delimiter, a quote, CR or LF."""
    if any(c in v for c in (delim, '"', "\r", "\n")):
        return '"' + v.replace('"', '""') + '"'
    return v


def csv_text(rows, delim=","):
    out = []
    for row in rows:
        if len(row) == 1 and row[0] == "":
            out.append('""')
        else:
            out.append(delim.join(csv_field(v, delim) for v in row))
    return "".join(line + "\n" for line in out)


def random_table(rng, nrows, ncols):
    header = []
    while len(header) < ncols:
        h = random_field(rng) or "col"
        if h not in header:
            header.append(h)
    rows = [[random_field(rng) for _ in range(ncols)] for _ in range(nrows)]
    return header, rows


def jsonl_of(header, rows):
    return "".join(json.dumps(dict(zip(header, r)), ensure_ascii=False, separators=(",", ":")) + "\n"
                   for r in rows)


@s.case("roundtrip_csv_jsonl_csv")
def _(d):
    rng = random.Random(20261122)
    for i, (nrows, ncols) in enumerate([(1, 1), (5, 1), (300, 3), (2000, 7), (50, 12)]):
        header, rows = random_table(rng, nrows, ncols)
        text = csv_text([header] + rows)
        src = write(os.path.join(d, f"in{i}.csv"), text)
        mid = os.path.join(d, f"mid{i}.jsonl")
        back = os.path.join(d, f"back{i}.csv")
        s.ok("convert", src, mid)
        # The JSONL is each record as an object of strings, header keys in order.
        got = jsonl_records(read(mid))
        want = [[[k, v] for k, v in zip(header, r)] for r in rows]
        if got != want:
            for j, (g, w) in enumerate(zip(got, want)):
                if g != w:
                    raise Failure(f"table {i} record {j}: got {g!r}, want {w!r}")
            eq(len(got), len(want), f"table {i}: record count")
        s.ok("convert", mid, back)
        data = read(back)
        if data != text.encode("utf-8"):
            a, b = data, text.encode("utf-8")
            k = next((j for j in range(min(len(a), len(b))) if a[j] != b[j]), min(len(a), len(b)))
            raise Failure(f"table {i}: CSV -> JSONL -> CSV differs at byte {k}: "
                          f"got {a[max(0, k - 40):k + 40]!r}, want {b[max(0, k - 40):k + 40]!r}")
        # TSV too: the same quoting with a tab.
        tsv_text = csv_text([header] + rows, "\t")
        tsv = os.path.join(d, f"back{i}.tsv")
        s.ok("convert", mid, tsv)
        eq(read(tsv), tsv_text.encode("utf-8"), f"table {i}: JSONL -> TSV")


@s.case("every_format_pair")
def _(d):
    rng = random.Random(7)
    header, rows = random_table(rng, 400, 5)
    base = write(os.path.join(d, "base.csv"), csv_text([header] + rows))
    want = jsonl_of(header, rows).encode("utf-8")
    # One file per (format, compression), each made from the base CSV.
    sources = {}
    for f in FORMATS:
        for c in COMPRESSIONS:
            p = os.path.join(d, f"src.{f}{c}")
            s.ok("convert", base, p)
            sources[(f, c)] = p
    problems = []
    for (f1, c1), src in sources.items():
        for f2 in FORMATS:
            for c2 in COMPRESSIONS:
                out = os.path.join(d, f"out_{f1}{c1.replace('.', '_')}.{f2}{c2}")
                r = s.run("convert", src, out)
                if r.returncode != 0:
                    problems.append(f"{f1}{c1} -> {f2}{c2}: exit {r.returncode}: {err(r)}")
                    continue
                data = read(out)
                if c2 == ".gz":
                    if data[:2] != b"\x1f\x8b":
                        problems.append(f"{f1}{c1} -> {f2}{c2}: not gzip")
                    t = subprocess.run(["gzip", "-t", out], capture_output=True)
                    if t.returncode != 0:
                        problems.append(f"{f1}{c1} -> {f2}{c2}: gzip -t: {t.stderr!r}")
                elif c2 == ".zst":
                    if data[:4] != b"\x28\xb5\x2f\xfd":
                        problems.append(f"{f1}{c1} -> {f2}{c2}: not zstd")
                    t = subprocess.run(["zstd", "-q", "-t", out], capture_output=True)
                    if t.returncode != 0:
                        problems.append(f"{f1}{c1} -> {f2}{c2}: zstd -t: {t.stderr!r}")
                # Back to JSONL: must be the base records.
                back = out + ".back.jsonl"
                r = s.run("convert", out, back)
                if r.returncode != 0:
                    problems.append(f"{f1}{c1} -> {f2}{c2} -> jsonl: exit {r.returncode}: {err(r)}")
                    continue
                if read(back) != want:
                    problems.append(f"{f1}{c1} -> {f2}{c2}: content differs")
                os.remove(back)
                os.remove(out)
    check(not problems, f"{len(problems)} problems:\n  " + "\n  ".join(problems[:30]))


@s.case("json_array_output")
def _(d):
    src = write(os.path.join(d, "in.csv"), 'a,b\n1,"x,y"\n2,"q""\n"\n')
    out = os.path.join(d, "out.json")
    s.ok("convert", src, out)
    eq(json.loads(read(out)), [{"a": "1", "b": "x,y"}, {"a": "2", "b": 'q"\n'}], "JSON array")
    # An empty input (header only) gives an empty array.
    src = write(os.path.join(d, "empty.csv"), "a,b\n")
    s.ok("convert", src, out)
    eq(json.loads(read(out)), [], "header-only CSV -> .json")
    # A .json array input is read element by element.
    arr = write(os.path.join(d, "arr.json"), '[ {"a": 1, "b": "x"},\n {"a": 2.50, "b": null} ]')
    out_csv = os.path.join(d, "arr.csv")
    s.ok("convert", arr, out_csv)
    eq(read(out_csv), b"a,b\n1,x\n2.50,\n", ".json -> .csv")


# --- stdin / stdout, flags -------------------------------------------------------------------
@s.case("stdin_stdout")
def _(d):
    base = s.generate(os.path.join(d, "base.csv"), 2000)
    ref = os.path.join(d, "ref.jsonl")
    s.ok("convert", base, ref)
    data = read(base)
    r = s.ok("convert", "--from", "csv", "--to", "jsonl", "-", "-", input=data)
    eq(r.stdout, read(ref), "stdin CSV -> stdout JSONL")
    # Compressed stdin is recognized by its magic bytes.
    for comp in (["gzip", "-c"], ["zstd", "-q", "-c"]):
        packed = subprocess.run(comp, input=data, capture_output=True, check=True).stdout
        r = s.ok("convert", "--from", "csv", "--to", "jsonl", "-", "-", input=packed)
        eq(r.stdout, read(ref), f"{comp[0]} stdin -> stdout")
    # stdout compressed on request.
    r = s.ok("convert", "--from", "csv", "--to", "jsonl", "--compress", "gzip", "-", "-", input=data)
    eq(gzip.decompress(r.stdout), read(ref), "stdout --compress gzip")
    # File in, stdout out: the format from --to; the input's from its name.
    r = s.ok("convert", "--to", "csv", ref, "-")
    eq(r.stdout, data, "JSONL file -> CSV stdout")
    # stdin to a file.
    out = os.path.join(d, "out.jsonl.zst")
    s.ok("convert", "--from", "csv", "-", out, input=data)
    t = subprocess.run(["zstd", "-q", "-d", "-c", out], capture_output=True, check=True)
    eq(t.stdout, read(ref), "stdin -> .jsonl.zst")


@s.case("compress_and_level_override")
def _(d):
    base = s.generate(os.path.join(d, "base.csv"), 20000)
    ref = os.path.join(d, "ref.jsonl")
    s.ok("convert", base, ref)
    want = read(ref)
    # --compress over the extension, both ways.
    out = os.path.join(d, "a.jsonl")
    s.ok("convert", "--compress", "gzip", base, out)
    check(read(out)[:2] == b"\x1f\x8b", "--compress gzip on .jsonl: not gzip")
    eq(gzip.decompress(read(out)), want, "--compress gzip content")
    out = os.path.join(d, "b.jsonl.gz")
    s.ok("convert", "--compress", "none", base, out)
    eq(read(out), want, "--compress none on .jsonl.gz: plain")
    out = os.path.join(d, "c.jsonl.gz")
    s.ok("convert", "--compress", "zstd", base, out)
    check(read(out)[:4] == b"\x28\xb5\x2f\xfd", "--compress zstd on .gz name: not zstd")
    # --to over the extension.
    out = os.path.join(d, "d.txt")
    s.ok("convert", "--to", "jsonl", base, out)
    eq(read(out), want, "--to jsonl on .txt")
    # --from over the extension.
    odd = os.path.join(d, "input.dat")
    shutil.copy(base, odd)
    out = os.path.join(d, "e.jsonl")
    s.ok("convert", "--from", "csv", odd, out)
    eq(read(out), want, "--from csv on .dat")
    # --level: both levels valid; the higher one is not larger.
    sizes = {}
    for codec, ext, levels in (("gzip", ".gz", (1, 9)), ("zstd", ".zst", (1, 19))):
        for lv in levels:
            out = os.path.join(d, f"lv{lv}.jsonl{ext}")
            s.ok("convert", "--level", lv, base, out)
            tool = ["gzip", "-t", out] if codec == "gzip" else ["zstd", "-q", "-t", out]
            t = subprocess.run(tool, capture_output=True)
            check(t.returncode == 0, f"{codec} level {lv}: {tool[0]} -t failed: {t.stderr!r}")
            sizes[(codec, lv)] = os.path.getsize(out)
        lo, hi = levels
        check(sizes[(codec, hi)] < sizes[(codec, lo)],
              f"{codec}: level {hi} ({sizes[(codec, hi)]} B) not smaller than level {lo} "
              f"({sizes[(codec, lo)]} B): --level ignored?")


# --- JSON -> CSV rules -----------------------------------------------------------------------
JSON_TO_CSV = [
    # (name, jsonl input, extra args, expected CSV)
    ("columns_from_first_record", '{"a":1,"b":"x"}\n{"b":"y","a":2}\n', [], "a,b\n1,x\n2,y\n"),
    ("explicit_columns", '{"a":1,"b":"x","c":3}\n{"c":4,"z":5}\n', ["--columns", "b,a"],
     "b,a\nx,1\n,\n"),
    ("explicit_columns_empty_input", "", ["--columns", "a,b"], "a,b\n"),
    ("strings_raw", '{"s":"plain","e":"A\\u00e9\\ud83d\\ude9a","q":"say \\"hi\\", ok"}\n', [],
     's,e,q\nplain,Aé🚚,"say ""hi"", ok"\n'),
    ("control_escapes", '{"a":"line\\nbreak","b":"tab\\there","c":"cr\\r"}\n', [],
     'a,b,c\n"line\nbreak",tab\there,"cr\r"\n'),
    ("number_text_kept",
     '{"big":12345678901234567890,"f":1.0,"z":-0,"e":1e400,"x":-1.25E-3,"i":0}\n', [],
     "big,f,z,e,x,i\n12345678901234567890,1.0,-0,1e400,-1.25E-3,0\n"),
    ("booleans_and_null", '{"t":true,"f":false,"n":null}\n', [], "t,f,n\ntrue,false,\n"),
    ("nested_compact", '{"o": {"x" : [1, 2.50 , {"y" : null}], "s": "a b, \\"c\\""},"a":[ ]}\n', [],
     'o,a\n"{""x"":[1,2.50,{""y"":null}],""s"":""a b, \\""c\\""""}",[]\n'),
    ("nested_big_numbers", '{"a":[12345678901234567890, 1e400, -0.0]}\n', [],
     'a\n"[12345678901234567890,1e400,-0.0]"\n'),
    ("missing_key_empty", '{"a":1,"b":2}\n{"a":3}\n{"b":4}\n', [], "a,b\n1,2\n3,\n,4\n"),
    ("duplicate_keys_last_wins", '{"a":1,"b":2,"a":3}\n{"a":4,"a":5,"b":6}\n', [],
     "a,b\n3,2\n5,6\n"),
    ("only_field_empty", '{"a":""}\n{"a":null}\n{}\n{"a":"x"}\n', [], 'a\n""\n""\n""\nx\n'),
    ("only_field_empty_columns", '{"b":1}\n', ["--columns", "a"], 'a\n""\n'),
    ("blank_lines_and_bom", '\ufeff{"a":1}\n\n   \n{"a":2}\r\n', [], "a\n1\n2\n"),
    ("header_needs_quotes", '{"a,b":1,"c\\"d":2}\n', [], '"a,b","c""d"\n1,2\n'),
]


@s.case("jsonl_to_csv_rules")
def _(d):
    problems = []
    for name, src, args, want in JSON_TO_CSV:
        inp = write(os.path.join(d, name + ".jsonl"), src)
        out = os.path.join(d, name + ".csv")
        r = s.run("convert", *args, inp, out)
        if r.returncode != 0:
            problems.append(f"{name}: exit {r.returncode}: {err(r)}")
            continue
        got = read(out).decode("utf-8", "replace")
        if got != want:
            problems.append(f"{name}: got {got!r}, want {want!r}")
    check(not problems, "\n  " + "\n  ".join(problems))


# --- bad input -------------------------------------------------------------------------------
def gz(data):
    return gzip.compress(data.encode() if isinstance(data, str) else data)


def zst(data):
    return subprocess.run(["zstd", "-q", "-c"], input=data, capture_output=True, check=True).stdout


def corrupt(packed, at=None):
    b = bytearray(packed)
    at = len(b) // 2 if at is None else at
    for i in range(at, min(at + 8, len(b) - 8)):
        b[i] ^= 0x5A
    return bytes(b)


BIG_CSV = ("id,text\n" + "".join(f"{i},row {i} with some text {i * 7919 % 1000}\n"
                                 for i in range(20000))).encode()

BAD_INPUTS = [
    # (name, file name, bytes, args, line the message must name or None)
    ("csv_unterminated_quote", "in.csv", b'a,b\n1,2\n\n3,"never closed\n4,5\n6,7\n', [], 4),
    ("csv_quote_in_unquoted", "in.csv", b'a,b\n1,2\n3,x"y\n', [], 3),
    ("csv_text_after_quote", "in.csv", b'a,b\n1,2\n"x"y,3\n', [], 3),
    ("csv_field_count_more", "in.csv", b"a,b\n1,2\n\n3,4,5\n", [], 4),
    ("csv_field_count_fewer", "in.csv", b"a,b\n1,2\n3\n", [], 3),
    ("csv_field_count_after_multiline", "in.csv", b'a,b\n"x\ny\nz",2\n3\n', [], 5),
    ("csv_invalid_utf8", "in.csv", b"a,b\n1,2\n3,\xff\xfe\n", [], 3),
    ("csv_invalid_utf8_overlong", "in.csv", b"a,b\n1,\xc0\xaf\n", [], 2),
    ("tsv_field_count", "in.tsv", b"a\tb\n1\t2\n3\n", [], 3),
    ("jsonl_malformed", "in.jsonl", b'{"a":1}\n{"a":2}\n{"a":,}\n{"a":4}\n', [], 3),
    ("jsonl_unclosed", "in.jsonl", b'{"a":1}\n\n{"a":2\n{"a":3}\n', [], 3),
    ("jsonl_trailing_garbage", "in.jsonl", b'{"a":1}\n{"a":2} x\n', [], 2),
    ("jsonl_invalid_utf8", "in.jsonl", b'{"a":"1"}\n{"a":"\xff"}\n', [], 2),
    ("jsonl_lone_surrogate", "in.jsonl", b'{"a":"ok"}\n{"a":"\\ud800"}\n', [], 2),
    ("jsonl_lone_low_surrogate", "in.jsonl", b'{"a":"x\\udc00y"}\n', [], 1),
    ("jsonl_unknown_key", "in.jsonl", b'{"a":1}\n{"a":2}\n{"a":3,"b":4}\n', [], 3),
    ("jsonl_not_object", "in.jsonl", b'{"a":1}\n[1,2]\n', [], 2),
    ("json_array_malformed", "in.json", b'[{"a":1},\n{"a":2},\n{"a":}]', [], 3),
    ("gzip_corrupt", "in.csv.gz", corrupt(gz(BIG_CSV)), [], None),
    ("gzip_truncated", "in.csv.gz", gz(BIG_CSV)[:-20], [], None),
    ("gzip_bad_crc", "in.csv.gz", gz(BIG_CSV)[:-8] + b"\0\0\0\0" + gz(BIG_CSV)[-4:], [], None),
    ("zstd_corrupt", "in.csv.zst", corrupt(zst(BIG_CSV)), [], None),
    ("zstd_truncated", "in.csv.zst", zst(BIG_CSV)[:-10], [], None),
]


def expect_bad(d, fname, data, args, line, out_name):
    """Converts a bad input: exit 2, the line named, OUTPUT absent (or unchanged), nothing beside it."""
    inp = write(os.path.join(d, fname), data)
    out = os.path.join(d, out_name)
    for existing in (None, b"previous content\n"):
        if existing is None:
            if os.path.exists(out):
                os.remove(out)
        else:
            write(out, existing)
        before = listdir(d)
        r = s.run("convert", *args, inp, out)
        expect_exit(r, 2, f"{fname} -> {out_name}")
        msg = err(r)
        check(msg, "no error message")
        if line is not None:
            check(re.search(rf"\bline {line}\b", msg), f"message does not name line {line}: {msg!r}")
        if existing is None:
            check(not os.path.exists(out), f"OUTPUT was created: {out_name}")
        else:
            eq(read(out), existing, "existing OUTPUT changed")
        eq(listdir(d), before, "directory listing after the failed run")
    return msg


@s.case("bad_input")
def _(d):
    problems = []
    for name, fname, data, args, line in BAD_INPUTS:
        sub = os.path.join(d, name)
        os.makedirs(sub)
        outs = ["out.jsonl", "out.csv.gz"] if not fname.startswith("in.jsonl") else ["out.csv"]
        if name in ("jsonl_unknown_key", "jsonl_not_object"):
            outs = ["out.csv"]
        elif fname.startswith("in.json"):
            outs = ["out.csv", "out.jsonl.zst"]
        for out_name in outs:
            try:
                expect_bad(sub, fname, data, args, line, out_name)
            except Failure as e:
                problems.append(f"{name} -> {out_name}: {e}")
    check(not problems, f"{len(problems)} problems:\n  " + "\n  ".join(problems))


@s.case("bad_input_to_stdout")
def _(d):
    # With `-` as OUTPUT the bytes may have started: only the exit status and message count.
    r = s.run("convert", "--from", "csv", "--to", "jsonl", "-", "-", input=b'a,b\n1,2\n3,x"y\n')
    expect_exit(r, 2, "bad CSV on stdin")
    check(re.search(r"\bline 3\b", err(r)), f"message does not name line 3: {err(r)!r}")


@s.case("missing_input_exit_1")
def _(d):
    out = os.path.join(d, "out.jsonl")
    r = s.run("convert", os.path.join(d, "nope.csv"), out)
    expect_exit(r, 1, "missing input")
    check("nope.csv" in err(r), f"message does not name the file: {err(r)!r}")
    eq(listdir(d), [], "directory after the failed run")
    # Unreadable output directory: an outside-world failure too.
    src = write(os.path.join(d, "in.csv"), "a\n1\n")
    r = s.run("convert", src, os.path.join(d, "no", "such", "dir", "out.jsonl"))
    expect_exit(r, 1, "output in a missing directory")


@s.case("usage_errors_exit_2")
def _(d):
    src = write(os.path.join(d, "in.csv"), "a,b\n1,2\n")
    out = os.path.join(d, "out.jsonl")
    cases = [
        (["--from", "xml", src, out], "unknown --from"),
        (["--to", "orc", src, out], "unknown --to"),  # parquet is a format now
        ([src, os.path.join(d, "out.xyz")], "unknown output extension"),
        ([src, os.path.join(d, "out")], "output without extension"),
        ([os.path.join(d, "in.unknown"), out], "unknown input extension"),
        (["--compress", "lz4", src, out], "unknown --compress"),
        (["--level", "abc", src, out + ".gz"], "non-numeric --level"),
        (["--level", "5", src, out], "--level without compression"),
        (["--bogus", src, out], "unknown flag"),
        ([src], "missing OUTPUT"),
        ([], "no arguments"),
        (["--on-error", "maybe", src, out], "bad --on-error"),
        (["--dead-letter", os.path.join(d, "dl.jsonl"), src, out], "--dead-letter without skip"),
        (["--columns", "a,b", src, out], "--columns with CSV input"),
        (["--part-size", "lots", src, out], "bad --part-size"),
        (["--threads", "-1", src, out], "negative --threads"),
    ]
    write(os.path.join(d, "in.unknown"), "a\n1\n")
    before = listdir(d)
    problems = []
    for args, what in cases:
        r = s.run("convert", *args)
        if r.returncode != 2:
            problems.append(f"{what}: exit {r.returncode}, want 2; stderr {err(r)[:200]!r}")
        elif not err(r):
            problems.append(f"{what}: no message on stderr")
    r = s.run("frobnicate")
    if r.returncode != 2:
        problems.append(f"unknown subcommand: exit {r.returncode}")
    r = s.run()
    if r.returncode != 2:
        problems.append(f"no subcommand: exit {r.returncode}")
    r = s.run("convert", "--help")
    if r.returncode != 0 or b"--from" not in r.stdout:
        problems.append(f"--help: exit {r.returncode}")
    eq(listdir(d), before, "directory after usage errors")
    check(not problems, "\n  " + "\n  ".join(problems))


# --- dead letters ----------------------------------------------------------------------------
@s.case("dead_letters_csv")
def _(d):
    good = [["1", "a"], ["2", "b,c"], ["3", 'q"q'], ["4", "multi\nline"], ["5", "é"], ["6", ""]]
    lines = [b"id,v\n",
             b"1,a\n",
             b'x"y,3\n',                 # line 3: quote in unquoted field
             b'2,"b,c"\n',
             b"4\n",                     # line 5: too few fields
             b"\n",
             b'3,"q""q"\n',
             b"7,\xff\n",                # line 8: invalid UTF-8
             b'4,"multi\nline"\n',        # lines 9-10
             b'"q"z,1\n',                # line 11: text after a closing quote
             b"5,\xc3\xa9\n",
             b"8,9,10\n",                # line 13: too many fields
             b"6,\n"]
    src = write(os.path.join(d, "in.csv"), b"".join(lines))
    out = os.path.join(d, "out.jsonl")
    dl = os.path.join(d, "dead.jsonl")
    r = s.run("convert", "--on-error", "skip", "--dead-letter", dl, src, out)
    expect_exit(r, 0, "--on-error skip")
    got = [dict(o) for o in jsonl_records(read(out))]
    eq(got, [{"id": a, "v": b} for a, b in good], "good rows in the output")
    bad = [json.loads(l) for l in read(dl).decode("utf-8").splitlines()]
    eq([b.get("line") for b in bad], [3, 5, 8, 11, 13], "dead-letter lines")
    for b in bad:
        check(isinstance(b.get("error"), str) and b["error"], f"no error text: {b}")
        check(isinstance(b.get("raw"), str), f"no raw text: {b}")
    check("x\"y,3" in bad[0]["raw"], f"raw of line 3: {bad[0]['raw']!r}")
    check(bad[1]["raw"].rstrip("\n") == "4", f"raw of line 5: {bad[1]['raw']!r}")
    check("8,9,10" in bad[4]["raw"], f"raw of line 13: {bad[4]['raw']!r}")
    check(re.search(r"\b5\b.*(bad|skipped|reject)", err(r)), f"no summary counting 5: {err(r)!r}")
    # Without --dead-letter: skipped, counted, exit 0.
    r = s.run("convert", "--on-error", "skip", src, out)
    expect_exit(r, 0, "--on-error skip without a dead-letter file")
    check(re.search(r"\b5\b", err(r)), f"no count in the summary: {err(r)!r}")
    # --max-errors: more bad records than allowed fails (exit 2), nothing written.
    os.remove(out)
    os.remove(dl)
    r = s.run("convert", "--on-error", "skip", "--dead-letter", dl, "--max-errors", "2", src, out)
    expect_exit(r, 2, "--max-errors 2 with 5 bad records")
    eq(listdir(d), ["in.csv"], "directory after exceeding --max-errors")


@s.case("dead_letters_jsonl")
def _(d):
    src = write(os.path.join(d, "in.jsonl"),
                b'{"a":1,"b":"x"}\n'
                b'{"a":2,"b":}\n'            # line 2: malformed
                b'{"a":3,"b":"y"}\n'
                b'{"a":4,"c":"z"}\n'         # line 4: unknown key
                b'\n'
                b'{"a":"\\ud800"}\n'         # line 6: lone surrogate
                b'{"a":5}\n'
                b'{"a":"\xff"}\n'            # line 8: invalid UTF-8
                b'{"a":6,"b":null}\n')
    out = os.path.join(d, "out.csv")
    dl = os.path.join(d, "dead.jsonl")
    r = s.run("convert", "--on-error", "skip", "--dead-letter", dl, src, out)
    expect_exit(r, 0, "--on-error skip")
    eq(read(out), b"a,b\n1,x\n3,y\n5,\n6,\n", "good rows")
    bad = [json.loads(l) for l in read(dl).decode("utf-8").splitlines()]
    eq([b.get("line") for b in bad], [2, 4, 6, 8], "dead-letter lines")
    for b in bad:
        check(b.get("error") and isinstance(b.get("raw"), str), f"incomplete dead letter: {b}")
    check('"b":}' in bad[0]["raw"], f"raw of line 2: {bad[0]['raw']!r}")
    check('"c":"z"' in bad[1]["raw"], f"raw of line 4: {bad[1]['raw']!r}")
    check(re.search(r"\b4\b.*(bad|skipped|reject)", err(r)), f"no summary counting 4: {err(r)!r}")


# --- progress --------------------------------------------------------------------------------
@s.case("progress")
def _(d):
    src = s.generate(os.path.join(d, "in.csv"), 5000)
    out = os.path.join(d, "out.jsonl.gz")
    r = s.ok("convert", "--progress", src, out)
    text = err(r)
    lines = text.splitlines()
    check("\r" not in text and "\033[" not in text, f"terminal codes on a non-tty stderr: {text!r}")
    check(any(re.search(r"5,?000 rows", l) for l in lines), f"no progress line with the rows: {text!r}")
    check(any("%" in l for l in lines), f"no percentage (the input size is known): {text!r}")
    # The summary line follows the last report; the stage table after it (tests/cli/test_report.py).
    summary = [l for l in lines if l.startswith("sluice: ")]
    check(summary and re.search(r"\b5,?000 rows\b", summary[0]), f"no summary line: {text!r}")
    eq(len(jsonl_records(gzip.decompress(read(out)))), 5000, "rows written")
    # Without --progress: silent.
    r = s.ok("convert", src, os.path.join(d, "quiet.jsonl"))
    eq(err(r), "", "stderr without --progress")


# --- --crlf (issue 10, defect 3) -------------------------------------------------------------
@s.case("crlf_output")
def _(d):
    src = write(os.path.join(d, "in.csv"), 'id,text\n1,plain\n2,"two\nlines"\n3,"q""x"\n')
    # CSV -> CSV: every line, the header too, ends with CRLF; the quoted LF stays an LF.
    out = os.path.join(d, "out.csv")
    s.ok("convert", "--crlf", src, out)
    eq(read(out), b'id,text\r\n1,plain\r\n2,"two\nlines"\r\n3,"q""x"\r\n', "CSV --crlf")
    # The default stays LF.
    s.ok("convert", src, out)
    eq(read(out), b'id,text\n1,plain\n2,"two\nlines"\n3,"q""x"\n', "CSV without --crlf")
    # TSV, compressed, and from JSON (header from the keys).
    tsv = os.path.join(d, "out.tsv.gz")
    s.ok("convert", "--crlf", src, tsv)
    eq(gzip.decompress(read(tsv)), b'id\ttext\r\n1\tplain\r\n2\t"two\nlines"\r\n3\t"q""x"\r\n',
       "TSV --crlf")
    jl = write(os.path.join(d, "in.jsonl"), '{"a":1,"b":"x\\ny"}\n{"a":2,"b":null}\n')
    s.ok("convert", "--crlf", jl, out)
    eq(read(out), b'a,b\r\n1,"x\ny"\r\n2,\r\n', "JSONL -> CSV --crlf")
    s.ok("convert", "--crlf", "--columns", "b", jl, out)
    eq(read(out), b'b\r\n"x\ny"\r\n""\r\n', "JSONL -> CSV --crlf --columns")
    # A CRLF file reads back as the same records.
    back = os.path.join(d, "back.jsonl")
    s.ok("convert", "--crlf", src, out)
    s.ok("convert", out, back)
    want = os.path.join(d, "want.jsonl")
    s.ok("convert", src, want)
    eq(read(back), read(want), "records of the CRLF file")
    # Stdout.
    r = s.ok("convert", "--crlf", "--to", "csv", src, "-")
    eq(r.stdout, b'id,text\r\n1,plain\r\n2,"two\nlines"\r\n3,"q""x"\r\n', "--crlf to stdout")
    # JSON output has no lines to end: a usage error, no output.
    for name in ("x.jsonl", "x.json"):
        r = s.run("convert", "--crlf", src, os.path.join(d, name))
        expect_exit(r, 2, f"--crlf to {name}")
        check("--crlf" in err(r), f"message does not name --crlf: {err(r)!r}")
        check(not os.path.exists(os.path.join(d, name)), f"{name} was created")
    check("--crlf" in s.ok("convert", "--help").stdout.decode(), "--crlf not in convert --help")


# --- misnamed compressed input (issue 10, defect 4) -------------------------------------------
@s.case("misnamed_compressed_input")
def _(d):
    plain = b"id,text\n1,a\n2,b\n"
    want = b'{"id":"1","text":"a"}\n{"id":"2","text":"b"}\n'
    out = os.path.join(d, "out.jsonl")
    # The name says gzip or zstd, the content is something else: exit 2, both named, no output.
    for name, data, says, found in (("data.csv.gz", plain, "gzip", "neither gzip nor zstd"),
                                    ("data.csv.zst", plain, "zstd", "neither gzip nor zstd"),
                                    ("data.csv.gz", zst(plain), "gzip", "the content is zstd"),
                                    ("data.csv.zst", gz(plain), "zstd", "the content is gzip"),
                                    ("data.csv.GZ", b"id", "gzip", "only 2 bytes"),
                                    ("data.csv.gz", b"", "gzip", "empty")):
        inp = write(os.path.join(d, name), data)
        for args in ((), ("--from", "csv")):
            r = s.run("convert", *args, inp, out)
            expect_exit(r, 2, f"{name} holding {found}")
            check(f"{name}: not {says} data" in err(r), f"message: {err(r)!r}")
            check(found in err(r), f"message does not say what the content is: {err(r)!r}")
            check(not os.path.exists(out), "output created")
        os.remove(inp)
    # The name says nothing (.csv, no extension with --from, stdin): the magic bytes decide.
    for data in (plain, gz(plain), zst(plain)):
        inp = write(os.path.join(d, "data.csv"), data)
        s.ok("convert", inp, out)
        eq(read(out), want, "magic bytes decide for .csv")
        inp = write(os.path.join(d, "data"), data)
        s.ok("convert", "--from", "csv", inp, out)
        eq(read(out), want, "magic bytes decide with --from")
        r = s.ok("convert", "--from", "csv", "--to", "jsonl", "-", "-", input=data)
        eq(r.stdout, want, "magic bytes decide for stdin")
    # Name and content agree.
    s.ok("convert", write(os.path.join(d, "ok.csv.gz"), gz(plain)), out)
    eq(read(out), want, ".csv.gz holding gzip")


# --- threads: the pipelined conversion -------------------------------------------------------
def pipeline_csv(rows):
    """A CSV whose fields need every path: quotes, doubled quotes, quoted line feeds (rare, so
    stage one's "no line feed inside quotes" shortcut and the counting both run), escapes for
    JSON, UTF-8, long and empty fields."""
    rnd = random.Random(15)
    out = ["id,name,payload,note,long"]
    for i in range(rows):
        payload = '"{""ref"": ""%x"", ""n"": %d, ""s"": ""a\\b""}"' % (i * 2654435761 % 2**32, i)
        note = ('"line one\nline two, %d"' % i) if i % 997 == 0 else ("caf\u00e9 \t %d" % i if i % 3 else "")
        long = "x" * rnd.randrange(0, 90)
        out.append(f"{i},Name {i} \u7530\u4e2d,{payload},{note},{long}")
    return ("\n".join(out) + "\n").encode()


@s.case("threads_pipeline")
def _(d):
    # Two or more cores: reading, parsing+encoding and writing run on three threads (the
    # default, and --threads 2); --threads 1 keeps one. The bytes must be the same.
    csv_in = write(os.path.join(d, "in.csv"), pipeline_csv(30000))
    outs = {}
    for t in ("1", "2", None):
        args = ["--threads", t] if t else []
        for ext in ("jsonl", "csv", "tsv", "json"):
            out = os.path.join(d, f"out-{t}.{ext}")
            s.ok("convert", *args, csv_in, out)
            outs[(t, ext)] = read(out)
        jl = os.path.join(d, f"out-{t}.jsonl")
        back = os.path.join(d, f"back-{t}.csv")
        s.ok("convert", *args, jl, back)
        outs[(t, "back")] = read(back)
        r = s.ok("convert", *args, "--from", "csv", "--to", "jsonl", "-", "-", input=read(csv_in))
        outs[(t, "stdio")] = r.stdout
    for key, data in outs.items():
        eq(data, outs[("1", key[1])], f"--threads {key[0]} {key[1]} differs from --threads 1")
    eq(outs[("1", "stdio")], outs[("1", "jsonl")], "stdout differs from the file")
    eq(outs[("1", "back")], read(csv_in), "CSV -> JSONL -> CSV round trip")
    check(len(outs[("1", "jsonl")]) > 1 << 20, "the test input must span many chunks")

    # --stats names the queues only when the run is pipelined: JSON array output runs on
    # three threads (read.queue, write.queue); CSV -> JSONL parses blocks on a pool of
    # workers (read.queue carries the blocks, records.workers is the pool).
    stats = {}
    for t in ("1", "2"):
        for ext in ("json", "jsonl"):
            r = s.ok("convert", "--threads", t, "--stats", csv_in, os.path.join(d, "s." + ext))
            stats[(t, ext)] = re.findall(r'"name":"([^"]+)"', err(r))
    check("read.queue" in stats[("2", "json")] and "write.queue" in stats[("2", "json")],
          f"stages: {stats[('2', 'json')]}")
    check("read.queue" in stats[("2", "jsonl")] and "records.workers" in stats[("2", "jsonl")],
          f"stages: {stats[('2', 'jsonl')]}")
    for ext in ("json", "jsonl"):
        names = stats[("1", ext)]
        check(not any(n in names for n in ("read.queue", "write.queue", "records.workers")),
              f"stages: {names}")

    # A bad record far into the input, reached on the parsing thread: the same exit status
    # and message as on one thread, and no output file.
    bad = read(csv_in).replace(b"\n25000,", b"\n25000,x\"y", 1)
    bad_in = write(os.path.join(d, "bad.csv"), bad)
    msgs = {}
    for t in ("1", "2"):
        out = os.path.join(d, f"bad-{t}.jsonl")
        r = s.run("convert", "--threads", t, bad_in, out)
        expect_exit(r, 2, f"bad record, --threads {t}")
        check(not os.path.exists(out), f"--threads {t}: output created")
        msgs[t] = err(r)
    check(re.search(r"\bline \d+\b", msgs["2"]), f"no line: {msgs['2']!r}")
    eq(msgs["2"], msgs["1"], "error message with threads")
    # Skipped and dead-lettered the same way.
    for t in ("1", "2"):
        s.ok("convert", "--threads", t, "--on-error", "skip", "--dead-letter",
             os.path.join(d, f"dl-{t}.jsonl"), bad_in, os.path.join(d, f"skip-{t}.jsonl"))
    eq(read(os.path.join(d, "skip-2.jsonl")), read(os.path.join(d, "skip-1.jsonl")), "skipped output")
    eq(read(os.path.join(d, "dl-2.jsonl")), read(os.path.join(d, "dl-1.jsonl")), "dead letters")
    check(read(os.path.join(d, "dl-1.jsonl")).count(b"\n") == 1, "one dead letter")


def same_on_threads(d, name, src, exts, extra=()):
    """Converts `src` to each output format with the default threads and with --threads 1;
    the bytes must be the same. Returns the --threads 1 outputs by extension."""
    outs = {}
    for ext in exts:
        got = {}
        for t in ("1", "2"):
            out = os.path.join(d, f"{name}-{t}.{ext}")
            s.ok("convert", "--threads", t, *extra, src, out)
            got[t] = read(out)
        eq(got["2"], got["1"], f"{name} -> {ext}: block-parallel output differs from --threads 1")
        outs[ext] = got["1"]
    return outs


def same_error_on_threads(d, name, src, ext, extra=()):
    """The same exit status (2) and message with and without the worker pool; no output."""
    msgs = {}
    for t in ("1", "2"):
        out = os.path.join(d, f"{name}-{t}.{ext}")
        r = s.run("convert", "--threads", t, *extra, src, out)
        expect_exit(r, 2, f"{name}, --threads {t}")
        check(not os.path.exists(out), f"{name}, --threads {t}: output created")
        msgs[t] = err(r)
    eq(msgs["2"], msgs["1"], f"{name}: error message with the worker pool")
    return msgs["1"]


@s.case("block_parallel_csv")
def _(d):
    # CSV is cut into blocks of whole records (256 KiB, the first 64 KiB) parsed on two
    # workers. Cuts must never fall inside quotes: quoted line feeds and CRLFs near every
    # block end, doubled quotes, a record longer than a block, a BOM, blank lines.
    rnd = random.Random(7)
    lines = ["id,text,more"]
    for i in range(60000):
        k = rnd.randrange(12)
        if k == 0:
            text = '"quoted\nline feed, ""q"" %d\r\nand CRLF"' % i
        elif k == 1:
            text = '"' + "\n" * rnd.randrange(1, 40) + '"'
        elif k == 2:
            text = '""'
        else:
            text = "plain \u00e9 %d" % i
        lines.append(f"{i},{text},{'y' * rnd.randrange(0, 30)}")
        if i == 20000:
            lines.append('big,"%s",end' % ("z\n" * 200_000))  # 400 KB: longer than a block
        if i % 5000 == 0:
            lines.append("")
    data = "\ufeff" + "\r\n".join(lines) + "\r\n"
    src = write(os.path.join(d, "in.csv"), data.encode())
    check(len(data) > 8 * 256 * 1024, f"the input must span many blocks: {len(data)} bytes")
    outs = same_on_threads(d, "mixed", src, ("jsonl", "csv", "tsv"))
    eq(outs["jsonl"].count(b"\n"), 60001, "records")

    # The header alone, an empty input, and more than a first block of blank lines before
    # the header (the header is then learned by a later block).
    same_on_threads(d, "header", write(os.path.join(d, "h.csv"), b"a,b\n"), ("jsonl", "csv"))
    same_on_threads(d, "empty", write(os.path.join(d, "e.csv"), b""), ("jsonl", "csv"))
    late = b"\n" * 200_000 + b"a,b\n" + b"".join(b"%d,x\n" % i for i in range(50000))
    outs = same_on_threads(d, "late", write(os.path.join(d, "late.csv"), late), ("jsonl", "csv"))
    eq(outs["jsonl"].count(b"\n"), 50000, "records after the blank lines")

    # A header wider than the first block (64 KiB): the block that read it holds no record,
    # and the output's header line must still come first.
    cols = ",".join("c%05d" % i for i in range(12000))
    wide = (cols + "\n" + "".join(",".join([str(i)] * 12000) + "\n" for i in range(3))).encode()
    outs = same_on_threads(d, "wide", write(os.path.join(d, "wide.csv"), wide), ("csv", "jsonl"),
                           ("--max-columns", "20000"))
    eq(outs["csv"], wide, "a wide CSV through CSV")

    # Errors far into the input: the first one in the input is reported, with the same
    # line, byte offset and record as on one thread.
    body = b"".join(b'%d,"v %d",w\n' % (i, i) for i in range(60000))
    ragged = body.replace(b"\n41000,", b"\n41000,extra,", 1).replace(b"\n50000,", b"\n50000,a,b,", 1)
    msg = same_error_on_threads(d, "ragged", write(os.path.join(d, "r.csv"), b"id,v,w\n" + ragged), "jsonl")
    check(re.search(r"line 41002\b.*record 41000\b", msg), f"position: {msg!r}")
    quote = body.replace(b"\n30000,", b"\n30000,x\"y", 1)
    msg = same_error_on_threads(d, "quote", write(os.path.join(d, "q.csv"), b"id,v,w\n" + quote), "csv")
    check("line 30002" in msg, f"position: {msg!r}")
    open_quote = b"id,v,w\n" + body + b'9,"never closed\n' + body[:400_000]
    same_error_on_threads(d, "unterminated", write(os.path.join(d, "u.csv"), open_quote), "jsonl")
    dup = write(os.path.join(d, "dup.csv"), b"a,a\n" + b"1,2\n" * 100000)
    same_error_on_threads(d, "duplicate_header", dup, "jsonl")
    utf = body.replace(b"v 45000", b"v \xff45000", 1)
    msg = same_error_on_threads(d, "utf8", write(os.path.join(d, "bad-utf8.csv"), b"id,v,w\n" + utf), "jsonl")
    check("record 45000" in msg, f"position: {msg!r}")

    # --stats: the rows counted as on one thread.
    r = s.ok("convert", "--stats", src, os.path.join(d, "stats.jsonl"))
    doc = json.loads(err(r).splitlines()[-1])
    rec = next(st for st in doc["stages"] if st["name"] == "records")
    eq((rec["in"], rec["out"]), (60001, 60001), "records counters")


@s.case("block_parallel_jsonl")
def _(d):
    rnd = random.Random(8)
    rows = []
    for i in range(60000):
        rec = {"id": i, "name": "n\u00e9 %d" % i, "nested": {"a": [1, 2, {"b": "x\\y"}]},
               "flag": i % 2 == 0, "none": None}
        if i % 7 == 0:
            rec["name"] = "tab\there \"quoted\" \u2028"
        rows.append(json.dumps(rec, ensure_ascii=rnd.random() < 0.5))
        if i == 30000:
            rows.append(json.dumps({"id": "big", "name": "w" * 400_000, "nested": {}, "flag": False,
                                    "none": None}))
        if i % 10000 == 0:
            rows.append("   ")
    data = ("\r\n".join(rows) + "\n").encode()
    src = write(os.path.join(d, "in.jsonl"), data)
    same_on_threads(d, "mixed", src, ("csv", "tsv", "jsonl"))
    same_on_threads(d, "columns", src, ("csv",), ("--columns", "name,id"))
    # The columns learned by a later block (blank lines fill the first), an empty input
    # with and without --columns (the header is written at the start with them).
    late = b"\n" * 100_000 + b"".join(b'{"a":%d,"b":"x"}\n' % i for i in range(50000))
    same_on_threads(d, "late", write(os.path.join(d, "late.jsonl"), late), ("csv",))
    empty = write(os.path.join(d, "e.jsonl"), b"")
    same_on_threads(d, "empty", empty, ("csv", "jsonl"))
    outs = same_on_threads(d, "empty_columns", empty, ("csv",), ("--columns", "x,y"))
    eq(outs["csv"], b"x,y\n", "the header of --columns for no records")

    # Errors in later blocks: same message (line, byte, record) as on one thread.
    good = b"".join(b'{"a":%d,"b":"x"}\n' % i for i in range(80000))
    bad = good.replace(b'{"a":61000,', b'{"a":61000,,', 1)
    msg = same_error_on_threads(d, "syntax", write(os.path.join(d, "bad.jsonl"), bad), "csv")
    check(re.search(r"line 61001\b.*record 61000\b", msg), f"position: {msg!r}")
    key = good.replace(b'{"a":52000,"b"', b'{"a":52000,"c"', 1)
    msg = same_error_on_threads(d, "key", write(os.path.join(d, "key.jsonl"), key), "csv")
    check("line 52001" in msg, f"position: {msg!r}")

    # --on-error skip: JSON Lines stays block-parallel (a line is a record whatever it
    # holds); the rejects of every block reach the dead letters in input order with the
    # record indices of one thread, and --max-errors stops at the same record.
    rnd = random.Random(9)
    lines = []
    for i in range(150000):
        k = rnd.randrange(400)
        if k == 0:
            lines.append('{"a":%d,,}' % i)
        elif k == 1:
            lines.append("[1,2]")
        elif k == 2:
            lines.append('{"a":%d,"zz":1}' % i)
        elif k == 3:
            lines.append("")
        else:
            lines.append('{"a":%d,"b":"x%d"}' % (i, i))
    messy = write(os.path.join(d, "messy.jsonl"), ("\n".join(lines) + "\n").encode())
    for ext in ("csv", "jsonl"):
        got = {}
        for t in ("1", "2"):
            out, dl = os.path.join(d, f"messy-{t}.{ext}"), os.path.join(d, f"messy-{t}.{ext}.dl")
            r = s.ok("convert", "--threads", t, "--on-error", "skip", "--dead-letter", dl, messy, out)
            summary = re.sub(r"[\d.]+ s, [\d.]+ [kMG]?B/s, peak memory [\d.]+ MiB", "", err(r))
            got[t] = (read(out), read(dl), summary.replace(dl, "DL"))
        eq(got["2"], got["1"], f"--on-error skip to {ext}: output, dead letters, summary")
        check(got["1"][1].count(b"\n") > 200, f"{ext}: dead letters {got['1'][1][:200]!r}")
    r = s.ok("convert", "--on-error", "skip", "--stats", messy, os.path.join(d, "messy-stats.csv"))
    check("records.workers" in err(r), f"--on-error skip is not block-parallel: {err(r)[-600:]!r}")
    limited = {}
    for t in ("1", "2"):
        r = s.run("convert", "--threads", t, "--on-error", "skip", "--max-errors", "700", messy,
                  os.path.join(d, f"lim-{t}.csv"))
        expect_exit(r, 2, f"--max-errors, --threads {t}")
        limited[t] = err(r)
    eq(limited["2"], limited["1"], "--max-errors: the same record ends the run")
    check("reject budget of 700" in limited["1"], limited["1"])


s.finish()
