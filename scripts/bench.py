"""The benchmark: the service against a baseline on the same machine, in the same run, alternated,
so that its numbers read as ratios. Run by scripts/bench.sh, which starts PostgreSQL (fsync on)
and the emulator and builds both programs.

Pairs (baseline | service), each measured `--rounds` times, median [min-max]:
  intake         POST /insert (one INSERT) | POST /v1/recovery, unique names       (wrk, req/s)
  confirm        POST /argon2 (one hash)   | POST /v1/recovery/confirm, unknown names (req/s)
  healthz p99    GET /healthz, paced (10 ms apart), while the pair's confirm load runs   (ms)
  RSS            idle, and peak after each load                                          (MiB)
Service only:
  request -> email   p50/p95 at 5 requests/s for real users                            (ms)
  job drain          a burst of requests, until every job is done                       (s)
  bystander p99     one client's paced requests alone, then while another floods from 3
                     shared addresses (their counters are written by concurrent batches)  (ms)
  processes          intake with 1 and with 3 service processes on one database  (req/s, sum)
  flood              junk requests against a Cognito that refuses reads above 50/s: owners'
                     and the support desk's request -> email, Cognito calls per second, for 1
                     and 2 instances (bench_flood.py)
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from emulator_seed import create_user, seed_pool  # noqa: E402
from soak import free_port, http  # noqa: E402
import bench_flood  # noqa: E402

SENDER = "no-reply@bench.test"

# Unique usernames and client addresses (the service believes X-Forwarded-For from loopback, so
# that per-address limits do not turn the load into rejections).
WRK_SCRIPT = r"""
local counter, threads = 0, 0
function setup(thread)
  if threads == 0 then math.randomseed(os.time()) end
  threads = threads + 1
  thread:set("prefix", tostring(math.random(1, 1e9)) .. "t" .. threads)
