#!/usr/bin/env python3
"""`--memory N`: one budget for a run's buffers (issue 14, part 3).

- refused before anything happens: `--memory 2MiB` on an export to S3 exits 2 with the
  breakdown by stage, and the proxy counts no S3 request, no object, no multipart upload;
  a refused convert creates no file (not even a temporary one);
- adaptation seen in real runs (the plan that --stats prints, and the results): the S3
  upload lowers parts in flight and part size (never below 5 MiB), parallel gzip its
  threads, the Parquet writer its row-group target;
- peak RSS (os.wait4 of the child): `--memory 24MiB` keeps a 2M-row JSONL.gz export to S3
  under 32 MiB; converts stay within the budget plus the fixed overhead at two input sizes.

The S3 and Postgres cases need SLUICE_TEST_S3_ENDPOINT (the proxy of scripts/lib/s3.sh),
AWS_*, SLUICE_TEST_PG_DSN and psql; they SKIP otherwise.

    python3 tests/cli/test_memory.py SLUICE SLUICE_DEMO
"""

import gzip
import json
import os
import re
import shutil
import subprocess
import time
import urllib.parse
import urllib.request

from cli_common import Failure, Skip, Suite, check, eq, err, expect_exit, s3_client

s = Suite("memory")
ENDPOINT = os.environ.get("SLUICE_TEST_S3_ENDPOINT", "")
DSN = os.environ.get("SLUICE_TEST_PG_DSN", "")
BUCKET = os.environ.get("SLUICE_TEST_S3_BUCKET", "sluice-test")
PREFIX = f"memory-{os.getpid()}-{int(time.time())}/"
ROWS = int(os.environ.get("SLUICE_MEMORY_ROWS", "2000000"))
MIB = 1024 * 1024
# The process's fixed overhead (code, shared libraries, allocator arenas) that the budget
# does not count: docs/design.md, "Memory budget" (measured 6.7-7.5 MiB; 1 MiB of slack).
OVERHEAD_MIB = 8.5
# The same once libpq has connected and libcurl/OpenSSL are initialised (measured 14.2-14.5).
OVERHEAD_PG_S3_MIB = 15.5
SERVERS = bool(ENDPOINT and DSN and shutil.which("psql"))


TIME = shutil.which("time", path="/usr/bin:/bin")


