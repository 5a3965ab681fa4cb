#!/usr/bin/env python3
"""Postgres -> JSONL(.gz) through a psycopg2 server-side (named) cursor: the psycopg2 peer
of export.sh.

    export_psycopg2.py [--batch N] [--level L] QUERY OUTPUT.jsonl[.gz]

Connection from the PG* environment variables (or PG_DSN). Rows are fetched itersize at a
time (default 1000) from a named cursor, so the result set is never held in memory; each
row becomes a JSON object (column names as keys; datetimes in ISO 8601, Decimals as
numbers with their exact digits, jsonb/arrays as decoded by psycopg2) and the stream is
gzipped at level 6 when OUTPUT ends in .gz. Prints the row count on stderr.
"""
import argparse
import datetime
import decimal
import gzip
import io
import json
import os
import sys

import psycopg2


class _Encoder(json.JSONEncoder):
    def default(self, o):  # noqa: D102 - json hook
        if isinstance(o, (datetime.datetime, datetime.date, datetime.time)):
            return o.isoformat()
        if isinstance(o, decimal.Decimal):
            # float() would lose digits; a string keeps them (row_to_json prints a number,
            # which a standard encoder cannot do without a custom float repr).
            return str(o)
        if isinstance(o, (bytes, memoryview)):
            return "\\x" + bytes(o).hex()
        return super().default(o)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch", type=int, default=1000, help="rows per FETCH (cursor itersize)")
    ap.add_argument("--level", type=int, default=6, help="gzip level for .gz output")
    ap.add_argument("query")
    ap.add_argument("output")
    args = ap.parse_args()

    conn = psycopg2.connect(os.environ.get("PG_DSN", ""))
    conn.set_session(readonly=True)
    encode = _Encoder(ensure_ascii=False, separators=(",", ":")).encode
    if args.output.endswith(".gz"):
        raw = open(args.output, "wb")
        out = io.TextIOWrapper(gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=args.level),
                               encoding="utf-8", newline="\n")
    else:
        raw = None
        out = open(args.output, "w", encoding="utf-8", newline="\n", buffering=1 << 20)
    n = 0
    with conn, conn.cursor(name="sluice_bench_export") as cur:
        cur.itersize = args.batch
        cur.execute(args.query)
        names = None
        write = out.write
        for row in cur:
            if names is None:
                names = [d[0] for d in cur.description]
            write(encode(dict(zip(names, row))))
            write("\n")
            n += 1
    out.close()
    if raw is not None:
        raw.close()
    conn.close()
    print(f"export_psycopg2: {n} rows", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
