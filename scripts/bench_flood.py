"""The flood scenario of the benchmark (run by bench.py): the emulator behind a proxy that refuses
Cognito user reads above 50 a second with TooManyRequestsException, as Cognito does once a
category's quota is spent; 10,000 requests for random junk names from random client addresses;
meanwhile real owners ask at intervals from their own addresses, and the support desk starts one
recovery. Printed: owners' request -> email (p50/p95) after the burst and while junk still
arrives, the support desk's request -> email,
the Cognito calls per second the proxy saw (most in any second) and how many it refused, the
junk dropped as stale, for 1 and for 2 service instances on one database.
"""

import collections
import json
import os
import subprocess
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from emulator_seed import create_user  # noqa: E402
from soak import free_port, http  # noqa: E402

# Cognito's UserRead category (the calls a lookup makes), refused above this many a second.
READS = {"AdminGetUser", "ListUsers", "AdminListDevices", "AdminGetUserAuthFactors"}
READS_PER_SECOND = 50


class QuotaProxy:
    """Forwards every AWS call to the emulator; counts Cognito calls per second and refuses user
    reads above READS_PER_SECOND in any second (400 TooManyRequestsException)."""

    def __init__(self, upstream):
        self.upstream = upstream
        self.lock = threading.Lock()
        self.calls = collections.Counter()  # second -> Cognito calls forwarded
        self.reads = collections.Counter()  # second -> user reads forwarded
        self.refused = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def forward(self):
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                target = self.headers.get("x-amz-target", "")
                operation = target.rsplit(".", 1)[-1] if "CognitoIdentityProvider" in target else None
                if operation is not None:
                    second = int(time.time())
                    with proxy.lock:
                        if operation in READS and proxy.reads[second] >= READS_PER_SECOND:
                            proxy.refused += 1
                            refused = True
                        else:
                            refused = False
                            proxy.calls[second] += 1
                            if operation in READS:
                                proxy.reads[second] += 1
                    if refused:
                        answer = json.dumps({"__type": "TooManyRequestsException",
                                             "message": "Rate exceeded"}).encode()
                        self.send_response(400)
                        self.send_header("content-type", "application/x-amz-json-1.1")
                        self.send_header("content-length", str(len(answer)))
                        self.end_headers()
                        self.wfile.write(answer)
                        return
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("host", "content-length", "connection")}
                request = urllib.request.Request(proxy.upstream + self.path, data=body or None,
                                                 headers=headers, method=self.command)
                try:
                    with urllib.request.urlopen(request, timeout=30) as response:
                        status, answer, kind = response.status, response.read(), response.headers
                except urllib.error.HTTPError as err:
                    status, answer, kind = err.code, err.read(), err.headers
                self.send_response(status)
                self.send_header("content-type", kind.get("content-type", "application/json"))
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            do_GET = do_POST = do_PUT = do_DELETE = forward

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def busiest_second(self, since):
        with self.lock:
            return max((n for s, n in self.calls.items() if s >= since), default=0)

    def stop(self):
        self.server.shutdown()


def percentile(values, p):
    values = sorted(values)
    return values[max(int(len(values) * p) - 1, 0)] if values else float("nan")