def peak_run(*args):
    """Runs `sluice ARGS`; returns (exit code, stderr text, peak RSS in MiB).

    The peak comes from GNU time, which forks from its own small image. A child forked from
    this Python process would report at least Python's RSS (Linux folds the pre-exec image's
    high-water mark into ru_maxrss), which says nothing about sluice."""
    if not TIME:
        raise Skip("needs GNU time (/usr/bin/time)")
    r = subprocess.run([TIME, "-f", "sluice-peak-kib %M", s.sluice, *map(str, args)],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    text = r.stderr.decode("utf-8", "replace")
    m = re.search(r"sluice-peak-kib (\d+)\s*$", text)
    if not m:
        raise Failure(f"no peak from time: {text[-400:]}")
    text = text[:m.start()]
    code = r.returncode
    # GNU time says "Command exited with non-zero status N" and exits N itself.
    text = re.sub(r"Command exited with non-zero status \d+\n?", "", text)
    return code, text, int(m.group(1)) / 1024


def need_servers():
    if not SERVERS:
        raise Skip("needs SLUICE_TEST_S3_ENDPOINT, SLUICE_TEST_PG_DSN and psql")


def admin(path):
    with urllib.request.urlopen(ENDPOINT + "/__admin/" + path, timeout=10) as r:
        return json.loads(r.read() or b"{}")


def s3_requests():
    """S3 requests the proxy has seen (admin calls are not counted)."""
    return admin("stats")["requests"]


def uploads(key):
    return admin("uploads?key_prefix=" + urllib.parse.quote(PREFIX + key))["uploads"]


def psql(sql):
    r = subprocess.run(["psql", DSN, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql], capture_output=True)
    if r.returncode != 0:
        raise Failure(f"psql: {r.stderr.decode(errors='replace')}")


def url(key):
    return f"s3://{BUCKET}/{PREFIX}{key}"


def boto():
    return s3_client()


def object_exists(key):
    from botocore.exceptions import ClientError
    try:
        boto().head_object(Bucket=BUCKET, Key=PREFIX + key)
        return True
    except ClientError:
        return False


def plan_line(stderr, stage, holding):
    """The line of the printed memory plan (--stats) where `stage` holds `holding`."""
    for line in stderr.splitlines():
        if line.strip().startswith(stage + " ") and holding in line:
            return line
    raise Failure(f"no plan line for {stage} ({holding}) in: {stderr[-2000:]}")


TABLE = f"memory_{os.getpid()}"
if SERVERS:
    psql(f"drop table if exists {TABLE}; create table {TABLE} as select g as id, md5(g::text) as h, "
         f"g * 3 as n, now() as at from generate_series(1, {ROWS}) g")


@s.case("refused_2MiB_export_to_s3_sends_nothing")
def _(d):
    need_servers()
    before = s3_requests()
    r = s.run("export", "--dsn", DSN, "--table", TABLE, "--to", url("refused.jsonl.gz"),
              "--memory", "2MiB")
    expect_exit(r, 2, err(r))
    text = err(r)
    check("memory budget of 2.0 MiB exceeded" in text, f"the refusal: {text}")
    for stage in ("pg.rows", "encode", "compress", "s3.upload"):
        check(stage in text, f"the breakdown names {stage}: {text}")
    eq(s3_requests(), before, "S3 requests during the refused run")
    eq(uploads("refused.jsonl.gz"), [], "multipart uploads")
    check(not object_exists("refused.jsonl.gz"), "no object")


@s.case("refused_convert_creates_no_file")
def _(d):
    src = s.generate(os.path.join(d, "in.csv"), 1000)
    out = os.path.join(d, "out.jsonl.gz")
    r = s.run("convert", src, out, "--memory", "1MiB")
    expect_exit(r, 2, err(r))
    check("memory budget of 1.0 MiB exceeded" in err(r), err(r))
    check("read_file" in err(r) and "csv.read" in err(r), err(r))
    eq(sorted(os.listdir(d)), ["in.csv"], "files in the directory (no output, no temporary)")
    # A malformed size is a usage error too.
    r = s.run("convert", src, out, "--memory", "24 apples")
    expect_exit(r, 2, err(r))
    check("--memory" in err(r), err(r))


@s.case("export_24MiB_2M_rows_jsonl_gz_to_s3_under_32MiB")
def _(d):
    need_servers()
    code, text, peak = peak_run("export", "--dsn", DSN, "--table", TABLE, "--to",
                                url("big.jsonl.gz"), "--memory", "24MiB", "--stats")
    print(f"     2M-row export, --memory 24MiB: peak RSS {peak:.1f} MiB", flush=True)
    eq(code, 0, f"exit ({text[-1500:]})")
    check(peak < 32, f"peak RSS {peak:.1f} MiB, want < 32 MiB")
    upload_line = plan_line(text, "s3.upload", "parts in flight")
    m = re.search(r"parts in flight: (\d+) x (\d+) MiB", upload_line)
    check(m is not None, upload_line)
    inflight, part_mib = int(m.group(1)), int(m.group(2))
    check(inflight < 4 or part_mib < 8, f"the upload adapted (default 4 x 8 MiB): {upload_line}")
    check(part_mib >= 5, f"part size never below 5 MiB: {upload_line}")
    up = uploads("big.jsonl.gz")
    eq(len(up), 1, "one upload")
    eq(up[0]["state"], "completed", "upload state")
    sizes = [p["size"] for p in up[0]["parts"]]
    check(all(sz >= 5 * MIB for sz in sizes[:-1]), f"parts >= 5 MiB: {sizes}")
    check(len(sizes) >= 2, f"a multipart upload: {sizes}")
    data = gzip.decompress(boto().get_object(Bucket=BUCKET, Key=PREFIX + "big.jsonl.gz")["Body"].read())
    eq(data.count(b"\n"), ROWS, "rows in the object")


@s.case("s3_upload_lowers_part_size_then_parts_in_flight")
def _(d):
    need_servers()
    src = s.generate(os.path.join(d, "in.csv"), 200_000)
    data = open(src, "rb").read()

    def parts_in_flight(r):
        line = plan_line(err(r), "s3.upload", "parts in flight")
        m = re.search(r"parts in flight: (\d+) x (\d+) MiB", line)
        check(m is not None, line)
        return int(m.group(1)), int(m.group(2))

    # Plenty: the defaults (4 x 8 MiB in flight) stand.
    r = s.run("convert", src, url("wide.csv"), "--memory", "256MiB", "--stats")
    expect_exit(r, 0, err(r))
    eq(parts_in_flight(r), (4, 8), "parts in flight, part MiB")
    # Tight: S3's 5 MiB parts, fewer in flight.
    r = s.run("convert", src, url("mid.csv"), "--memory", "24MiB", "--stats")
    expect_exit(r, 0, err(r))
    n, part = parts_in_flight(r)
    check(1 <= n < 4 and part == 5, f"{n} x {part} MiB")
    # Tightest: 5 MiB parts, none in flight (each sent from the pipeline thread).
    r = s.run("convert", src, url("tight.csv"), "--memory", "12MiB", "--stats")
    expect_exit(r, 0, err(r))
    eq(parts_in_flight(r), (0, 5), "parts in flight, part MiB")
    check("sent from the pipeline thread" in err(r), err(r))
    for key in ("mid.csv", "tight.csv"):
        up = uploads(key)
        eq(len(up), 1, f"{key}: one upload")
        sizes = [p["size"] for p in up[0]["parts"]]
        check(len(sizes) >= 3, f"{key}: parts {sizes}")
        eq(set(sizes[:-1]), {5 * MIB}, f"{key}: every part but the last is 5 MiB")
        eq(boto().get_object(Bucket=BUCKET, Key=PREFIX + key)["Body"].read(), data, f"{key}: the object")


@s.case("parallel_gzip_lowers_its_threads")
def _(d):
    src = s.generate(os.path.join(d, "in.csv"), 100_000)
    out = os.path.join(d, "out.jsonl.gz")
    # Room for all four: they stay.
    r = s.run("convert", src, out, "--threads", "4", "--memory", "512MiB", "--stats")
    expect_exit(r, 0, err(r))
    check("gzip threads: 4 of 4" in plan_line(err(r), "compress", "gzip threads"), err(r))
    # No --memory: no plan printed, --stats as before.
    r = s.run("convert", src, out, "--threads", "4", "--stats")
    expect_exit(r, 0, err(r))
    check("memory plan" not in err(r), err(r))
    r = s.run("convert", src, out, "--threads", "4", "--memory", "12MiB", "--stats")
    expect_exit(r, 0, err(r))
    line = plan_line(err(r), "compress", "gzip threads")
    m = re.search(r"gzip threads: (\d+) of 4", line)
    check(m is not None and 1 <= int(m.group(1)) < 4, line)
    ref = os.path.join(d, "ref.jsonl")
    s.ok("convert", src, ref)
    eq(gzip.decompress(open(out, "rb").read()), open(ref, "rb").read(), "the output")


@s.case("parquet_lowers_its_row_group_target")
def _(d):
    src = s.generate(os.path.join(d, "in.csv"), 200_000)
    out = os.path.join(d, "out.parquet")
    r = s.run("convert", src, out, "--memory", "12MiB", "--stats")
    expect_exit(r, 0, err(r))
    line = plan_line(err(r), "parquet.encode", "row group target")
    m = re.search(r"row group target ([\d.]+) (KiB|MiB)", line)
    check(m is not None, line)
    target = float(m.group(1)) * (1024 if m.group(2) == "KiB" else MIB)
    check(target < 16 * MIB, f"row group target below the 16 MiB default: {line}")
    # The same rows as a Parquet file written without a budget.
    ref = os.path.join(d, "ref.parquet")
    s.ok("convert", src, ref)
    back, back_ref = os.path.join(d, "back.csv"), os.path.join(d, "back_ref.csv")
    s.ok("convert", out, back)
    s.ok("convert", ref, back_ref)
    eq(open(back, "rb").read(), open(back_ref, "rb").read(), "the rows read back")


@s.case("load_checks_the_budget_before_the_first_row")
def _(d):
    need_servers()
    src = s.generate(os.path.join(d, "in.csv"), 20_000)
    table = f"memory_load_{os.getpid()}"
    header = open(src).readline().strip().split(",")
    psql(f"drop table if exists {table}; create table {table} ("
         + ", ".join(f'"{c}" text' for c in header) + ")")
    # A missing input is opened at the first pull: the refusal comes first.
    r = s.run("load", os.path.join(d, "missing.csv"), "--dsn", DSN, "--table", table,
              "--memory", "1MiB")
    expect_exit(r, 2, err(r))
    check("memory budget of 1.0 MiB exceeded" in err(r), err(r))
    r = s.run("load", src, "--dsn", DSN, "--table", table, "--memory", "1MiB")
    expect_exit(r, 2, err(r))
    check("memory budget of 1.0 MiB exceeded" in err(r) and "pg.copy_in" in err(r), err(r))
    rows = subprocess.run(["psql", DSN, "-Atc", f"select count(*) from {table}"],
                          capture_output=True, text=True).stdout.strip()
    eq(rows, "0", "rows after the refused load")
    r = s.run("load", src, "--dsn", DSN, "--table", table, "--memory", "16MiB", "--stats")
    expect_exit(r, 0, err(r))
    check("pg.copy_in" in err(r), err(r))
    rows = subprocess.run(["psql", DSN, "-Atc", f"select count(*) from {table}"],
                          capture_output=True, text=True).stdout.strip()
    eq(rows, "20000", "rows loaded")
    psql(f"drop table {table}")


@s.case("sharded_export_shares_the_budget")
def _(d):
    need_servers()
    out = os.path.join(d, "parts") + "/"
    r = s.run("export", "--dsn", DSN, "--table", TABLE, "--jobs", "2", "--to", out, "--format",
              "jsonl", "--compress", "gzip", "--memory", "4MiB")
    expect_exit(r, 2, err(r))
    check("--memory 4.0 MiB is shared by 2 jobs, 2.0 MiB each" in err(r), err(r))
    check("memory budget of 2.0 MiB exceeded" in err(r), err(r))
    check(not os.path.exists(out) or os.listdir(out) == [], f"nothing left: {os.listdir(out) if os.path.exists(out) else ''}")
    code, text, peak = peak_run("export", "--dsn", DSN, "--table", TABLE, "--jobs", "2", "--to", out,
                                "--format", "jsonl", "--compress", "gzip", "--memory", "24MiB")
    print(f"     export --jobs 2, --memory 24MiB: peak RSS {peak:.1f} MiB", flush=True)
    eq(code, 0, text[-800:])
    check("manifest.json" in os.listdir(out), os.listdir(out))
    check(peak <= 24 + OVERHEAD_PG_S3_MIB, f"peak RSS {peak:.1f} MiB above 24 + {OVERHEAD_PG_S3_MIB} MiB")


@s.case("convert_rss_within_budget_plus_overhead")
def _(d):
    budget = 16
    peaks = []
    for rows in (200_000, 2_000_000):
        src = s.generate(os.path.join(d, "in.csv"), rows)
        for out in ("out.jsonl.gz", "out.csv.zst", "out.jsonl"):
            code, text, peak = peak_run("convert", src, os.path.join(d, out), "--memory",
                                        f"{budget}MiB")
            eq(code, 0, f"exit of convert to {out} ({text[-800:]})")
            print(f"     convert {rows} rows to {out}, --memory {budget}MiB: peak RSS {peak:.1f} MiB",
                  flush=True)
            check(peak <= budget + OVERHEAD_MIB,
                  f"{out}: peak RSS {peak:.1f} MiB above {budget} MiB + {OVERHEAD_MIB} MiB overhead")
            peaks.append(peak)
            os.remove(os.path.join(d, out))
        os.remove(src)


@s.case("export_rss_within_budget_plus_overhead")
def _(d):
    need_servers()
    for out, budget in (("big.parquet", 16), ("big.parquet", 24), ("big.csv.zst", 12),
                        (url("big.csv.gz"), 12)):
        target = out if out.startswith("s3://") else os.path.join(d, out)
        code, text, peak = peak_run("export", "--dsn", DSN, "--table", TABLE, "--to", target,
                                    "--memory", f"{budget}MiB")
        print(f"     export {ROWS} rows to {out}, --memory {budget}MiB: peak RSS {peak:.1f} MiB",
              flush=True)
        eq(code, 0, f"exit ({text[-800:]})")
        check(peak <= budget + OVERHEAD_PG_S3_MIB,
              f"{out}: peak RSS {peak:.1f} MiB above {budget} MiB + {OVERHEAD_PG_S3_MIB} MiB overhead")
        if not out.startswith("s3://"):
            os.remove(target)


@s.case("convert_from_jsonl_and_parquet_within_budget_plus_overhead")
def _(d):
    csv = s.generate(os.path.join(d, "in.csv"), 1_000_000)
    jsonl, parquet = os.path.join(d, "in.jsonl"), os.path.join(d, "in.parquet")
    s.ok("convert", csv, jsonl)
    s.ok("convert", csv, parquet, "--row-group-size", "4MiB")
    for src, out, budget in ((jsonl, "out.csv.gz", 16), (parquet, "out.jsonl.gz", 24)):
        code, text, peak = peak_run("convert", src, os.path.join(d, out), "--memory", f"{budget}MiB")
        print(f"     convert {os.path.basename(src)} to {out}, --memory {budget}MiB: peak RSS "
              f"{peak:.1f} MiB", flush=True)
        eq(code, 0, f"exit ({text[-800:]})")
        check(peak <= budget + OVERHEAD_MIB,
              f"{out}: peak RSS {peak:.1f} MiB above {budget} MiB + {OVERHEAD_MIB} MiB overhead")
    # Hive partitions: the open row groups of all partitions share the grant.
    parts = os.path.join(d, "parts")
    code, text, peak = peak_run("convert", csv, parts + "/", "--to", "parquet", "--partition-by",
                                "paid", "--memory", "16MiB")
    print(f"     convert to parquet partitions, --memory 16MiB: peak RSS {peak:.1f} MiB", flush=True)
    eq(code, 0, f"exit ({text[-800:]})")
    eq(sorted(os.listdir(parts)), ["paid=false", "paid=true"], "partitions")
    check(peak <= 16 + OVERHEAD_MIB, f"partitions: peak RSS {peak:.1f} MiB above 16 + {OVERHEAD_MIB} MiB")
    # The reader reports its largest row group: a budget below it is refused up front.
    r = s.run("convert", parquet, os.path.join(d, "refused.jsonl"), "--memory", "2MiB")
    expect_exit(r, 2, err(r))
    check("parquet.read" in err(r), err(r))
    check(not os.path.exists(os.path.join(d, "refused.jsonl")), "no output")


def mapped_libraries(pid):
    """The file names of the shared libraries mapped into process `pid`."""
    names = set()
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            fields = line.split(maxsplit=5)
            path = fields[5].strip() if len(fields) == 6 else ""
            if ".so" in path:
                names.add(os.path.basename(path))
    return names


@s.case("local_convert_loads_neither_libpq_nor_libcurl")
def _(d):
    # libpq and libcurl (and Kerberos, LDAP, GnuTLS, ... behind them) are loaded when a
    # command first needs them: a convert between local files maps none of them. Seen while
    # the convert waits for its stdin.
    if not os.path.exists("/proc/self/maps"):
        raise Skip("needs /proc")
    out = os.path.join(d, "out.jsonl")
    p = subprocess.Popen([s.sluice, "convert", "-", out, "--from", "csv"], stdin=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    try:
        p.stdin.write(b"a,b\n1,2\n")
        p.stdin.flush()
        time.sleep(0.5)
        libs = mapped_libraries(p.pid)
    finally:
        p.stdin.close()
        code = p.wait(timeout=60)
    eq(code, 0, p.stderr.read().decode(errors="replace"))
    check("libc.so.6" in libs or any(n.startswith("libc.") or n.startswith("libc-") for n in libs),
          f"the maps were read: {sorted(libs)}")
    loaded = sorted(n for n in libs if re.match(r"lib(pq|curl|gssapi_krb5|krb5|ldap|gnutls)[.-]", n))
    eq(loaded, [], "libraries a local convert does not need")
    eq(open(out).read(), '{"a":"1","b":"2"}\n', "the output")


@s.case("fixed_overhead_is_what_the_docs_say")
def _(d):
    # The smallest run: a 1-row convert holds almost no buffers, so its peak RSS is the
    # process's fixed overhead.
    src = s.generate(os.path.join(d, "in.csv"), 1)
    code, text, peak = peak_run("convert", src, os.path.join(d, "out.jsonl"))
    eq(code, 0, text)
    print(f"     fixed overhead (1-row convert): peak RSS {peak:.1f} MiB", flush=True)
    check(peak <= OVERHEAD_MIB, f"overhead {peak:.1f} MiB above the documented {OVERHEAD_MIB} MiB")
    if SERVERS:
        psql(f"drop table if exists {TABLE}_one; create table {TABLE}_one as select 1 as id")
        code, text, peak = peak_run("export", "--dsn", DSN, "--table", f"{TABLE}_one", "--to",
                                    url("one.jsonl.gz"))
        psql(f"drop table {TABLE}_one")
        eq(code, 0, text)
        print(f"     fixed overhead (1-row export to S3): peak RSS {peak:.1f} MiB", flush=True)
        check(peak <= OVERHEAD_PG_S3_MIB,
              f"overhead {peak:.1f} MiB above the documented {OVERHEAD_PG_S3_MIB} MiB")


if SERVERS:
    psql(f"drop table if exists {TABLE}")
s.finish()
