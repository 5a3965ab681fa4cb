#!/usr/bin/env python3
"""CSV -> JSONL with the standard library only: the "Python csv+json" peer of convert.sh.

    csv_to_jsonl.py INPUT.csv OUTPUT.jsonl

One JSON object per record, header keys in order, every value a string (the same
semantics as `sluice convert x.csv x.jsonl`). Non-ASCII is written as UTF-8, not escaped.
"""
import csv
import json
import sys


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    src, dst = sys.argv[1], sys.argv[2]
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    with open(src, newline="", encoding="utf-8") as fin, \
            open(dst, "w", encoding="utf-8", newline="\n", buffering=1 << 20) as fout:
        reader = csv.reader(fin)
        header = next(reader)
        write = fout.write
        for row in reader:
            write(dumps(dict(zip(header, row))))
            write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
