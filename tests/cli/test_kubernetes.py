#!/usr/bin/env python3
"""deploy/kubernetes/ without a cluster: parse the Job manifests (python yaml), take the
container commands out of them and run exactly those commands locally, as Kubernetes would:
`$(VAR)` expanded from the container's env, the Indexed Job once per index with
JOB_COMPLETION_INDEX set, against the test PostgreSQL and S3 servers. Only the values of the
env vars change (the test's DSN, bucket and table); the commands stay as written.

    python3 tests/cli/test_kubernetes.py SLUICE SLUICE_DEMO
"""

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import time

from cli_common import REPO, Failure, Skip, Suite, check, eq, s3_client

s = Suite("kubernetes")
K8S = os.path.join(REPO, "deploy", "kubernetes")
DSN = os.environ.get("SLUICE_TEST_PG_DSN", "")
ENDPOINT = os.environ.get("SLUICE_TEST_S3_ENDPOINT", "")
BUCKET = os.environ.get("SLUICE_TEST_S3_BUCKET", "sluice-test")
PSQL = shutil.which("psql")
try:
    import yaml
except ImportError:
    yaml = None


def load(name):
    with open(os.path.join(K8S, name)) as f:
        return yaml.safe_load(f)


def container(job):
    spec = job["spec"]["template"]["spec"]
    eq(len(spec["containers"]), 1, "containers per pod")
    return spec["containers"][0]


def expand(args, env):
    """Kubernetes' $(VAR) expansion of command and args (an unknown $(VAR) stays as it is)."""
    return [re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)",
                   lambda m: env.get(m.group(1), m.group(0)), a) for a in args]


def pod_env(c, overrides):
    """The container's env: literal values, secrets and overrides from the test."""
    env = {}
    for e in c.get("env", []):
        env[e["name"]] = e.get("value", "")
    env.update(overrides)
    missing = [k for k, v in env.items() if v == ""]
    check(not missing, f"no value for {missing}")
    return env


def command_of(job, overrides):
    c = container(job)
    env = pod_env(c, overrides)
    argv = expand(c["command"] + c.get("args", []), env)
    check(argv[0] == "sluice", f"the command runs sluice: {argv}")
    return [s.sluice, *argv[1:]], env


@s.case("manifests_are_jobs")
def _(d):
    if yaml is None:
        raise Skip("python3-yaml is not installed")
    shards = load("shards-job.yaml")
    eq(shards["kind"], "Job", "kind")
    eq(shards["spec"]["completionMode"], "Indexed", "completionMode")
    n = shards["spec"]["completions"]
    check(shards["spec"]["parallelism"] <= n, "parallelism <= completions")
    cmd = container(shards)["command"]
    eq(cmd[cmd.index("--shard") + 1], f"auto/{n}", "--shard auto/N matches completions")
    man = container(load("manifest-job.yaml"))["command"]
    eq(man[man.index("--shards") + 1], str(n), "manifest --shards matches completions")
    with open(os.path.join(K8S, "Dockerfile")) as f:
        docker = f.read()
    check("FROM debian:bookworm" in docker, "Debian bookworm")
    check("scripts/lib/packages.sh" in docker and "sluice_install_packages" in docker,
          "the Dockerfile installs with scripts/lib/packages.sh")
    with open(os.path.join(REPO, "scripts", "test")) as f:
        check("packages.sh" in f.read(), "./scripts/test uses the same script")


@s.case("jobs_run_locally")
def _(d):
    if yaml is None:
        raise Skip("python3-yaml is not installed")
    if not DSN or not ENDPOINT or not PSQL:
        raise Skip("needs SLUICE_TEST_PG_DSN and SLUICE_TEST_S3_ENDPOINT")
    boto = s3_client()
    table = f"k8s_events_{os.getpid()}"
    prefix = f"s3://{BUCKET}/k8s-{os.getpid()}/"
    subprocess.run([PSQL, DSN, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c",
                    f"CREATE TABLE {table} (id bigint PRIMARY KEY, body text); INSERT INTO "
                    f"{table} SELECT g, repeat(md5(g::text), 4) FROM generate_series(1, 60000) g"],
                   check=True, capture_output=True)
    overrides = {"SLUICE_DSN": DSN, "TABLE": table, "SNAPSHOT_URL": prefix + "snapshot",
                 "OUTPUT_PREFIX": prefix}
    snap_cmd, _ = command_of(load("snapshot-job.yaml"), overrides)
    holder = subprocess.Popen(snap_cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)
    try:
        sid = holder.stdout.readline().decode().strip()
        check(sid, "the snapshot job printed its id")
        shards = load("shards-job.yaml")
        shard_cmd, _ = command_of(shards, overrides)
        procs = []
        for i in range(shards["spec"]["completions"]):
            env = dict(os.environ, JOB_COMPLETION_INDEX=str(i))
            procs.append(subprocess.Popen(shard_cmd, env=env, stderr=subprocess.PIPE))
        for i, p in enumerate(procs):
            _, e = p.communicate(timeout=300)
            eq(p.returncode, 0, f"index {i}: {e.decode(errors='replace')}")
        man_cmd, _ = command_of(load("manifest-job.yaml"), overrides)
        r = subprocess.run(man_cmd, capture_output=True, timeout=300)
        eq(r.returncode, 0, f"manifest step: {r.stderr.decode(errors='replace')}")
    finally:
        holder.send_signal(signal.SIGTERM)  # `kubectl delete job`: the hold ends
        rc = holder.wait(timeout=30)
    eq(rc, 0, "the snapshot job's exit status after SIGTERM")
    key_prefix = prefix[len(f"s3://{BUCKET}/"):]
    m = json.loads(boto.get_object(Bucket=BUCKET, Key=key_prefix + "manifest.json")["Body"].read())
    eq(m["snapshot"], sid, "manifest snapshot")
    ids = []
    for p in m["parts"]:
        data = boto.get_object(Bucket=BUCKET, Key=key_prefix + p["name"])["Body"].read()
        eq(hashlib.sha256(data).hexdigest(), p["sha256"], "part sha256")
        ids += [line.split(",")[0] for line in data.decode().splitlines()[1:]]
    eq(len(ids), 60000, "rows in all parts")
    eq(len(set(ids)), 60000, "no duplicates")
    subprocess.run([PSQL, DSN, "-X", "-q", "-c", f"DROP TABLE {table}"], capture_output=True)


s.finish()
