#!/usr/bin/env python3
"""End-to-end tests of examples/export_service (issue 7) and of the paginated API source.

The service is started on 127.0.0.1 (a free port) against the test Postgres and the S3 test
stack (s3rver behind tests/s3/proxy/proxy.js; its /__admin endpoints show upload lifecycles
and inject stalls). The API source runs as docs/examples/cookbook_api_source.cpp's binary
against a paginated server written here with http.server.

    python3 tests/cli/test_export_service.py SLUICE SLUICE_DEMO

The binaries export_service and test_docs_cookbook_api_source are looked for next to SLUICE
(build/bin). Service cases SKIP without SLUICE_TEST_PG_DSN or SLUICE_TEST_S3_ENDPOINT; the API
source cases need neither.
"""

import csv
import gzip
import http.client
import http.server
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

from cli_common import Failure, Skip, Suite, check, eq, s3_client

s = Suite("export_service")
BIN = os.path.dirname(s.sluice)
SERVICE = os.path.join(BIN, "export_service")
API_EXAMPLE = os.path.join(BIN, "test_docs_cookbook_api_source")
DSN = os.environ.get("SLUICE_TEST_PG_DSN", "")
ENDPOINT = os.environ.get("SLUICE_TEST_S3_ENDPOINT", "")
BUCKET = os.environ.get("SLUICE_TEST_S3_BUCKET", "sluice-test")
PSQL = shutil.which("psql")
TOKEN = f"tok-{os.getpid()}-secret"
TAG = f"es{os.getpid()}"
BIG = f"{TAG}_events"      # 1M rows
SMALL = f"{TAG}_small"     # 1000 rows
PREFIX = f"export-service-{os.getpid()}-{int(time.time())}/"


def free_port():
    with socket.socket() as so:
        so.bind(("127.0.0.1", 0))
        return so.getsockname()[1]


# --- the paginated API server for the API source ----------------------------------------------
class Api(http.server.BaseHTTPRequestHandler):
    """/pages?cursor=N: {"data": [ids N..N+9 of 35], "next_cursor": "N+10" | null}
    /linked?page=N: a top-level array and `Link: <...>; rel="next"` for pages 0..2
    /big: a page of 2 MB; /flaky: 503 for the first `flaky_left` requests, then /pages."""
    flaky_left = 0
    requests = 0

    def log_message(self, *a):
        pass

    def send_json(self, status, body, headers=()):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        Api.requests += 1
        u = urllib.parse.urlparse(self.path)
        q = dict(urllib.parse.parse_qsl(u.query))
        if self.headers.get("Authorization") != "Bearer api-secret":
            return self.send_json(401, '{"error":"no"}')
        if u.path == "/flaky" and Api.flaky_left > 0:
            Api.flaky_left -= 1
            return self.send_json(503, '{"error":"busy"}')
        if u.path in ("/pages", "/flaky"):
            start = int(q.get("cursor", "0"))
            end = min(35, start + 10)
            data = [{"id": i, "name": f"n\"{i}", "tags": ["a", {"b": i}]} for i in range(start, end)]
            nxt = f'"{end}"' if end < 35 else "null"
            return self.send_json(200, json.dumps({"data": data}, separators=(",", ":"))[:-1]
                                  + f',"next_cursor":{nxt}}}')
        if u.path == "/linked":
            page = int(q.get("page", "0"))
            headers = [("Link", f'</linked?page={page + 1}>; rel="next"')] if page < 2 else []
            return self.send_json(200, json.dumps([page * 2, page * 2 + 1]), headers)
        if u.path == "/big":
            return self.send_json(200, json.dumps({"data": ["x" * 2_000_000], "next_cursor": None}))
        return self.send_json(404, '{"error":"not found"}')


def run_api(url, max_page_bytes=None, timeout=60):
    env = dict(os.environ, SLUICE_API_URL=url, SLUICE_API_TOKEN="api-secret")
    if max_page_bytes:
        env["SLUICE_API_MAX_PAGE_BYTES"] = str(max_page_bytes)
    return subprocess.run([API_EXAMPLE], env=env, capture_output=True, timeout=timeout)


api_server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Api)
threading.Thread(target=api_server.serve_forever, daemon=True).start()
API = f"http://127.0.0.1:{api_server.server_address[1]}"


def need_api_example():
    if not os.path.exists(API_EXAMPLE):
        raise Skip(f"{API_EXAMPLE} is not built")


