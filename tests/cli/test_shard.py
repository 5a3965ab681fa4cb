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

from cli_common import Failure, Skip, Suite, check, eq, err, expect_exit, read

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
    if not ENDPOINT:
        raise Skip("SLUICE_TEST_S3_ENDPOINT is not set")
    import boto3
    from botocore.config import Config
    boto = boto3.client("s3", endpoint_url=ENDPOINT, region_name="us-east-1",
                        config=Config(s3={"addressing_style": "path"}))
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
    # A failed run leaves nothing behind: no object, no pending upload.
    q = f"SELECT id, 1 / (id - (SELECT max(id) FROM {T})) AS x FROM {T}"
    r = s.run("export", "--dsn", DSN, "--query", q, "--shard-by", "id", "--jobs", "3", "--to",
              f"s3://{BUCKET}/{prefix}failed/")
    expect_exit(r, 1, "failed S3 run")
    listed = boto.list_objects_v2(Bucket=BUCKET, Prefix=prefix + "failed/")
    eq(listed.get("KeyCount", 0), 0, "objects of the failed run")
    ups = boto.list_multipart_uploads(Bucket=BUCKET, Prefix=prefix + "failed/")
    eq(len(ups.get("Uploads", [])), 0, "pending uploads of the failed run")


psql(f"DROP TABLE IF EXISTS {T}")
s.finish()
