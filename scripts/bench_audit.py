"""The audit log at scale: seeds N chained events (a year of them, through the database's own
sequencer, audit_chain_pending), starts the service on them and times what auditors do, through
the API with an auditor's key: a page of events by username, action, recovery, time window and
deep cursor, and verification from a checkpoint 1,000 and 10,000 events back (and the whole walk
with --full-walk). Run by scripts/bench-audit.sh, which starts PostgreSQL (fsync on) and the
emulator and builds the binary.

Each line: median and p95 of --reps requests (after 3 unmeasured), in ms, end to end (HTTP, the
key's check, the query, and the `audit.read` event each request records). The goal for a page is
10 ms. Baseline, in the same run: the query as it was written before it used its indexes (one
statement for every filter, `$1 IS NULL OR username = $1 ...`, planned once for all values, as a
prepared statement is), its execution time from EXPLAIN ANALYZE.
"""

import argparse
import http.client as httpclient
import os
import statistics
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import Process, psql  # noqa: E402
from emulator_seed import seed_pool  # noqa: E402
from soak import free_port, http  # noqa: E402

SENDER = "no-reply@bench.test"
YEAR_START = "2025-12-01 00:00:00+00"
CHUNK = 200_000

SEED_SQL = """
INSERT INTO audit_pending (at, action, actor, username, recovery_id, ip, user_agent, outcome, detail)
SELECT timestamptz '{start}' + i * interval '{spacing} microseconds',
       CASE WHEN i % 100000 = 0 THEN 'audit.read'
            WHEN i % 100 = 0 THEN 'mfa.reset'
            WHEN i % 10 < 4 THEN 'recovery.requested'
            WHEN i % 10 < 7 THEN 'recovery.not_eligible'
            ELSE 'recovery.code_sent' END,
       CASE WHEN i % 100000 = 0 THEN 'staff:auditor@corp.example' ELSE 'user' END,
       CASE WHEN i % 1000000 = 500 THEN 'bench-target'
            ELSE 'user-' || ((i * 7919) % 1000003) END,
       CASE WHEN i % 10 >= 7 THEN md5('r' || (i / 10))::uuid END,
       '10.' || (i % 256) || '.' || ((i / 256) % 256) || '.' || ((i / 65536) % 254 + 1),
       'Mozilla/5.0 (bench)', 'accepted', NULL
  FROM generate_series({lo}::bigint, {hi}::bigint) AS i;
SELECT audit_chain_pending({chunk});
"""

# The auditors' query before it was built per filter (src/store/audit.rs, until December 2026).
OLD_QUERY = """
PREPARE old_page(text, text, timestamptz, timestamptz, bigint, text, uuid, bigint) AS
SELECT seq, at, action, actor, username, recovery_id, ip, user_agent, outcome, detail, hash
  FROM audit_events
 WHERE ($1::text IS NULL OR username = $1 OR username = $6)
   AND ($2::text IS NULL OR action = $2)
   AND ($3::timestamptz IS NULL OR at >= $3)
   AND ($4::timestamptz IS NULL OR at < $4)
   AND ($5::bigint IS NULL OR seq > $5)
   AND ($7::uuid IS NULL OR recovery_id = $7)
 ORDER BY seq LIMIT $8;
SET plan_cache_mode = force_generic_plan;
EXPLAIN (ANALYZE, TIMING OFF) EXECUTE old_page({args});
"""


def seed(db, n):
    spacing = 365 * 24 * 3600 * 1_000_000 // n
    psql(db, "ALTER TABLE audit_pending DISABLE TRIGGER audit_pending_stamped")
    started = time.time()
    for lo in range(1, n + 1, CHUNK):
        hi = min(lo + CHUNK - 1, n)
        psql(db, SEED_SQL.format(start=YEAR_START, spacing=spacing, lo=lo, hi=hi, chunk=CHUNK))
        if (hi // CHUNK) % 10 == 0 or hi == n:
            print(f"bench-audit: {hi:,} events chained ({time.time() - started:.0f} s)", flush=True)
    psql(db, "ALTER TABLE audit_pending ENABLE TRIGGER audit_pending_stamped")
    psql(db, "VACUUM ANALYZE audit_events")
    return spacing


def at(spacing, i):
    """The instant of seeded event i, RFC 3339."""
    seconds = i * spacing / 1_000_000
    return psql(os.environ["BENCH_DB"],
                f"SELECT to_char((timestamptz '{YEAR_START}' + interval '{seconds} seconds') "
                "AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')")


def timed(port, key, path, reps):
    """(median, p95) in ms of GET path over one kept-alive connection (a new one per call: the
    service closes idle ones after a few seconds); the last answer's body."""
    conn = httpclient.HTTPConnection("127.0.0.1", port, timeout=600)
    samples = []
    for n in range(reps + 3):
        started = time.perf_counter()
        conn.request("GET", path, headers={"authorization": f"Bearer {key}"})
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"{path}: {response.status} {body[:200]!r}")
        if n >= 3:
            samples.append((time.perf_counter() - started) * 1000)
    conn.close()
    samples.sort()
    return statistics.median(samples), samples[max(int(len(samples) * 0.95) - 1, 0)], body