@s.case("api/pages")
def _(d):
    need_api_example()
    r = run_api(API + "/pages?limit=10")
    check(r.returncode == 0, f"exit {r.returncode}: {r.stderr.decode()}")
    recs = [json.loads(line) for line in r.stdout.decode().splitlines()]
    eq([x["id"] for x in recs], list(range(35)), "ids over 4 pages")
    eq(recs[3]["name"], 'n"3', "escaped string")
    eq(recs[3]["tags"], ["a", {"b": 3}], "nested value")


@s.case("api/link_header")
def _(d):
    need_api_example()
    r = run_api(API + "/linked")
    check(r.returncode == 0, f"exit {r.returncode}: {r.stderr.decode()}")
    eq(r.stdout.decode().split(), ["0", "1", "2", "3", "4", "5"], "records over 3 linked pages")


@s.case("api/oversized_page")
def _(d):
    need_api_example()
    r = run_api(API + "/big?key=hunter2", max_page_bytes=1 << 20)
    eq(r.returncode, 1, "exit status")
    e = r.stderr.decode()
    check("max_page_bytes" in e, f"message names the limit: {e}")
    check("hunter2" not in e, f"the query is not shown: {e}")


@s.case("api/503_then_success")
def _(d):
    need_api_example()
    Api.flaky_left = 2  # the example makes 3 attempts per page
    r = run_api(API + "/flaky")
    check(r.returncode == 0, f"exit {r.returncode}: {r.stderr.decode()}")
    eq(len(r.stdout.decode().splitlines()), 35, "records")
    eq(Api.flaky_left, 0, "all 503s were served")
    check("api-secret" not in r.stderr.decode(), "no token in the retry log")


@s.case("api/dead_server")
def _(d):
    need_api_example()
    t0 = time.monotonic()
    r = run_api(f"http://127.0.0.1:{free_port()}/pages")
    eq(r.returncode, 1, "exit status")
    check("(after 3 attempts)" in r.stderr.decode(), f"retried, then failed: {r.stderr.decode()}")
    check(time.monotonic() - t0 < 30, "gave up promptly")


# --- the service ----------------------------------------------------------------------------
def psql(sql, args=()):
    r = subprocess.run([PSQL, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", DSN, *args, "-c", sql],
                       capture_output=True, timeout=300)
    if r.returncode != 0:
        raise Failure(f"psql {sql[:100]!r}: {r.stderr.decode(errors='replace')}")
    return r.stdout


def psql_value(sql):
    return psql(sql, args=("-A", "-t")).decode().strip()


class Service:
    def __init__(self, d, max_concurrent=2, args=(), destinations=True, log_name="service.log"):
        self.port = free_port()
        self.log = open(os.path.join(d, log_name), "ab")
        env = dict(os.environ, SLUICE_SERVICE_TOKEN=TOKEN)
        dest = ["--allow-destinations", f"s3://{BUCKET}/{PREFIX}"] if destinations else []
        self.p = subprocess.Popen(
            [SERVICE, "--dsn", DSN, "--listen", f"127.0.0.1:{self.port}",
             "--allow-tables", f"{BIG},{SMALL}", "--max-concurrent", str(max_concurrent), *dest, *args],
            env=env, stdout=self.log, stderr=self.log)
        self.log_path = self.log.name
        for _ in range(400):
            try:
                # Listening is logged once the start-up (job recovery) is done.
                if "listening on" in self.log_text():
                    socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                    return
                time.sleep(0.05)
            except OSError:
                if self.p.poll() is not None:
                    raise Failure(f"the service exited {self.p.returncode}: {self.log_text()}")
                time.sleep(0.05)
        raise Failure("the service did not start listening")

    def log_text(self):
        if not self.log.closed:
            self.log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def request(self, method, path, body=None, token=TOKEN, headers=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        h = dict(headers or {})
        if token is not None:
            h["Authorization"] = f"Bearer {token}"
        if body is not None:
            h["Content-Type"] = "application/json"
            body = json.dumps(body) if not isinstance(body, (bytes, str)) else body
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, data

    def json(self, method, path, body=None, **kw):
        status, data = self.request(method, path, body, **kw)
        try:
            return status, json.loads(data)
        except ValueError:
            raise Failure(f"{method} {path}: not JSON ({status}): {data[:200]!r}")

    def stop(self, expect=0):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        try:
            rc = self.p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.p.kill()
            raise Failure("the service did not stop within 30 s of SIGTERM")
        self.log.close()
        if expect is not None:
            eq(rc, expect, f"exit status after SIGTERM; log: {self.log_text()[-1500:]}")


def wait_job(svc, job_id, want, timeout=120):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        status, last = svc.json("GET", f"/exports/{job_id}")
        eq(status, 200, "job status answer")
        if last["status"] in want:
            return last
        time.sleep(0.2)
    raise Failure(f"job {job_id} did not reach {want}: {last}")


def admin(path, body=None):
    req = urllib.request.Request(ENDPOINT + path, data=json.dumps(body).encode() if body else None,
                                 method="POST" if body is not None else "GET")
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def same_rows(got, ref):
    """Whether two CSV exports hold the same header and rows. Postgres's synchronized
    sequential scans start a scan of a big table where a recent one (the download cut short
    above) left off, so without ORDER BY the rows may come rotated: compare as multisets."""
    if got == ref:
        return True
    g = list(csv.reader(io.StringIO(got.decode())))
    r = list(csv.reader(io.StringIO(ref.decode())))
    return g[:1] == r[:1] and sorted(g[1:]) == sorted(r[1:])


def no_object(prefix):
    """Nothing stored under `prefix` (boto3 lists it; without boto3 the upload check above
    must do)."""
    try:
        b = s3_client()
    except Skip:
        return
    got = b.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])
    eq([o["Key"] for o in got], [], f"objects under {prefix}")