end
function init(args) math.randomseed(os.time() + threads + #prefix) end
request = function()
  counter = counter + 1
  local name = "bench-" .. prefix .. "-" .. counter
  local ip = "10." .. math.random(0, 255) .. "." .. math.random(0, 255) .. "." .. math.random(1, 254)
  local body
  if wrk.path == "/v1/recovery/confirm" then
    body = '{"username":"' .. name .. '","code":"12345678","password":"Bench-Passw0rd!"}'
  else
    body = '{"username":"' .. name .. '"}'
  end
  return wrk.format("POST", wrk.path, {["content-type"] = "application/json",
                                        ["x-forwarded-for"] = ip}, body)
end
"""


def rss_mib(pid):
    """(current, peak) resident memory of a process, MiB."""
    fields = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def reset_peak(pid):
    """Starts a new peak (VmHWM) from the current RSS."""
    with open(f"/proc/{pid}/clear_refs", "w") as clear:
        clear.write("5")


def wrk(url, seconds, connections, lua):
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency",
                          "-s", lua, url], capture_output=True, text=True, check=True).stdout
    rate = float(next(l for l in out.splitlines() if l.startswith("Requests/sec")).split()[1])
    non_2xx = next((int(l.split()[-1]) for l in out.splitlines() if "Non-2xx" in l), 0)
    return rate, non_2xx


def probe(baseline, url, seconds):
    """Paced GETs on one kept-alive connection, 10 ms apart (the baseline program's probe mode,
    so that the probe's own overhead is small and the same for both); their p99 latency in ms."""
    out = subprocess.run([baseline, "probe", url, str(seconds)], capture_output=True, text=True,
                         check=True).stdout.split()
    return float(out[out.index("p99") + 1])


class Process:
    def __init__(self, argv, env, log_name, port_from_stdout=False):
        self.log = open(os.path.join(os.environ["SERVICES_DIR"], log_name), "ab")
        self.process = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE if port_from_stdout
                                        else self.log, stderr=self.log, text=port_from_stdout)
        if port_from_stdout:
            line = self.process.stdout.readline()
            self.port = int(line.split()[1])

    @property
    def pid(self):
        return self.process.pid

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_service(binary, env, n):
    port, admin = free_port(), free_port()
    service = Process([binary, "serve"], {**env, "BIND_ADDR": f"127.0.0.1:{port}",
                                          "ADMIN_BIND_ADDR": f"127.0.0.1:{admin}"},
                      f"bench-service-{n}.log")
    service.port = port
    for _ in range(600):
        if http("GET", f"http://127.0.0.1:{admin}/readyz", timeout=2)[0] == 200:
            return service
        time.sleep(0.1)
    raise RuntimeError("the service did not become ready")


def summary(values, unit="", digits=0):
    values = sorted(values)
    med = statistics.median(values)
    return f"{med:,.{digits}f}{unit} [{values[0]:,.{digits}f}-{values[-1]:,.{digits}f}]", med


def psql(url, sql):
    return subprocess.run([f"{os.environ['TEST_PG_BIN']}/psql", url, "-At", "-c", sql],
                          capture_output=True, text=True, check=True).stdout.strip()


def set_aside(db):
    """Marks the service's queued jobs done unrun (this database is thrown away). An intake load
    queues a job per request (a Cognito lookup each, against the emulator) that the service works
    through for minutes: set aside after each intake load, so that it does not take the CPU from
    the next measurement (the baseline's, or the latency and drain below, on an empty queue)."""
    backlog = psql(db, "UPDATE jobs SET finished_at = now() WHERE finished_at IS NULL RETURNING 1")
    set_aside.count += len(backlog.split())


set_aside.count = 0

# A flood from three shared client addresses: every batch of requests counts the same three keys.
SHARED_SCRIPT = WRK_SCRIPT.replace(
    'local ip = "10." .. math.random(0, 255) .. "." .. math.random(0, 255) .. "." .. math.random(1, 254)',
    'local ip = "10.9.0." .. math.random(1, 3)')


def bystander(url, seconds):
    """Paced requests (10 ms apart) for unique names from the bench's own address; p99 and the
    slowest, in ms."""
    latencies, n, end = [], 0, time.time() + seconds
    while time.time() < end:
        n += 1
        started = time.perf_counter()
        http("POST", url + "/v1/recovery", {"username": f"bystander-{os.getpid()}-{n}-{end:.0f}"})
        latencies.append((time.perf_counter() - started) * 1000)
        time.sleep(0.01)
    latencies.sort()
    return latencies[max(int(len(latencies) * 0.99) - 1, 0)], latencies[-1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--binary", default="target/release/mfa-recovery")
    parser.add_argument("--baseline", default="target/release/examples/baseline")
    parser.add_argument("--flood-only", action="store_true", help="only the flood scenario")
    args = parser.parse_args()
    endpoint, admin_url = os.environ["TEST_AWS_ENDPOINT"], os.environ["TEST_DATABASE_URL"]
    base = admin_url.rsplit("/", 1)[0]
    for db in ("bench_service", "bench_baseline"):
        psql(admin_url, f"CREATE DATABASE {db}")

    idp, pool, client = seed_pool(endpoint, SENDER)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DATABASE_URL": f"{base}/bench_service",
        "COGNITO_USER_POOL_ID": pool, "COGNITO_CLIENT_ID": client,
        "SES_FROM_ADDRESS": SENDER, "CODE_PEPPER": "bench-pepper-0123456789abcdef0123456789",
        "AWS_ENDPOINT_URL": endpoint, "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_EC2_METADATA_DISABLED": "true", "LOG_FORMAT": "json", "RUST_LOG": "warn",
        "TRUSTED_PROXIES": "127.0.0.1/32",
        "RECOVERY_REQUESTS_PER_IP_PER_HOUR": "100000000",
        "RECOVERY_EMAILS_PER_HOUR": "100000000",
        "WORKER_POLL_INTERVAL_MS": "100",
    }
    lua = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    lua.write(WRK_SCRIPT)
    lua.close()
    if args.flood_only:
        rows = flood_scenario(args, env, endpoint, idp, pool, client, base, lua.name)
        print_rows(rows)
        return 0

    baseline = Process([args.baseline], {**env, "DATABASE_URL": f"{base}/bench_baseline",
                                         "ARGON2_THREADS": "2"},
                       "bench-baseline.log", port_from_stdout=True)
    service = start_service(args.binary, env, 0)
    time.sleep(1)
    idle = {"baseline": rss_mib(baseline.pid)[0], "service": rss_mib(service.pid)[0]}
    urls = {"baseline": f"http://127.0.0.1:{baseline.port}", "service": f"http://127.0.0.1:{service.port}"}
    pids = {"baseline": baseline.pid, "service": service.pid}
    paths = {"intake": {"baseline": "/insert", "service": "/v1/recovery"},
             "confirm": {"baseline": "/argon2", "service": "/v1/recovery/confirm"}}
    results = {(load, who): [] for load in ("intake", "confirm", "healthz") for who in pids}
    peaks = {(load, who): [] for load in ("intake", "confirm") for who in pids}
    non_2xx = {}
    print(f"bench: {args.rounds} rounds of {args.seconds} s, wrk -t2 -c{args.connections}",
          flush=True)
    for r in range(args.rounds):
        for load in ("intake", "confirm"):
            for who in ("baseline", "service"):
                reset_peak(pids[who])
                rate, bad = wrk(urls[who] + paths[load][who], args.seconds, args.connections, lua.name)
                results[(load, who)].append(rate)
                peaks[(load, who)].append(rss_mib(pids[who])[1])
                non_2xx[(load, who)] = non_2xx.get((load, who), 0) + bad
                if (load, who) == ("intake", "service"):
                    set_aside(env["DATABASE_URL"])
        for who in ("baseline", "service"):
            background = threading.Thread(target=wrk, args=(
                urls[who] + paths["confirm"][who], args.seconds, args.connections, lua.name))
            background.start()
            time.sleep(0.5)
            results[("healthz", who)].append(
                probe(args.baseline, urls[who] + "/healthz", args.seconds - 1))
            background.join()
        print(f"bench: round {r + 1} done", flush=True)

    rows = []
    for load, unit, digits in (("intake", " req/s", 0), ("confirm", " req/s", 0), ("healthz", " ms", 1)):
        b, bm = summary(results[(load, "baseline")], unit, digits)
        s, sm = summary(results[(load, "service")], unit, digits)
        label = {"intake": "intake", "confirm": "confirm", "healthz": "/healthz p99 under confirm load"}[load]
        rows.append((label, b, s, f"{sm / bm:.2f}" if bm else "-"))
    for load in ("intake", "confirm"):
        b, _ = summary(peaks[(load, "baseline")], " MiB", 1)
        s, _ = summary(peaks[(load, "service")], " MiB", 1)
        rows.append((f"RSS peak, {load} load", b, s, ""))
    rows.append(("RSS idle", f"{idle['baseline']:.1f} MiB", f"{idle['service']:.1f} MiB", ""))
    baseline.stop()

    rows.append(("jobs the intake loads queued, set aside unrun", "", f"{set_aside.count:,}", ""))
    db = env["DATABASE_URL"]

    # Request -> email, for real users, at 5 requests a second.
    users = []
    for n in range(5 * args.seconds):
        name = f"bench-user-{n}"
        create_user(idp, pool, client, name, f"{name}@example.com", "Bench-Passw0rd!")
        users.append(name)
    delays, sent_at, seen = [], {}, {}
    done = threading.Event()

    def poll():
        # The emulator records no time: an email counts from the first poll that sees it.
        while not done.is_set():
            with urllib.request.urlopen(f"{endpoint}/_harness/ses/messages", timeout=10) as response:
                messages = json.loads(response.read())
            now = time.time()
            for m in messages:
                for address in m.get("to") or []:
                    seen.setdefault(address, now)
            time.sleep(0.01)

    poller = threading.Thread(target=poll)
    poller.start()
    for name in users:
        sent_at[name] = time.time()
        http("POST", urls["service"] + "/v1/recovery", {"username": name})
        time.sleep(0.2)
    deadline = time.time() + 30
    while time.time() < deadline and any(f"{n}@example.com" not in seen for n in users):
        time.sleep(0.1)
    done.set()
    poller.join()
    pending = [n for n in users if f"{n}@example.com" not in seen]
    delays = [(seen[f"{n}@example.com"] - sent_at[n]) * 1000 for n in users if n not in pending]
    delays.sort()
    email = (f"p50 {delays[len(delays) // 2]:.0f} ms, p95 {delays[int(len(delays) * 0.95) - 1]:.0f} ms"
             if delays else "none")
    rows.append(("request -> email at 5/s (poll-bounded)", "", email, f"{len(pending)} missing"))

    # Job drain after a burst of unknown names (each: a lookup in Cognito, no email).
    burst = 200
    started = time.time()
    threads = [threading.Thread(target=lambda i=i: http(
        "POST", urls["service"] + "/v1/recovery", {"username": f"burst-{i}"})) for i in range(burst)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    while psql(db, "SELECT count(*) FROM jobs WHERE finished_at IS NULL") != "0":
        time.sleep(0.05)
    rows.append((f"job drain after a burst of {burst}", "", f"{time.time() - started:.1f} s", ""))

    # A bystander alone, then while a client floods from 3 shared addresses.
    shared = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    shared.write(SHARED_SCRIPT)
    shared.close()
    alone, alone_max = bystander(urls["service"], args.seconds)
    flood = threading.Thread(target=wrk, args=(
        urls["service"] + "/v1/recovery", args.seconds + 1, args.connections, shared.name))
    flood.start()
    time.sleep(0.5)
    flooded, flooded_max = bystander(urls["service"], args.seconds - 1)
    flood.join()
    set_aside(db)
    log = os.path.join(os.environ["SERVICES_DIR"], "bench-service-0.log")
    with open(log, errors="replace") as f:
        deadlocks = f.read().count("deadlock detected")
    rows.append(("bystander p99 (max): alone (left) vs under a 3-address flood (right)",
                 f"{alone:.1f} ms ({alone_max:.0f})", f"{flooded:.1f} ms ({flooded_max:.0f})",
                 f"{flooded / alone:.2f}" if alone else "-"))
    rows.append(("'deadlock detected' in the service's log", "", str(deadlocks), ""))

    # Intake with 1 and with 3 processes on one database.
    one = wrk(urls["service"] + "/v1/recovery", args.seconds, args.connections, lua.name)[0]
    set_aside(db)
    more = [start_service(args.binary, env, n) for n in (1, 2)]
    rates = []
    per = max(args.connections // 3, 1)
    threads = [threading.Thread(target=lambda u=u: rates.append(
        wrk(u + "/v1/recovery", args.seconds, per, lua.name)[0]))
        for u in [urls["service"]] + [f"http://127.0.0.1:{m.port}" for m in more]]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rows.append(("intake: 1 process (left) vs 3 on one database (right, summed)", f"{one:,.0f} req/s", f"{sum(rates):,.0f} req/s",
                 f"{sum(rates) / one:.2f}"))
    for m in more:
        m.stop()
    service.stop()

    rows.extend(flood_scenario(args, env, endpoint, idp, pool, client, base, lua.name))
    chain = subprocess.run([args.binary, "audit", "verify"], capture_output=True, text=True,
                           env={**os.environ, "DATABASE_URL": db, "RUST_LOG": "warn"})

    print_rows(rows)
    print("non-2xx answers (the service's confirmations of unknown names are 400 by design): "
          + json.dumps({f"{k[0]} {k[1]}": v for k, v in non_2xx.items()}))
    print(f"audit chain after the run: {'intact' if chain.returncode == 0 else 'BROKEN'}")
    return 0 if chain.returncode == 0 else 1


def flood_scenario(args, env, endpoint, idp, pool, client, base, lua):
    """The flood: 1, then 2 instances on one database, the emulator behind a quota proxy."""
    smoke, rows = args.seconds <= 2, []
    for instances in (1, 2):
        print(f"bench: flood against {instances} instance(s)", flush=True)
        rows.extend(bench_flood.run(sys.modules[__name__], args.binary, env, endpoint, idp, pool,
                                    client, base, smoke, instances, str(instances), lua))
    return rows


def print_rows(rows):
    print()
    print("| what | baseline | service | ratio |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print()


if __name__ == "__main__":
    sys.exit(main())
