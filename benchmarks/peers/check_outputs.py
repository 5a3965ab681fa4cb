#!/usr/bin/env python3
"""Cheap equivalence checks for the peer benchmarks' outputs (record i of every output is
record i of the input, so sampled records are compared position by position).

    check_outputs.py count-jsonl FILE             -> prints the number of JSON lines
    check_outputs.py count-csv FILE               -> prints the number of CSV records (no header)
    check_outputs.py jsonl [--every N] REF OTHER...  compare sampled JSONL records
    check_outputs.py csv   [--every N] REF OTHER...  compare sampled CSV records

Records are compared after normalization, so that tools with different typing conventions
can still be checked for content: JSON values become text (numbers keep their digits,
null -> "", true/false -> "true"/"false", objects/arrays -> compact JSON); CSV cells that
parse as JSON are compared as parsed JSON (numbers as floats), so 0.500 == 0.5. Prints one
line per OTHER: "OK name (N records sampled)" or "DIFF name: ..." with the first mismatch.
Exit status 0 unless a file cannot be read; mismatches are reported, not fatal.
"""
import csv
import gzip
import json
import sys

csv.field_size_limit(1 << 30)


def _open(path):
    if path.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def _norm_json_value(v):
    if v is None:
        return ""
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, (list, dict)):
        return json.dumps(v, ensure_ascii=False, separators=(",", ":"))
    return v  # strings, and numbers kept as their text by parse_float/parse_int=str


def _json_record(line):
    obj = json.loads(line, parse_float=str, parse_int=str)
    return {k: _norm_json_value(v) for k, v in obj.items()}


def _cell(c):
    try:
        v = json.loads(c)
    except ValueError:
        return c
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    return v


def _sample_jsonl(path, every):
    out = {}
    with _open(path) as f:
        for i, line in enumerate(f):
            if i % every == 0:
                out[i] = _json_record(line)
    return out, i + 1 if out else 0


def _sample_csv(path, every):
    out = {}
    n = 0
    with _open(path) as f:
        r = csv.reader(f)
        header = next(r)
        for i, row in enumerate(r):
            n = i + 1
            if i % every == 0:
                out[i] = {h: _cell(c) for h, c in zip(header, row)}
    return out, n


def _compare(kind, every, ref, others):
    sample = _sample_jsonl if kind == "jsonl" else _sample_csv
    ref_recs, ref_n = sample(ref, every)
    for other in others:
        recs, n = sample(other, every)
        if n != ref_n:
            print(f"DIFF {other}: {n} records, reference has {ref_n}")
            continue
        bad = [i for i in ref_recs if recs.get(i) != ref_recs[i]]
        if not bad:
            print(f"OK {other} ({len(ref_recs)} of {n} records sampled)")
            continue
        i = bad[0]
        a, b = ref_recs[i], recs.get(i) or {}
        keys = [k for k in list(a) + [k for k in b if k not in a] if a.get(k) != b.get(k)]
        detail = "; ".join(f"{k}: {a.get(k)!r} vs {b.get(k)!r}" for k in keys[:3])
        print(f"DIFF {other}: {len(bad)} of {len(ref_recs)} sampled records differ; record {i}: {detail}")


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, rest = argv[1], argv[2:]
    if cmd == "count-jsonl":
        with _open(rest[0]) as f:
            print(sum(1 for _ in f))
        return 0
    if cmd == "count-csv":
        with _open(rest[0]) as f:
            r = csv.reader(f)
            next(r, None)
            print(sum(1 for _ in r))
        return 0
    if cmd in ("jsonl", "csv"):
        every = 997
        if rest[:1] == ["--every"]:
            every, rest = int(rest[1]), rest[2:]
        if len(rest) < 2:
            print(__doc__, file=sys.stderr)
            return 2
        _compare(cmd, every, rest[0], rest[1:])
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
