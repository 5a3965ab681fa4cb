#!/usr/bin/env python3
"""End-to-end tests of sharded, snapshot-consistent exports (issue 13): `sluice snapshot`,
`sluice export --jobs N` / `--snapshot ID --shard I/N`, `sluice manifest`, against the test
PostgreSQL server (and the S3 test stack for the s3:// cases). SKIPs without
SLUICE_TEST_PG_DSN; the S3 cases SKIP without SLUICE_TEST_S3_ENDPOINT.

    python3 tests/cli/test_shard.py SLUICE SLUICE_DEMO
"""

import gzip
import hashlib
import json
import os
import shutil
import signal
import subprocess
import time
import urllib.parse

from cli_common import Failure, Skip, Suite, check, eq, err, expect_exit, read, s3_client
from cli_common import write as write_bytes

s = Suite("shard")
DSN = os.environ.get("SLUICE_TEST_PG_DSN", "")
ENDPOINT = os.environ.get("SLUICE_TEST_S3_ENDPOINT", "")
BUCKET = os.environ.get("SLUICE_TEST_S3_BUCKET", "sluice-test")
PSQL = shutil.which("psql")
if not DSN or not PSQL:
    print("SKIP shard: SLUICE_TEST_PG_DSN is not set (source scripts/lib/postgres.sh; pg_start)")
    s.skipped += 1
    s.finish()
u = urllib.parse.urlparse(DSN)
PSQL_ENV = dict(os.environ, PGHOST=u.hostname or "127.0.0.1", PGPORT=str(u.port or 5432),
                PGUSER=urllib.parse.unquote(u.username or ""),
                PGPASSWORD=urllib.parse.unquote(u.password or ""), PGDATABASE=u.path.lstrip("/"))
T = f"shard_cli_{os.getpid()}"