def active_copies(table):
    return int(psql_value(
        "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid() "
        f"AND query LIKE 'COPY (SELECT * FROM \"{table}\"%'"))  # pg::subquery may add a newline


service_ok = True
if not os.path.exists(SERVICE):
    print(f"SKIP service: {SERVICE} is not built (needs cpp-httplib, Postgres and S3 support)")
    s.skipped += 1
    service_ok = False
elif not DSN or not ENDPOINT:
    print("SKIP service: SLUICE_TEST_PG_DSN or SLUICE_TEST_S3_ENDPOINT is not set "
          "(source scripts/lib/postgres.sh and scripts/lib/s3.sh; pg_start; s3_start)")
    s.skipped += 1
    service_ok = False
elif not PSQL:
    print("SKIP service: psql not found")
    s.skipped += 1
    service_ok = False

if not service_ok:
    s.finish()

psql(f"DROP TABLE IF EXISTS {BIG}, {SMALL}; "
     f"CREATE TABLE {BIG} AS SELECT g AS id, 'event \"' || g || E'\"\\n,x' AS name, "
     f"timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second' AS at, g * 0.5 AS amount, "
     f"(g % 3 = 0) AS flag FROM generate_series(1, 1000000) g; "
     f"CREATE TABLE {SMALL} AS SELECT * FROM {BIG} WHERE id <= 1000; ANALYZE {BIG}; ANALYZE {SMALL};")
REF_BIG = psql(f"\\copy (SELECT * FROM {BIG}) to stdout with (format csv, header)")
REF_SMALL = psql(f"\\copy (SELECT * FROM {SMALL}) to stdout with (format csv, header)")
svc_dir = os.path.join(s.scratch, "service")
os.makedirs(svc_dir, exist_ok=True)
svc = Service(svc_dir)


@s.case("download/csv_1m_rows")
def _(d):
    c = http.client.HTTPConnection("127.0.0.1", svc.port, timeout=120)
    t0 = time.monotonic()
    c.request("GET", f"/exports/{BIG}.csv", headers={"Authorization": f"Bearer {TOKEN}"})
    r = c.getresponse()
    eq(r.status, 200, "status")
    eq(r.getheader("Transfer-Encoding"), "chunked", "transfer encoding")
    first = r.read1(65536)
    ttfb = time.monotonic() - t0
    rest = r.read()
    total = time.monotonic() - t0
    body = first + rest
    eq(len(body), len(REF_BIG), "size like psql \\copy")
    check(same_rows(body, REF_BIG), "rows differ from psql \\copy csv")
    print(f"     first byte {ttfb * 1000:.0f} ms, all {len(body) / 1e6:.0f} MB in {total:.2f} s")
    check(ttfb < total / 4, f"first byte after {ttfb:.3f} s of {total:.3f} s")


@s.case("download/jsonl_gz")
def _(d):
    status, data = svc.request("GET", f"/exports/{SMALL}.jsonl.gz")
    eq(status, 200, "status")
    lines = gzip.decompress(data).decode().splitlines()
    eq(len(lines), 1000, "rows")
    first = json.loads(lines[0])
    eq(first["id"], 1, "id")
    eq(first["name"], 'event "1"\n,x', "name")
    status, data = svc.request("GET", f"/exports/{SMALL}.csv.gz")
    eq(gzip.decompress(data), REF_SMALL, "csv.gz content")