def run(bench, binary, env, endpoint, idp, pool, client, base, smoke, instances, tag, lua):
    """One flood against `instances` service processes on a fresh database; the table's rows."""
    db = f"bench_flood_{tag}"
    bench.psql(os.environ["TEST_DATABASE_URL"], f"CREATE DATABASE {db}")
    proxy = QuotaProxy(endpoint)
    env = {**env, "DATABASE_URL": f"{base}/{db}", "AWS_ENDPOINT_URL": proxy.url}
    services = [bench.start_service(binary, env, f"flood-{tag}-{n}") for n in range(instances)]
    urls = [f"http://127.0.0.1:{s.port}" for s in services]
    key = subprocess.run([binary, "staff", "add", "--name", f"bench-desk-{tag}", "--role", "support",
                          "--by", "bench"], env={**os.environ, **env, "RUST_LOG": "error"},
                         capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]

    # Owners asking while the junk still arrives, and owners asking once its burst is over.
    early = [f"early-{tag}-{n}" for n in range(2 if smoke else 5)]
    owners = [f"owner-{tag}-{n}" for n in range(6 if smoke else 20)]
    desk_user = f"desk-{tag}"
    for name in early + owners + [desk_user]:
        create_user(idp, pool, client, name, f"{name}@example.com", "Bench-Passw0rd!")

    seen, done = {}, threading.Event()

    def poll():
        # The emulator records no time: an email counts from the first poll that sees it.
        while not done.is_set():
            with urllib.request.urlopen(f"{endpoint}/_harness/ses/messages", timeout=10) as r:
                messages = json.loads(r.read())
            now = time.time()
            for m in messages:
                for address in m.get("to") or []:
                    seen.setdefault(address, now)
            time.sleep(0.02)

    poller = threading.Thread(target=poll)
    poller.start()
    started = int(time.time())
    junk_seconds = 1 if smoke else 5
    floods = [threading.Thread(target=bench.wrk, args=(
        u + "/v1/recovery", junk_seconds, max(16 // len(urls), 1), lua)) for u in urls]
    for f in floods:
        f.start()
    time.sleep(0.3)
    sent_at = {}

    def ask(n, name):
        sent_at[name] = time.time()
        http("POST", urls[n % len(urls)] + "/v1/recovery", {"username": name},
             headers={"x-forwarded-for": f"192.0.2.{n + 1}"})

    for n, name in enumerate(early):
        ask(n + 100, name)
        time.sleep(junk_seconds * 0.8 / len(early))
    for f in floods:
        f.join()
    desk_sent = time.time()
    status, _ = http("POST", urls[-1] + "/v1/support/recoveries",
                     {"username": desk_user, "reason": "bench: caller verified by call-back"},
                     headers={"authorization": f"Bearer {key}"})
    assert status == 202, status
    for n, name in enumerate(owners):
        ask(n, name)
        time.sleep(0.5)
    junk = int(bench.psql(env["DATABASE_URL"], "SELECT count(*) FROM recoveries")) - len(
        early + owners) - 1
    deadline = time.time() + 60
    while time.time() < deadline and any(f"{n}@example.com" not in seen
                                         for n in early + owners + [desk_user]):
        time.sleep(0.1)
    done.set()
    poller.join()
    def delays(names):
        return [seen[f"{n}@example.com"] - sent_at[n] for n in names if f"{n}@example.com" in seen]

    def spread(names):
        d = delays(names)
        return (f"p50 {percentile(d, 0.5):.2f} s, p95 {percentile(d, 0.95):.2f} s",
                f"{len(names) - len(d)} of {len(names)} missing after 60 s")
    desk = seen.get(f"{desk_user}@example.com")
    waiting = bench.psql(env["DATABASE_URL"],
                         "SELECT count(*) FROM jobs WHERE kind = 'look_up' AND finished_at IS NULL")
    dropped = bench.psql(env["DATABASE_URL"],
                         "SELECT count(*) FROM audit_events WHERE action = 'recovery.dropped'")
    busiest = proxy.busiest_second(started)
    budget = int(env.get("COGNITO_CALLS_PER_SECOND", "20"))
    for s in services:
        s.stop()
    proxy.stop()
    label = f"{instances} instance{'s' if instances > 1 else ''}"
    return [
        (f"flood, {label}: junk requests (random names and addresses)", "", f"{junk:,}", ""),
        (f"flood, {label}: owner request -> email, after the junk burst", "", *spread(owners)),
        (f"flood, {label}: owner request -> email, while junk still arrives", "",
         *spread(early)),
        (f"flood, {label}: support-started recovery -> email", "",
         f"{desk - desk_sent:.2f} s" if desk else "none", ""),
        (f"flood, {label}: Cognito calls in the busiest second (budget {budget})", "",
         f"{busiest}", f"{proxy.refused} refused"),
        (f"flood, {label}: junk lookups left waiting / dropped as stale", "",
         f"{int(waiting):,} / {int(dropped):,}", ""),
    ]