def psql(sql, input=None):
    r = subprocess.run([PSQL, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", "-"], env=PSQL_ENV,
                       capture_output=True, input=(sql if input is None else input).encode(),
                       timeout=300)
    if r.returncode != 0:
        raise Failure(f"psql {sql[:100]!r}: {r.stderr.decode(errors='replace')}")
    return r.stdout


def copy_in_snapshot(snapshot, query):
    """One COPY inside the snapshot, imported by psql: the reference."""
    return psql(f"BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;\n"
                f"SET TRANSACTION SNAPSHOT '{snapshot}';\n"
                f"\\copy ({query}) to stdout with (format csv, header)\nCOMMIT;\n")


def make_table(name, rows):
    psql(f"DROP TABLE IF EXISTS {name} CASCADE; CREATE TABLE {name} (id bigint PRIMARY KEY, "
         f"v text, pad text) WITH (autovacuum_enabled = off); INSERT INTO {name} SELECT g, "
         f"'v' || g, repeat(md5(g::text), 3) FROM generate_series(1, {rows}) g;")


def rows_of(data, header=True):
    lines = data.decode().splitlines()
    return lines[1:] if header else lines


def union_of_parts(d, names):
    all_rows = []
    for n in names:
        data = read(os.path.join(d, n))
        if n.endswith(".gz"):
            data = gzip.decompress(data)
        check(data.startswith(b"id,v,pad\n"), f"{n} starts with the header")
        all_rows += rows_of(data)
    return sorted(all_rows)


class Holder:
    """`sluice snapshot` running in the background, its id read from stdout's first line."""

    def __init__(self, *extra):
        self.p = subprocess.Popen([s.sluice, "snapshot", "--dsn", DSN, *extra],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        self.id = self.p.stdout.readline().decode().strip()
        if not self.id:
            self.p.kill()
            raise Failure(f"sluice snapshot printed no id: {self.p.stderr.read()!r}")

    def end(self):
        self.p.stdin.close()
        rc = self.p.wait(timeout=30)
        eq(rc, 0, "sluice snapshot's exit status when its stdin closes")


def shard_args(d, i, n, snapshot, table=None):
    return ["export", "--dsn", DSN, "--table", table or T, "--snapshot", snapshot,
            "--shard", f"{i}/{n}", "--task-blocks", "8", "--to", d + "/"]


def check_manifest(d, want_rows, parts):
    m = json.loads(read(os.path.join(d, "manifest.json")))
    eq([p["name"] for p in m["parts"]], parts, "manifest parts")
    eq(m["rows"], want_rows, "manifest rows")
    for p in m["parts"]:
        data = read(os.path.join(d, p["name"]))
        eq(p["bytes"], len(data), f"{p['name']} bytes")
        eq(p["sha256"], hashlib.sha256(data).hexdigest(), f"{p['name']} sha256")
    return m


make_table(T, 40000)


@s.case("four_processes_one_snapshot_under_writes")
def _(d):
    h = Holder()
    # Another connection inserts, updates and deletes while the shards run.
    writer = subprocess.Popen(
        [PSQL, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", "-"], env=PSQL_ENV,
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    script = "".join(
        f"INSERT INTO {T} SELECT g, 'new', 'x' FROM generate_series({100000 + i * 100}, "
        f"{100000 + i * 100 + 99}) g; UPDATE {T} SET v = 'upd{i}' WHERE id % 97 = {i % 97}; "
        f"DELETE FROM {T} WHERE id % 1009 = {i}; SELECT pg_sleep(0.01);\n" for i in range(150))
    writer.stdin.write(script.encode())
    writer.stdin.close()
    procs = [subprocess.Popen([s.sluice, *shard_args(d, i, 4, h.id)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE) for i in range(4)]
    for i, p in enumerate(procs):
        out, e = p.communicate(timeout=300)
        eq(p.returncode, 0, f"shard {i} exit status ({e.decode(errors='replace')})")
    eq(writer.wait(timeout=300), 0, "the writer's exit status")
    want = rows_of(copy_in_snapshot(h.id, f"SELECT * FROM {T}"))
    h.end()
    parts = [f"part-{i:05d}.csv" for i in range(4)]
    got = union_of_parts(d, parts)
    eq(len(got), len(set(got)), "no duplicate rows")
    eq(len(got), 40000, "rows in the snapshot")
    check(got == sorted(want), "the union of the parts equals one COPY in the snapshot")
    now = int(psql(f"\\copy (SELECT count(*) FROM {T}) to stdout").decode())
    check(now != 40000, f"the writer changed the table meanwhile ({now} rows now)")
    for i in range(4):
        side = json.loads(read(os.path.join(d, parts[i] + ".json")))
        eq(side["snapshot"], h.id, "sidecar snapshot")
        eq(side["bytes"], len(read(os.path.join(d, parts[i]))), "sidecar bytes")
        check(side["rows"] > 0, f"shard {i} got rows (balanced by interleaved tasks)")
    s.ok("manifest", "--shards", "4", d + "/")
    check_manifest(d, 40000, parts)


@s.case("jobs_3_in_one_process_equals_one_copy")
def _(d):
    r = s.ok("export", "--dsn", DSN, "--table", T, "--jobs", "3", "--to", d + "/")
    # The test DSN holds a password: the sharded path warns like every --dsn command, once.
    if PSQL_ENV["PGPASSWORD"]:
        check(err(r).count(".pgpass") == 1, f"one password warning: {err(r)!r}")
        check(PSQL_ENV["PGPASSWORD"] not in err(r) + r.stdout.decode(), "the password was printed")
    parts = [f"part-{i:05d}.csv" for i in range(3)]
    eq(sorted(os.listdir(d)), sorted(parts + ["manifest.json"]), "the directory")
    want = rows_of(psql(f"\\copy (SELECT * FROM {T}) to stdout with (format csv, header)"))
    got = union_of_parts(d, parts)
    check(got == sorted(want), "--jobs 3 equals one COPY")
    m = check_manifest(d, len(want), parts)
    eq(m["format"], "csv", "manifest format")
    eq(m["method"], "ctid", "manifest method")
    check(len(m["snapshot"]) > 5 and m["query"].startswith("SELECT * FROM"), "snapshot, query")
    # gzip parts: each a complete file.
    g = os.path.join(d, "gz")
    s.ok("export", "--dsn", DSN, "--table", T, "--jobs", "2", "--compress", "gzip", "--to", g + "/")
    check(union_of_parts(g, ["part-00000.csv.gz", "part-00001.csv.gz"]) == sorted(want), "gzip")


@s.case("query_with_shard_by_and_jsonl")
def _(d):
    q = f"SELECT id, v FROM {T} WHERE id % 3 = 0"
    s.ok("export", "--dsn", DSN, "--query", q, "--shard-by", "id", "--jobs", "2", "--format",
         "jsonl", "--to", d + "/")
    got = []
    for n in ("part-00000.jsonl", "part-00001.jsonl"):
        got += [json.loads(line)["id"] for line in read(os.path.join(d, n)).splitlines()]
    want = [int(x) for x in rows_of(psql(f"\\copy (SELECT id FROM ({q}) q) to stdout"), False)]
    eq(sorted(got), sorted(want), "jsonl ids")
    eq(json.loads(read(os.path.join(d, "manifest.json")))["method"], "key", "method")
    r = s.run("export", "--dsn", DSN, "--query", q, "--jobs", "2", "--to", d + "/q/")
    expect_exit(r, 2, "a query without --shard-by")


@s.case("failed_run_leaves_no_parts")
def _(d):
    q = f"SELECT id, 1 / (id - (SELECT max(id) FROM {T})) AS x FROM {T}"
    r = s.run("export", "--dsn", DSN, "--query", q, "--shard-by", "id", "--jobs", "3",
              "--to", d + "/")
    expect_exit(r, 1, "division by zero in one task")
    check("division by zero" in err(r), err(r))
    eq([n for n in os.listdir(d)], [], "no part, no manifest, no temporary file")
    # Into a directory holding a complete earlier export: the failed run replaces parts of
    # it, so its manifest must not survive to claim them.
    r = s.run("export", "--dsn", DSN, "--query", f"SELECT id FROM {T}", "--shard-by", "id",
              "--jobs", "3", "--to", d + "/")
    expect_exit(r, 0, err(r))
    check("manifest.json" in os.listdir(d), "the earlier export's manifest")
    r = s.run("export", "--dsn", DSN, "--query", q, "--shard-by", "id", "--jobs", "3",
              "--to", d + "/")
    expect_exit(r, 1, "division by zero in one task")
    eq(sorted(n for n in os.listdir(d)), [], "no part and no stale manifest after the failed rerun")


@s.case("killed_shard_rerun_and_holder_gone")
def _(d):
    big = T + "_big"
    make_table(big, 300000)
    h = Holder()
    s.ok(*shard_args(d, 1, 2, h.id, big))
    part = os.path.join(d, "part-00001.csv")
    first = read(part)
    # Killed mid-way: the old part stays as it was; a rerun gives the same bytes.
    p = subprocess.Popen([s.sluice, *shard_args(d, 1, 2, h.id, big)], stderr=subprocess.PIPE)
    time.sleep(0.15)
    p.send_signal(signal.SIGKILL)
    p.wait()
    eq(read(part), first, "the part after a killed rerun")
    s.ok(*shard_args(d, 1, 2, h.id, big))
    eq(read(part), first, "the part after a complete rerun")
    h.end()
    r = s.run(*shard_args(d, 1, 2, h.id, big))
    expect_exit(r, 1, "a shard after the holder ended")
    check(f"snapshot {h.id} is gone" in err(r), err(r))
    eq(read(part), first, "the part after the failed shard")
    psql(f"DROP TABLE {big}")


@s.case("snapshot_file_auto_index_and_manifest_checks")
def _(d):
    pub = os.path.join(d, "snapshot.id")
    h = Holder("--publish", pub)
    eq(read(pub).decode().strip(), h.id, "published id")
    out = os.path.join(d, "out")
    r = s.run("manifest", "--shards", "2", out + "/")
    expect_exit(r, 1, "manifest before any shard")
    for i in range(2):
        s.ok("export", "--dsn", DSN, "--table", T, "--snapshot", "@" + pub, "--shard", "auto/2",
             "--to", out + "/", env={"JOB_COMPLETION_INDEX": str(i)})
    h.end()
    os.rename(os.path.join(out, "part-00001.csv.json"), os.path.join(d, "side"))
    r = s.run("manifest", "--shards", "2", out + "/")
    expect_exit(r, 1, "manifest with a shard missing")
    check("shards not finished (no sidecar): 1" in err(r), err(r))
    check(not os.path.exists(os.path.join(out, "manifest.json")), "no manifest")
    os.rename(os.path.join(d, "side"), os.path.join(out, "part-00001.csv.json"))
    s.ok("manifest", "--shards", "2", out + "/")
    rows = int(psql(f"\\copy (SELECT count(*) FROM {T}) to stdout").decode())
    check_manifest(out, rows, ["part-00000.csv", "part-00001.csv"])
    r = s.run("export", "--dsn", DSN, "--table", T, "--shard", "auto/2", "--snapshot", h.id,
              "--to", out + "/", env={"JOB_COMPLETION_INDEX": None})
    expect_exit(r, 2, "auto/N without JOB_COMPLETION_INDEX")


@s.case("hold_for_ends_the_snapshot")
def _(d):
    t0 = time.monotonic()
    r = s.run("snapshot", "--dsn", DSN, "--hold-for", "1s", input=b"")
    eq(r.returncode, 0, "exit status")
    check(time.monotonic() - t0 >= 1.0, "held for 1 s although stdin was closed")
    sid = r.stdout.decode().splitlines()[0]
    r = s.run("export", "--dsn", DSN, "--table", T, "--snapshot", sid, "--shard", "0/1",
              "--to", d + "/")
    expect_exit(r, 1, "the snapshot after --hold-for passed")
    check("is gone" in err(r), err(r))


@s.case("s3_jobs_and_shards")
def _(d):
    boto = s3_client()
    prefix = f"shard-{os.getpid()}/"
    s.ok("export", "--dsn", DSN, "--table", T, "--jobs", "2", "--to",
         f"s3://{BUCKET}/{prefix}jobs/")
    want = sorted(rows_of(psql(f"\\copy (SELECT * FROM {T}) to stdout with (format csv, header)")))
    got = []
    m = json.loads(boto.get_object(Bucket=BUCKET, Key=prefix + "jobs/manifest.json")["Body"].read())
    for p in m["parts"]:
        data = boto.get_object(Bucket=BUCKET, Key=prefix + "jobs/" + p["name"])["Body"].read()
        eq(hashlib.sha256(data).hexdigest(), p["sha256"], "sha256 of an S3 part")
        got += rows_of(data)
    check(sorted(got) == want, "S3 parts equal one COPY")
    h = Holder("--publish", f"s3://{BUCKET}/{prefix}snapshot")
    for i in range(2):
        s.ok("export", "--dsn", DSN, "--table", T, "--snapshot", f"@s3://{BUCKET}/{prefix}snapshot",
             "--shard", f"{i}/2", "--to", f"s3://{BUCKET}/{prefix}shards/")
    h.end()
    s.ok("manifest", "--shards", "2", f"s3://{BUCKET}/{prefix}shards/")
    m = json.loads(boto.get_object(Bucket=BUCKET, Key=prefix + "shards/manifest.json")["Body"].read())
    eq(m["snapshot"], h.id, "manifest snapshot")
    eq(m["rows"], len(want), "manifest rows")
    # An S3 part is streamed back through sha256: a changed object (same size) is refused.
    key = prefix + "shards/part-00001.csv"
    good = boto.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    boto.put_object(Bucket=BUCKET, Key=key, Body=good[:-2] + b"9\n")
    boto.delete_object(Bucket=BUCKET, Key=prefix + "shards/manifest.json")
    r = s.run("manifest", "--shards", "2", f"s3://{BUCKET}/{prefix}shards/")
    expect_exit(r, 1, "manifest over a changed S3 part")
    check(f"s3://{BUCKET}/{key} does not match its sidecar" in err(r), err(r))
    listed = boto.list_objects_v2(Bucket=BUCKET, Prefix=prefix + "shards/manifest.json")
    eq(listed.get("KeyCount", 0), 0, "no manifest over a bad S3 part")
    # A failed run leaves nothing behind: no object, no pending upload.
    q = f"SELECT id, 1 / (id - (SELECT max(id) FROM {T})) AS x FROM {T}"
    r = s.run("export", "--dsn", DSN, "--query", q, "--shard-by", "id", "--jobs", "3", "--to",
              f"s3://{BUCKET}/{prefix}failed/")
    expect_exit(r, 1, "failed S3 run")
    listed = boto.list_objects_v2(Bucket=BUCKET, Prefix=prefix + "failed/")
    eq(listed.get("KeyCount", 0), 0, "objects of the failed run")
    ups = boto.list_multipart_uploads(Bucket=BUCKET, Prefix=prefix + "failed/")
    eq(len(ups.get("Uploads", [])), 0, "pending uploads of the failed run")


@s.case("manifest_reads_every_part_back")
def _(d):
    h = Holder()
    for i in range(2):
        s.ok(*shard_args(d, i, 2, h.id))
    h.end()
    part = os.path.join(d, "part-00001.csv")
    good = read(part)
    # Same size, one byte changed after the shard wrote it: only the sha256 can tell.
    bad = bytearray(good)
    at = len(bad) // 2
    bad[at] = ord("7") if bad[at] != ord("7") else ord("8")
    write_bytes(part, bytes(bad))
    r = s.run("manifest", "--shards", "2", d + "/")
    expect_exit(r, 1, "manifest over a changed part")
    check("part-00001.csv does not match its sidecar" in err(r) and "rerun shard 1" in err(r),
          err(r))
    check(not os.path.exists(os.path.join(d, "manifest.json")), "no manifest over a bad part")
    # The sidecar's rows are checked too (its sha256 and bytes still right).
    write_bytes(part, good)
    side_path = part + ".json"
    side = json.loads(read(side_path))
    side["rows"] += 1
    write_bytes(side_path, json.dumps(side).encode())
    r = s.run("manifest", "--shards", "2", d + "/")
    expect_exit(r, 1, "manifest over a sidecar with wrong rows")
    check(f"holds {side['rows'] - 1} rows, its sidecar says {side['rows']}" in err(r), err(r))
    check(not os.path.exists(os.path.join(d, "manifest.json")), "no manifest")
    side["rows"] -= 1
    write_bytes(side_path, json.dumps(side).encode())
    s.ok("manifest", "--shards", "2", d + "/")
    rows = int(psql(f"\\copy (SELECT count(*) FROM {T}) to stdout").decode())
    check_manifest(d, rows, ["part-00000.csv", "part-00001.csv"])
    # A compressed part: its bytes are hashed as stored, its rows counted decompressed.
    g = os.path.join(d, "gz")
    h = Holder()
    for i in range(2):
        s.ok(*shard_args(g, i, 2, h.id), "--compress", "gzip")
    h.end()
    s.ok("manifest", "--shards", "2", g + "/")
    gz = os.path.join(g, "part-00000.csv.gz")
    data = bytearray(read(gz))
    data[len(data) // 2] ^= 0xFF
    write_bytes(gz, bytes(data))
    os.remove(os.path.join(g, "manifest.json"))
    r = s.run("manifest", "--shards", "2", g + "/")
    expect_exit(r, 1, "manifest over a corrupt gzip part")
    check("part-00000.csv.gz" in err(r) and "rerun shard 0" in err(r), err(r))
    check(not os.path.exists(os.path.join(g, "manifest.json")), "no manifest")


@s.case("small_table_four_shards_all_get_rows")
def _(d):
    small = T + "_small"
    make_table(small, 20000)
    blocks = int(psql(f"\\copy (SELECT pg_relation_size('{small}') / 8192) to stdout").decode())
    check(100 < blocks < 2048, f"a small table ({blocks} blocks)")
    h = Holder()
    # No --task-blocks: the automatic size, which every shard computes alike.
    for i in range(4):
        s.ok("export", "--dsn", DSN, "--table", small, "--snapshot", h.id, "--shard", f"{i}/4",
             "--to", d + "/")
    h.end()
    parts = [f"part-{i:05d}.csv" for i in range(4)]
    rows = [json.loads(read(os.path.join(d, p + ".json")))["rows"] for p in parts]
    check(all(r > 0 for r in rows), f"every shard got rows: {rows}")
    check(max(rows) <= 1.5 * min(rows), f"the shards are balanced: {rows}")
    eq(len({json.loads(read(os.path.join(d, p + ".json")))["task_blocks"] for p in parts}), 1,
       "one task size")
    want = rows_of(psql(f"\\copy (SELECT * FROM {small}) to stdout with (format csv, header)"))
    got = union_of_parts(d, parts)
    eq(len(got), len(set(got)), "no duplicate rows")
    check(got == sorted(want), "the union of 4 shards of a small table equals one COPY")
    s.ok("manifest", "--shards", "4", d + "/")
    psql(f"DROP TABLE {small}")


def progress_lines(r):
    return [x for x in err(r).splitlines() if " rows, " in x and not x.startswith("sluice:")]


@s.case("progress_and_count_when_sharded")
def _(d):
    r = s.ok("export", "--dsn", DSN, "--table", T, "--jobs", "2", "--progress", "--count",
             "--to", d + "/jobs/")
    rows = int(psql(f"\\copy (SELECT count(*) FROM {T}) to stdout").decode())
    n = f"{rows:,}"
    last = progress_lines(r)[-1]
    check(last.startswith(f"100.0% {n} rows"), f"aggregated over both jobs: {err(r)!r}")
    check(f"sluice: {n} rows" in err(r), f"the summary line: {err(r)!r}")
    eq(json.loads(read(os.path.join(d, "jobs", "manifest.json")))["rows"], rows, "manifest rows")
    # One shard: its own rows; --count counts only its tasks, in the snapshot.
    h = Holder()
    r = s.ok(*shard_args(d + "/sh", 1, 4, h.id), "--progress", "--count")
    h.end()
    side = json.loads(read(os.path.join(d, "sh", "part-00001.csv.json")))
    n = f"{side['rows']:,}"
    check(progress_lines(r)[-1].startswith(f"100.0% {n} rows"), f"shard progress: {err(r)!r}")
    check(f"sluice: {n} rows" in err(r), err(r))
    # --count alone (no display) is accepted too.
    s.ok("export", "--dsn", DSN, "--table", T, "--jobs", "2", "--count", "--to", d + "/c/")


def slow_query():
    # A sleep per row: the export takes ~10 s, so a signal lands mid-way. STABLE, so the
    # planner's min/max of id (the key plan) does not call it.
    psql("CREATE OR REPLACE FUNCTION shard_slow(x bigint) RETURNS bigint LANGUAGE plpgsql "
         "STABLE AS $$ BEGIN PERFORM pg_sleep(0.0005); RETURN x; END $$")
    return f"SELECT id, v, shard_slow(id) AS z FROM {T}"


def start_slow(d, fmt, *extra):
    return subprocess.Popen(
        [s.sluice, "export", "--dsn", DSN, "--query", slow_query(), "--shard-by", "id", "--jobs",
         "2", "--format", fmt, "--to", d + "/", *extra], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE)


@s.case("drain_on_signal_jobs")
def _(d):
    rows = int(psql(f"\\copy (SELECT count(*) FROM {T}) to stdout").decode())
    for fmt in ("csv", "jsonl"):
        out = os.path.join(d, fmt)
        os.makedirs(out)
        # A manifest of an earlier run into the directory must not survive a drained run.
        write_bytes(os.path.join(out, "manifest.json"), b"{}")
        p = start_slow(out, fmt, "--drain-on-signal")
        time.sleep(1.5)
        p.send_signal(signal.SIGINT)
        t0 = time.monotonic()
        _, e = p.communicate(timeout=60)
        e = e.decode(errors="replace")
        eq(p.returncode, 130, f"a drained sharded run's exit status ({e})")
        check(time.monotonic() - t0 < 5, "the drain ended the run promptly")
        check("drained" in e and "no manifest.json" in e, e)
        names = sorted(os.listdir(out))
        eq(names, [f"part-00000.{fmt}", f"part-00001.{fmt}"], "complete parts, no manifest")
        got = []
        for n in names:
            data = read(os.path.join(out, n)).decode()
            check(data.endswith("\n"), f"{n} ends with a whole row")
            lines = data.splitlines()
            if fmt == "csv":
                eq(lines[0], "id,v,z", f"{n}'s header")
                lines = lines[1:]
                for line in lines:
                    eq(len(line.split(",")), 3, f"a whole CSV row in {n}: {line!r}")
                got += [int(line.split(",")[0]) for line in lines]
            else:
                got += [json.loads(line)["id"] for line in lines]
        check(0 < len(got) < rows, f"{fmt}: some rows, not all ({len(got)} of {rows})")
        eq(len(got), len(set(got)), "no duplicates")
    # Without --drain-on-signal a signal drops the run: nothing stays behind.
    out = os.path.join(d, "drop")
    p = start_slow(out, "csv")
    time.sleep(1.5)
    p.send_signal(signal.SIGINT)
    p.communicate(timeout=60)
    eq(p.returncode, 130, "a dropped sharded run's exit status")
    eq(os.listdir(out), [], "a dropped run leaves no part")
    # A shard refuses --drain-on-signal: a cut part could never enter the manifest.
    r = s.run(*shard_args(d + "/shard", 0, 2, "00000003-00000002-1"), "--drain-on-signal")
    expect_exit(r, 2, "--drain-on-signal with --shard")
    check("--drain-on-signal does not apply to --shard" in err(r), err(r))


psql(f"DROP TABLE IF EXISTS {T}")
s.finish()