@s.case("download/client_hangs_up")
def _(d):
    so = socket.create_connection(("127.0.0.1", svc.port))
    so.sendall(f"GET /exports/{BIG}.csv HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n\r\n"
               .encode())
    got = 0
    while got < 2_000_000:
        b = so.recv(65536)
        check(b, "the stream ended early")
        got += len(b)
    # The client stops reading: the export is blocked on the socket, its COPY still running.
    time.sleep(0.3)
    check(active_copies(BIG) >= 1, "the COPY should be running while the client is connected")
    so.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    so.close()  # RST: as a client that goes away
    deadline = time.monotonic() + 5
    while active_copies(BIG) and time.monotonic() < deadline:
        time.sleep(0.1)
    eq(active_copies(BIG), 0, "running COPY queries 5 s after the client hung up")


@s.case("auth")
def _(d):
    for token, what in ((None, "no token"), ("wrong", "wrong token"), (TOKEN[:-1], "prefix"),
                        (TOKEN + "x", "longer")):
        status, data = svc.request("GET", f"/exports/{SMALL}.csv", token=token)
        eq(status, 401, what)
        check(b"error" in data, f"{what}: JSON error")
    status, _ = svc.request("POST", "/exports", {"table": SMALL, "to": f"s3://{BUCKET}/x/"}, token="nope")
    eq(status, 401, "POST without the token")
    status, _ = svc.request("GET", "/exports/0123456789abcdef0123456789abcdef", token=None)
    eq(status, 401, "status without the token")
    status, _ = svc.request("GET", "/nowhere", token=None)
    eq(status, 401, "unknown path without the token")


@s.case("allow_list_and_injection")
def _(d):
    log_before = svc.log_text()
    bad = ["pg_authid.csv", "sluice_export_jobs.jsonl",
           urllib.parse.quote(f'{SMALL}"; DROP TABLE {SMALL}; --.csv'),
           urllib.parse.quote(f"{SMALL} UNION SELECT * FROM pg_authid.csv"),
           urllib.parse.quote(f"public.{SMALL}.csv")]
    for name in bad:
        status, data = svc.json("GET", f"/exports/{name}")
        eq(status, 400, f"GET {name}")
        check("allow-list" in data["error"], f"message: {data}")
    for body in ({"table": f"{SMALL}; DROP TABLE {SMALL}", "to": f"s3://{BUCKET}/{PREFIX}"},
                 {"table": "pg_authid", "to": f"s3://{BUCKET}/{PREFIX}"},
                 {"table": SMALL, "format": "xml", "to": f"s3://{BUCKET}/{PREFIX}"},
                 {"table": SMALL, "to": "/tmp/out"},
                 "not json", {"table": 5}):
        status, data = svc.json("POST", "/exports", body)
        eq(status, 400, f"POST {body}")
        check(data.get("error"), f"JSON error: {data}")
    eq(psql_value(f"SELECT count(*) FROM {SMALL}"), "1000", "the table is intact")
    new_log = svc.log_text()[len(log_before):]
    check("download" not in new_log and "job" not in new_log, f"nothing was run: {new_log}")
    status, data = svc.json("GET", "/exports/0123456789abcdef0123456789abcdef")
    eq(status, 404, "unknown id")
    status, data = svc.json("DELETE", "/exports/0123456789abcdef0123456789abcdef")
    eq(status, 404, "DELETE unknown id")


@s.case("job/completes_with_presigned_url")
def _(d):
    status, job = svc.json("POST", "/exports", {"table": BIG, "format": "csv", "compress": "gzip",
                                                 "to": f"s3://{BUCKET}/{PREFIX}done/"})
    eq(status, 202, f"POST answer {job}")
    check(job["status"] in ("pending", "running"), f"initial status {job}")
    seen_running = []
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        _, job = svc.json("GET", f"/exports/{job['id']}")
        if job["status"] == "running" and job["rows_done"] > 0:
            seen_running.append(job)
        if job["status"] in ("completed", "failed", "cancelled"):
            break
        time.sleep(0.1)
    eq(job["status"], "completed", f"final status {job}")
    eq(job["rows_done"], 1_000_000, "rows done")
    eq(job["rows_total"], 1_000_000, "total (exact once counted)")
    check(job["total_exact"], "total_exact")
    eq(job["percent"], 100, "percent")
    check(job["bytes"] > 0, "bytes")
    for j in seen_running:
        check(j["rows_total"] and 0 <= j["percent"] < 100, f"progress while running: {j}")
    check("X-Amz-Expires=604800" in job["url"], "presigned for 7 days")
    with urllib.request.urlopen(job["url"], timeout=60) as r:
        data = r.read()
    eq(job["bytes"], len(data), "bytes = object size")
    got = gzip.decompress(data)
    if not same_rows(got, REF_BIG):
        at = next((i for i in range(min(len(got), len(REF_BIG))) if got[i] != REF_BIG[i]), None)
        with open(os.path.join(d, "object.csv"), "wb") as f:
            f.write(got)
        raise Failure(f"the object differs from psql \\copy csv: {len(got)} vs {len(REF_BIG)} bytes, "
                      f"first difference at {at}: {got[at - 50:at + 50] if at else b''!r}")