def old_query_ms(db, args):
    plan = psql(db, OLD_QUERY.format(args=args))
    line = next(l for l in plan.splitlines() if l.startswith("Execution Time"))
    return float(line.split()[2])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument("--binary", default="target/release/mfa-recovery")
    parser.add_argument("--full-walk", action="store_true",
                        help="also time the whole chain's verification (minutes at 10M)")
    args = parser.parse_args()
    n = args.events
    admin_url = os.environ["TEST_DATABASE_URL"]
    db = admin_url.rsplit("/", 1)[0] + "/bench_audit"
    os.environ["BENCH_DB"] = db
    psql(admin_url, "DROP DATABASE IF EXISTS bench_audit")
    psql(admin_url, "CREATE DATABASE bench_audit")
    endpoint = os.environ["TEST_AWS_ENDPOINT"]
    _, pool, client = seed_pool(endpoint, SENDER)
    port, admin = free_port(), free_port()
    env = {
        "PATH": os.environ.get("PATH", ""), "DATABASE_URL": db,
        "COGNITO_USER_POOL_ID": pool, "COGNITO_CLIENT_ID": client, "SES_FROM_ADDRESS": SENDER,
        "AWS_ENDPOINT_URL": endpoint, "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_EC2_METADATA_DISABLED": "true", "LOG_FORMAT": "json", "RUST_LOG": "warn",
        "BIND_ADDR": f"127.0.0.1:{port}", "ADMIN_BIND_ADDR": f"127.0.0.1:{admin}",
    }
    subprocess.run([args.binary, "migrate"], env=env, check=True, capture_output=True)
    started = time.time()
    spacing = seed(db, n)
    size = psql(db, "SELECT pg_size_pretty(pg_total_relation_size('audit_events'))")
    print(f"bench-audit: seeded {n:,} events in {time.time() - started:.0f} s; "
          f"audit_events with its indexes: {size}", flush=True)

    key = subprocess.run([args.binary, "staff", "add", "--name", "bench-auditor", "--role",
                          "auditor", "--by", "bench", "--purpose", "bench"], env=env, check=True,
                         capture_output=True, text=True).stdout.strip().splitlines()[-1]
    service = Process([args.binary, "serve"], env, "bench-audit-service.log")
    try:
        for _ in range(600):
            if http("GET", f"http://127.0.0.1:{admin}/readyz", timeout=2)[0] == 200:
                break
            time.sleep(0.1)
        else:
            raise RuntimeError("the service did not become ready")
        middle = n // 2
        recovery = psql(db, f"SELECT recovery_id FROM audit_events WHERE seq >= {middle} "
                            "AND recovery_id IS NOT NULL ORDER BY seq LIMIT 1")
        window = (at(spacing, middle), at(spacing, middle + 3600 * 1_000_000 // spacing))
        last_day = at(spacing, n - 24 * 3600 * 1_000_000 // spacing)
        q = urllib.parse.quote
        pages = [
            ("username (a user with ~10 of them)", "username=user-4242", "'user-4242'", ""),
            ("username (bench-target)", "username=bench-target", "'bench-target'", ""),
            ("action=mfa.reset (1 %)", "action=mfa.reset", "NULL", "'mfa.reset'"),
            ("action=audit.read (rare)", "action=audit.read", "NULL", "'audit.read'"),
            ("recovery_id", f"recovery_id={recovery}", None, None),
            ("since/until, one hour mid-year", f"since={q(window[0])}&until={q(window[1])}",
             None, None),
            ("since, the last day", f"since={q(last_day)}", None, None),
            ("after, a cursor mid-log", f"after={middle}", None, None),
            ("action + since, the last day", f"action=recovery.code_sent&since={q(last_day)}",
             None, None),
        ]
        print(f"\nbench-audit: {n:,} events; a page is limit=100; goal <= 10 ms", flush=True)
        print(f"{'GET /v1/audit/events?…':40} {'p50 ms':>8} {'p95 ms':>8} {'rows':>5} "
              f"{'before ms':>10} {'ratio':>7}")
        for label, query, old_name, old_action in pages:
            p50, p95, body = timed(port, key, f"/v1/audit/events?limit=100&{query}", args.reps)
            rows = body.count(b'"seq"')
            before, ratio = "", ""
            if old_name is not None:
                old = old_query_ms(db, f"{old_name}, {old_action or 'NULL'}, NULL, NULL, NULL, "
                                       f"NULL, NULL, 100")
                before, ratio = f"{old:.1f}", f"{old / p50:.0f}x"
            print(f"{label:40} {p50:8.1f} {p95:8.1f} {rows:5} {before:>10} {ratio:>7}", flush=True)

        print(f"\n{'GET /v1/audit/verify':40} {'p50 ms':>8} {'p95 ms':>8} {'events':>8}")
        for back in (1_000, 10_000):
            seq = n - back
            head = psql(db, f"SELECT hash FROM audit_events WHERE seq = {seq}")
            p50, p95, body = timed(port, key, f"/v1/audit/verify?seq={seq}&head={head}",
                                   min(args.reps, 10))
            events = int(body.split(b'"events":')[1].split(b",")[0])
            print(f"{f'from a checkpoint {back:,} back':40} {p50:8.1f} {p95:8.1f} {events:8,}",
                  flush=True)
        if args.full_walk:
            p50, p95, body = timed(port, key, "/v1/audit/verify", 1)
            events = int(body.split(b'"events":')[1].split(b",")[0])
            print(f"{'the whole chain':40} {p50:8.0f} {p95:8.0f} {events:8,}", flush=True)
    finally:
        service.stop()
        psql(admin_url, "DROP DATABASE IF EXISTS bench_audit WITH (FORCE)")


if __name__ == "__main__":
    main()
