"""Measures whether response times tell users apart (enumeration by timing).

Seeds users with and without a TOTP authenticator, requests recoveries for them and for names
that do not exist, then times POST /v1/recovery and POST /v1/recovery/confirm (always with a
wrong code) for each group, interleaved in random order, one request at a time (light load).
Prints median and p95 per group and the gap of each median to the known users'.
Exit status 1 when a median gap is 1 ms or more."""

import http.client
import json
import random
import statistics
import sys
import time
import urllib.request

import emulator_seed

service, endpoint, sender, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
idp, pool, client = emulator_seed.seed_pool(endpoint, sender)
PASSWORD = "Bench-Passw0rd!"
groups = {"known (TOTP)": [], "known, no TOTP": [], "unknown": []}
for i in range(5):
    emulator_seed.create_user(idp, pool, client, f"totp-{i}", f"totp-{i}@example.com", PASSWORD)
    emulator_seed.create_user(idp, pool, client, f"plain-{i}", f"plain-{i}@example.com", PASSWORD, totp=False)
    groups["known (TOTP)"].append(f"totp-{i}")
    groups["known, no TOTP"].append(f"plain-{i}")
    groups["unknown"].append(f"nobody-{i}")
print(f"pool {pool} seeded", file=sys.stderr, flush=True)
with open(sys.argv[5], "w") as out:
    out.write(f"export COGNITO_USER_POOL_ID={pool}\nexport COGNITO_CLIENT_ID={client}\n")
# The shell starts the service now and touches this file when it is ready.
while True:
    try:
        urllib.request.urlopen(service + "/readyz", timeout=1)
        break
    except Exception:
        time.sleep(0.5)

host, port = service.removeprefix("http://").split(":")
conn = http.client.HTTPConnection(host, int(port))


def post(path, body):
    payload = json.dumps(body)
    start = time.perf_counter()
    conn.request("POST", path, payload, {"content-type": "application/json"})
    response = conn.getresponse()
    response.read()
    return (time.perf_counter() - start) * 1000, response.status


def measure(path, body_for):
    samples = {g: [] for g in groups}
    statuses = {g: set() for g in groups}
    for _ in range(rounds):
        order = [(g, name) for g, names in groups.items() for name in names]
        random.shuffle(order)
        for group, name in order:
            ms, status = post(path, body_for(name))
            samples[group].append(ms)
            statuses[group].add(status)
    return samples, statuses


def report(title, samples, statuses):
    print(f"\n{title}")
    print(f"  {'group':<16} {'n':>5} {'median ms':>10} {'p95 ms':>8} {'gap ms':>8}  statuses")
    base = statistics.median(samples["known (TOTP)"])
    worst = 0.0
    for group, values in samples.items():
        median = statistics.median(values)
        p95 = statistics.quantiles(values, n=20)[18]
        gap = median - base
        worst = max(worst, abs(gap))
        print(f"  {group:<16} {len(values):>5} {median:>10.3f} {p95:>8.3f} {gap:>+8.3f}  {sorted(statuses[group])}")
    return worst


# Warm up connections and caches, then measure.
for name in groups["unknown"]:
    post("/v1/recovery", {"username": name})
worst = report("POST /v1/recovery", *measure("/v1/recovery", lambda n: {"username": n}))
time.sleep(2)  # let the job loop issue codes (or not) for every name
wrong = {"code": "00000000", "password": PASSWORD}
worst = max(worst, report("POST /v1/recovery/confirm (wrong code)",
                          *measure("/v1/recovery/confirm", lambda n: {"username": n, **wrong})))
verdict = "OK" if worst < 1.0 else "OVER"
print(f"\nlargest median gap between groups: {worst:.3f} ms ({verdict}: the budget is 1 ms)")
sys.exit(0 if worst < 1.0 else 1)