@s.case("job/cancel_aborts_upload")
def _(d):
    prefix = f"{PREFIX}cancel/"
    # Hold every part of this prefix: the job stays running until it is cancelled.
    admin("/__admin/faults", {"stall_ms": 4000, "count": 50, "match": "UploadPart", "key_prefix": prefix})
    status, job = svc.json("POST", "/exports", {"table": BIG, "format": "csv", "to": f"s3://{BUCKET}/{prefix}"})
    eq(status, 202, "POST")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        _, job = svc.json("GET", f"/exports/{job['id']}")
        ups = admin(f"/__admin/uploads?key_prefix={urllib.parse.quote(prefix)}")
        if ups["open"] >= 1 and job["bytes"] > 8 * 1024 * 1024:
            break
        check(job["status"] in ("pending", "running"), f"status {job}")
        time.sleep(0.1)
    check(ups["open"] >= 1, f"a multipart upload should be open: {ups}")
    status, job = svc.json("DELETE", f"/exports/{job['id']}")
    eq(status, 202, f"DELETE {job}")
    job = wait_job(svc, job["id"], ("cancelled", "completed", "failed"), timeout=60)
    eq(job["status"], "cancelled", f"final {job}")
    eq(job["error"], "cancelled by request", "reason")
    check("url" not in job, "no URL for a cancelled job")
    ups = admin(f"/__admin/uploads?key_prefix={urllib.parse.quote(prefix)}")
    eq(ups["open"], 0, f"open uploads after cancel: {ups}")
    check(all(u["state"] == "aborted" for u in ups["uploads"]), f"uploads aborted: {ups}")
    check(not any(u["state"] == "completed" for u in ups["uploads"]), "no completed upload")
    no_object(prefix)
    status, _ = svc.json("DELETE", f"/exports/{job['id']}")
    eq(status, 409, "DELETE of a finished job")


@s.case("job/restart_and_sigterm")
def _(d):
    global svc
    prefix = f"{PREFIX}term/"
    admin("/__admin/faults", {"stall_ms": 4000, "count": 50, "match": "UploadPart", "key_prefix": prefix})
    status, job = svc.json("POST", "/exports", {"table": BIG, "format": "csv", "to": f"s3://{BUCKET}/{prefix}"})
    eq(status, 202, "POST")
    wait_job(svc, job["id"], ("running",))
    # An open download too: SIGTERM must close it.
    so = socket.create_connection(("127.0.0.1", svc.port))
    so.sendall(f"GET /exports/{BIG}.csv HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n\r\n"
               .encode())
    check(so.recv(65536), "download started")
    t0 = time.monotonic()
    svc.stop(expect=0)
    check(time.monotonic() - t0 < 15, "drained promptly")
    so.settimeout(10)
    try:
        while so.recv(1 << 20):
            pass
    except (ConnectionResetError, socket.timeout):
        pass
    so.close()
    eq(psql_value(f"SELECT status || ':' || error FROM sluice_export_jobs WHERE id = '{job['id']}'"),
       "cancelled:cancelled: the service shut down", "job after SIGTERM")
    ups = admin(f"/__admin/uploads?key_prefix={urllib.parse.quote(prefix)}")
    eq(ups["open"], 0, f"open uploads after SIGTERM: {ups}")
    no_object(prefix)
    # A job left `running` by a crash is failed at the next start, with a reason.
    crashed = uuid.uuid4().hex
    psql("INSERT INTO sluice_export_jobs (id, table_name, format, gzip, bucket, object_key, status) "
         f"VALUES ('{crashed}', '{SMALL}', 'csv', false, '{BUCKET}', 'x', 'running')")
    svc = Service(svc_dir)
    status, j = svc.json("GET", f"/exports/{crashed}")
    eq((status, j["status"]), (200, "failed"), f"crashed job {j}")
    check("restart" in j["error"], f"reason: {j['error']}")
    status, j = svc.json("GET", f"/exports/{job['id']}")
    eq((status, j["status"]), (200, "cancelled"), "the job survived the restart")


@s.case("job/fifo_with_max_concurrent")
def _(d):
    ids = []
    for i in range(4):
        status, job = svc.json("POST", "/exports", {"table": SMALL, "format": "jsonl", "compress": "gzip",
                                                     "to": f"s3://{BUCKET}/{PREFIX}fifo/"})
        eq(status, 202, "POST")
        ids.append(job["id"])
    jobs = [wait_job(svc, i, ("completed", "failed", "cancelled")) for i in ids]
    eq([j["status"] for j in jobs], ["completed"] * 4, "all completed")
    # Two run at once (--max-concurrent 2): the later two start no earlier than the first two.
    starts = [j["started_at"] for j in jobs]
    check(min(starts[2:]) >= min(starts[:2]), f"FIFO order: {starts}")


# --- issue 16: hardening ----------------------------------------------------------------------
def boto():
    return s3_client()


def job_rows():
    return int(psql_value("SELECT count(*) FROM sluice_export_jobs"))


def raw_request(port, data, timeout=10):
    """Sends `data` on a fresh connection; returns (status or None, seconds to the answer)."""
    so = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    t0 = time.monotonic()
    try:
        so.sendall(data)
        got = b""
        while b"\r\n" not in got:
            b = so.recv(4096)
            if not b:
                break
            got += b
    except OSError:
        pass
    finally:
        so.close()
    head = got.split(b"\r\n", 1)[0].split()
    return (int(head[1]) if len(head) > 1 else None), time.monotonic() - t0


def vm_hwm_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0


@s.case("hardening/address_in_use")
def _(d):
    # Issue 16 item 2: SO_REUSEPORT let a second instance bind A's port and take half of
    # its connections.
    env = dict(os.environ, SLUICE_SERVICE_TOKEN="other-token")
    try:
        r = subprocess.run([SERVICE, "--dsn", DSN, "--listen", f"127.0.0.1:{svc.port}", "--allow-tables", SMALL],
                           env=env, capture_output=True, timeout=20)
    except subprocess.TimeoutExpired:
        raise Failure("a second instance kept running on the port in use")
    eq(r.returncode, 1, f"exit status: {r.stderr.decode()}")
    check("address already in use" in r.stderr.decode(), f"message: {r.stderr.decode()}")
    check("listening" not in r.stderr.decode(), "it claimed to listen")
    for _ in range(20):
        eq(svc.request("GET", "/exports/0123456789abcdef0123456789abcdef")[0], 404, "A answers every request")


@s.case("hardening/destination_allow_list")
def _(d):
    # Issue 16 item 3: any token holder could write to any bucket the service's keys reach.
    before = job_rows()
    outside = [f"s3://other-bucket/{PREFIX}", f"s3://{BUCKET}/elsewhere/", f"s3://{BUCKET}/",
               f"s3://{BUCKET}/{PREFIX}../x/", f"s3://{BUCKET}/{PREFIX}a/../../x/",
               f"s3://{BUCKET}/{PREFIX}%2e%2e/x/", f"s3://{BUCKET}/{PREFIX}a/%2E%2E/%2e%2e/x/",
               f"s3://{BUCKET}/{PREFIX[:-1]}-evil/", f"s3://{BUCKET}//{PREFIX}..//x/"]
    for to in outside:
        status, data = svc.json("POST", "/exports", {"table": SMALL, "to": to})
        eq(status, 403, f"POST to {to}: {data}")
        check("allow-destinations" in data["error"], f"message: {data}")
    eq(job_rows(), before, "no job row for a refused destination")
    status, job = svc.json("POST", "/exports", {"table": SMALL, "to": f"s3://{BUCKET}/{PREFIX}a/./b//../ok/"})
    eq(status, 202, f"POST inside the prefix: {job}")
    check(job["to"].startswith(f"s3://{BUCKET}/{PREFIX}a/ok/{SMALL}-"), f"normalised key: {job['to']}")
    eq(wait_job(svc, job["id"], ("completed", "failed", "cancelled"))["status"], "completed", "job")
    # Without the option, background exports are refused, and the start says so.
    other = Service(d, destinations=False, log_name="nodest.log")
    try:
        status, data = other.json("POST", "/exports", {"table": SMALL, "to": f"s3://{BUCKET}/{PREFIX}"})
        eq(status, 403, f"POST without --allow-destinations: {data}")
        eq(job_rows(), before + 1, "no job row")
        check("background exports to S3 are disabled" in other.log_text(), other.log_text())
    finally:
        other.stop()


@s.case("hardening/request_limits")
def _(d):
    # Issue 16 item 4: no body limit (8 x 50 MB POSTs took the service to 981 MB), no cap
    # on header size.
    auth = f"Authorization: Bearer {TOKEN}\r\n".encode()
    big = b"POST /exports HTTP/1.1\r\nHost: x\r\n" + auth + b"Content-Length: 50000000\r\n\r\n"
    status, took = raw_request(svc.port, big)
    eq(status, 413, "50 MB announced, no byte sent: answered at once")
    check(took < 2, f"413 after {took:.2f} s: the body was waited for")
    over = b"x" * (64 * 1024 + 1)
    status, _ = raw_request(svc.port, b"POST /exports HTTP/1.1\r\nHost: x\r\n" + auth +
                            f"Content-Length: {len(over)}\r\n\r\n".encode() + over)
    eq(status, 413, "64 KiB + 1")
    status, _ = raw_request(svc.port, b"POST /exports HTTP/1.1\r\nHost: x\r\n" + auth +
                            b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
    eq(status, 411, "chunked request body")
    headers = b"".join(f"X-Filler-{i}: {'y' * 90}\r\n".encode() for i in range(300))
    status, _ = raw_request(svc.port, b"GET /exports/x HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n")
    eq(status, 431, "30 KB of headers")
    status, _ = svc.json("POST", "/exports", {"table": SMALL, "to": "/x", "pad": "p" * 60000})
    eq(status, 400, "a body under the limit is still read")

    fresh = Service(d, log_name="limits.log")

    def post_50mb(results):
        try:
            so = socket.create_connection(("127.0.0.1", fresh.port), timeout=30)
            so.sendall(big)
            chunk = b"z" * (1 << 20)
            for _ in range(50):
                so.sendall(chunk)
            results.append(so.recv(100))
        except OSError as e:
            results.append(repr(e).encode())
    results = []
    ts = [threading.Thread(target=post_50mb, args=(results,)) for _ in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    hwm = vm_hwm_mb(fresh.p.pid)
    print(f"     peak RSS after 8 x 50 MB POSTs: {hwm:.0f} MB ({len(results)} answered or reset)")
    try:
        check(hwm < 100, f"peak RSS {hwm:.0f} MB")
        eq(fresh.request("GET", "/exports/0123456789abcdef0123456789abcdef")[0], 404, "still serving")
    finally:
        fresh.stop()


@s.case("hardening/slow_loris")
def _(d):
    # Issue 16 item 4: 40 connections trickling header bytes held all 32 workers and locked
    # valid clients out for as long as the attack ran.
    slow = Service(d, args=("--threads", "4", "--header-timeout", "2"), log_name="loris.log")
    stop = threading.Event()
    closed_after = []

    def trickle():
        so = socket.create_connection(("127.0.0.1", slow.port), timeout=10)
        t0 = time.monotonic()
        try:
            so.sendall(b"GET /exports/x HTTP/1.1\r\nHost: x\r\n")
            so.settimeout(0.3)
            while not stop.is_set():
                so.sendall(b"X-Slow: 1\r\n")
                try:
                    if so.recv(4096) == b"":
                        break
                    break  # an answer (408): the server gave up on us
                except socket.timeout:
                    pass
        except OSError:
            pass
        closed_after.append(time.monotonic() - t0)
        so.close()
    try:
        ts = [threading.Thread(target=trickle) for _ in range(40)]
        for t in ts:
            t.start()
        time.sleep(0.5)
        worst = 0
        for _ in range(10):
            t0 = time.monotonic()
            eq(slow.request("GET", "/exports/0123456789abcdef0123456789abcdef")[0], 404, "valid client")
            worst = max(worst, time.monotonic() - t0)
        print(f"     valid requests during the attack: slowest {worst * 1000:.0f} ms")
        check(worst < 1.0, f"a valid request took {worst:.2f} s")
        for t in ts:
            t.join(8)
        stop.set()
        eq(len(closed_after), 40, "the slow connections were closed by the server")
        check(max(closed_after) < 5, f"slow connections held for up to {max(closed_after):.1f} s")
    finally:
        stop.set()
        slow.stop()


@s.case("hardening/store_reconnect")
def _(d):
    # Issue 16 item 7: the first request after the job store's connection dropped got a 500.
    status, job = svc.json("POST", "/exports", {"table": SMALL, "to": f"s3://{BUCKET}/{PREFIX}re/"})
    eq(status, 202, "POST")
    wait_job(svc, job["id"], ("completed", "failed"))
    killed = psql_value(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
        "AND datname = current_database() AND query LIKE '%sluice_export_jobs%'")
    check(int(killed) >= 1, "the service's store connection was terminated")
    time.sleep(0.2)
    status, j = svc.json("GET", f"/exports/{job['id']}")
    eq(status, 200, f"first request after the drop: {j}")
    check("reconnecting" in svc.log_text(), "the loss is logged")


@s.case("hardening/instances_share_the_job_table")
def _(d):
    # Issue 16 items 1 and 6: a second instance's start-up recovery failed the first one's
    # live jobs (which later flipped to completed), and left crashed jobs' uploads open.
    b3 = boto()
    live_prefix = f"{PREFIX}live/"
    admin("/__admin/faults", {"stall_ms": 1500, "count": 3, "match": "UploadPart", "key_prefix": live_prefix})
    status, live = svc.json("POST", "/exports", {"table": BIG, "format": "csv", "to": f"s3://{BUCKET}/{live_prefix}"})
    eq(status, 202, "POST")
    wait_job(svc, live["id"], ("running",))
    other_live, dead_rec, dead_unrec = (uuid.uuid4().hex for _ in range(3))
    keys = {i: f"{PREFIX}orphans/{i}.csv" for i in (dead_rec, dead_unrec)}
    ups = {i: b3.create_multipart_upload(Bucket=BUCKET, Key=k)["UploadId"] for i, k in keys.items()}
    psql("INSERT INTO sluice_export_jobs (id, table_name, format, gzip, bucket, object_key, status, "
         "owner, heartbeat_at, upload_id) VALUES "
         f"('{other_live}', '{SMALL}', 'csv', false, '{BUCKET}', 'x', 'running', 'alive', now(), NULL), "
         f"('{dead_rec}', '{SMALL}', 'csv', false, '{BUCKET}', '{keys[dead_rec]}', 'running', 'gone', "
         f"now() - interval '1 hour', '{ups[dead_rec]}'), "
         f"('{dead_unrec}', '{SMALL}', 'csv', false, '{BUCKET}', '{keys[dead_unrec]}', 'running', 'gone', "
         "now() - interval '1 hour', NULL)")
    second = Service(d, log_name="second.log")
    try:
        def state(i):
            return psql_value(f"SELECT status FROM sluice_export_jobs WHERE id = '{i}'")
        eq(state(live["id"]), "running", f"A's live job after B started; B: {second.log_text()[-800:]}")
        eq(state(other_live), "running", "a job with a fresh heartbeat")
        eq(state(dead_rec), "failed", "a job whose owner is gone")
        eq(state(dead_unrec), "failed", "a job whose owner is gone (no upload id)")
        view = admin(f"/__admin/uploads?key_prefix={urllib.parse.quote(PREFIX + 'orphans/')}")
        eq(sorted(u["state"] for u in view["uploads"]), ["aborted", "aborted"], f"orphan uploads: {view}")
        seen = set()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            st = state(live["id"])
            seen.add(st)
            if st != "running":
                break
            time.sleep(0.2)
        eq(st, "completed", "A's job completes")
        check("failed" not in seen, f"states seen: {seen}")
        # State never moves backwards: a job failed by a recovery stays failed when its old
        # owner finishes it after all.
        back_prefix = f"{PREFIX}back/"
        admin("/__admin/faults", {"stall_ms": 1500, "count": 2, "match": "UploadPart", "key_prefix": back_prefix})
        status, back = svc.json("POST", "/exports", {"table": BIG, "format": "csv", "to": f"s3://{BUCKET}/{back_prefix}"})
        wait_job(svc, back["id"], ("running",))
        psql(f"UPDATE sluice_export_jobs SET status = 'failed', error = 'failed by a test' WHERE id = '{back['id']}'")
        deadline = time.monotonic() + 120
        while f"job {back['id']}: finished as" not in svc.log_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        eq(psql_value(f"SELECT status || ':' || error FROM sluice_export_jobs WHERE id = '{back['id']}'"),
           "failed:failed by a test", "a failed job stays failed")
    finally:
        second.stop()
        psql(f"DELETE FROM sluice_export_jobs WHERE id = '{other_live}'")


try:
    svc.stop(expect=0)
except Failure as e:
    print(f"FAIL stop: {e}")
    s.failed += 1
psql(f"DROP TABLE IF EXISTS {BIG}, {SMALL}")
s.finish()
