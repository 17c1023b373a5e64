"""The soak: many recoveries at once for a while, against several instances of the real binary on
one PostgreSQL, while instances are killed (SIGKILL) and PostgreSQL is crashed at random; then
it waits for the service to settle and counts what happened. Run by scripts/soak.sh, which starts
PostgreSQL and the emulator and builds the binary.

Each simulated person: creates their account (with a TOTP authenticator), asks for a recovery
(again while the service answers 503 or cannot be reached), waits for the email, and confirms
with the newest code and their password (again while 503, or with a newer code). Then it checks,
from outside the service, what the person relies on:

  requested   recoveries the service accepted (202)
  emailed     people who received a code
  confirmed   confirmations answered 200
  reset       resets recorded (mfa.reset), and accounts whose authenticator is gone in Cognito
  duplicated  resets or sign-outs recorded twice for one recovery            (must be 0)
  lost        an accepted request that never produced a code email nor an audited reason,
              or a 200 whose account still has its authenticator in Cognito  (must be 0)
  half-done   a recovery left `resetting`, an authenticator gone without a recorded reset,
              or a recorded reset without its notice email                    (must be 0)
  chain       `mfa-recovery audit verify`                                     (must be intact)

Exit status 0 only when all of that holds.
"""

import argparse
import collections
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from emulator_seed import create_user, seed_pool  # noqa: E402

SENDER = "no-reply@soak.test"
PASSWORD = "Soak-Passw0rd!"
CODE = re.compile(r"(?<!\d)(\d{4}) (\d{4})(?!\d)")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def http(method, url, body=None, timeout=15, headers=None):
    """(status, parsed body); status 0 when the service could not be reached."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"content-type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, None
    except (urllib.error.URLError, OSError, ValueError):
        return 0, None


class Postgres:
    def __init__(self, services_dir, admin_url, pg_bin):
        self.dir, self.admin_url, self.pg_bin = services_dir, admin_url, pg_bin
        self.lock = threading.Lock()
        self.crashes = 0

    def services(self, command):
        subprocess.run(["scripts/services.sh", command], check=True,
                       env={**os.environ, "SERVICES_DIR": self.dir})

    def crash_and_resume(self, down_for):
        with self.lock:
            self.services("crash-postgres")
            self.crashes += 1
            time.sleep(down_for)
            self.services("resume-postgres")

    def query(self, url, sql):
        """Runs `sql` with psql (retrying while the server is coming back); rows of text."""
        for _ in range(60):
            result = subprocess.run([f"{self.pg_bin}/psql", url, "-At", "-F", "\t", "-c", sql],
                                    capture_output=True, text=True)
            if result.returncode == 0:
                return [line.split("\t") for line in result.stdout.splitlines() if line]
            time.sleep(0.5)
        raise RuntimeError(f"psql failed: {result.stderr}")


class Instance:
    """One `mfa-recovery serve`, on fixed ports so that a restart answers at the same address."""

    def __init__(self, binary, env, log_dir, n):
        self.binary, self.n = binary, n
        self.port, self.admin_port = free_port(), free_port()
        self.env = {**env, "BIND_ADDR": f"127.0.0.1:{self.port}",
                    "ADMIN_BIND_ADDR": f"127.0.0.1:{self.admin_port}"}
        self.log = open(os.path.join(log_dir, f"instance-{n}.log"), "ab")
        self.process = None
        self.kills = 0
        # Once stopped, never started again (the keeper thread restarts exited instances).
        self.stopped = False
        self.lock = threading.Lock()
        self.start()

    @property
    def address(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        with self.lock:
            if self.stopped:
                return
            self.process = subprocess.Popen([self.binary, "serve"], env=self.env,
                                            stdout=self.log, stderr=self.log)
            STARTED.append(self.process)

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.kills += 1

    def keep_running(self):
        """Starts it again when it exited (killed, or it could not start while PostgreSQL was
        down)."""
        if self.process.poll() is not None:
            self.start()

    def ready(self):
        return http("GET", f"http://127.0.0.1:{self.admin_port}/readyz", timeout=3)[0] == 200

    def stop(self):
        with self.lock:
            self.stopped = True
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# Every service process the soak started, to prove at the end that none outlives it.
STARTED = []


def stop_all(instances):
    """Stops every instance (also when the soak failed half-way) and says whether any process
    it ever started is still running."""
    for instance in instances:
        instance.stop()
    running = [p.pid for p in STARTED if p.poll() is None]
    for pid in running:
        os.kill(pid, signal.SIGKILL)
    print(f"soak: {len(STARTED)} service processes started, "
          f"{len(running)} still running at the end", flush=True)
    return not running


class Inbox:
    """What SES accepted, as the emulator keeps it (fetched at most every 0.2 s)."""

    def __init__(self, endpoint):
        self.url = f"{endpoint}/_harness/ses/messages"
        self.lock = threading.Lock()
        self.at, self.messages = 0.0, []

    def to(self, address, fresh=False):
        with self.lock:
            if fresh or time.monotonic() - self.at > 0.2:
                with urllib.request.urlopen(self.url, timeout=30) as response:
                    self.messages = json.loads(response.read())
                self.at = time.monotonic()
            return [m for m in self.messages if address in (m.get("to") or [])]


def code_of(message):
    found = CODE.search(message.get("body") or "")
    return found and found.group(1) + found.group(2)


class Person:
    def __init__(self, n):
        self.username = f"soak-{n}-{uuid.uuid4().hex[:8]}"
        self.email = f"{self.username}@example.com"
        self.accepted = False
        self.confirm_status = None


def recover(person, instances, inbox, stop_at):
    """One person's recovery, retried as a person would, until it ends or the soak's grace
    period runs out."""
    deadline = stop_at + 60
    while time.time() < deadline:
        status, _ = http("POST", f"{random.choice(instances).address}/v1/recovery",
                         {"username": person.username})
        if status == 202:
            person.accepted = True
            break
        if status not in (0, 503):
            person.confirm_status = f"request answered {status}"
            return
        time.sleep(0.3)
    while time.time() < deadline:
        codes = [c for c in (code_of(m) for m in inbox.to(person.email)) if c]
        if not codes:
            time.sleep(0.3)
            continue
        status, _ = http("POST", f"{random.choice(instances).address}/v1/recovery/confirm",
                         {"username": person.username, "code": codes[-1], "password": PASSWORD})
        person.confirm_status = status
        if status == 200:
            return
        if status not in (0, 400, 503):
            return
        time.sleep(0.3)


def chaos(instances, postgres, stop_at, rng):
    while time.time() < stop_at:
        time.sleep(rng.uniform(2, 6))
        if time.time() >= stop_at:
            break
        if rng.random() < 0.6:
            rng.choice(instances).kill()
        else:
            postgres.crash_and_resume(rng.uniform(0.5, 2.0))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=180, help="how long the chaos lasts")
    parser.add_argument("--people", type=int, default=6, help="recoveries in flight at once")
    parser.add_argument("--instances", type=int, default=2)
    parser.add_argument("--binary", default="target/debug/mfa-recovery")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)

    endpoint = os.environ["TEST_AWS_ENDPOINT"]
    admin_url = os.environ["TEST_DATABASE_URL"]
    services_dir = os.environ["SERVICES_DIR"]
    postgres = Postgres(services_dir, admin_url, os.environ["TEST_PG_BIN"])
    postgres.query(admin_url, "CREATE DATABASE soak")
    db_url = admin_url.rsplit("/", 1)[0] + "/soak"

    idp, pool, client = seed_pool(endpoint, SENDER)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DATABASE_URL": db_url,
        "COGNITO_USER_POOL_ID": pool,
        "COGNITO_CLIENT_ID": client,
        "SES_FROM_ADDRESS": SENDER,
        "CODE_PEPPER": "soak-pepper-0123456789abcdef0123456789",
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
        "LOG_FORMAT": "json",
        "RUST_LOG": "warn",
        "WORKER_POLL_INTERVAL_MS": "200",
        "JOB_RETRY_BASE_SECONDS": "1",
        "RECOVERY_RESET_LEASE_SECONDS": "5",
        # Every person asks from 127.0.0.1: the per-address limits would stop the soak itself.
        "RECOVERY_REQUESTS_PER_IP_PER_HOUR": "1000000",
        "RECOVERY_EMAILS_PER_HOUR": "1000000",
    }
    print(f"soak: seed {seed}, {args.seconds} s, {args.people} people at once, "
          f"{args.instances} instances", flush=True)
    # Whatever happens (a failure half-way included), the soak stops what it started.
    instances, done = [], threading.Event()
    try:
        # The first instance applies the migrations alone.
        instances.append(Instance(args.binary, env, services_dir, 0))
        for _ in range(300):
            if instances[0].ready():
                break
            time.sleep(0.2)
        instances += [Instance(args.binary, env, services_dir, n) for n in range(1, args.instances)]
        inbox = Inbox(endpoint)

        stop_at = time.time() + args.seconds
        people, lock = [], threading.Lock()

        def person_loop(n):
            while time.time() < stop_at:
                person = Person(f"{n}-{len(people)}")
                create_user(idp, pool, client, person.username, person.email, PASSWORD)
                with lock:
                    people.append(person)
                recover(person, instances, inbox, stop_at)

        def keeper():
            while time.time() < stop_at + 90 and not done.is_set():
                for instance in instances:
                    instance.keep_running()
                time.sleep(0.5)

        threads = [threading.Thread(target=person_loop, args=(n,)) for n in range(args.people)]
        threads.append(threading.Thread(target=chaos, args=(instances, postgres, stop_at, rng)))
        threading.Thread(target=keeper, daemon=True).start()
        for t in threads:
            t.start()
        for t in threads:
            t.join()

        # Settle: every instance up, every due job done (jobs retried later are made due), every
        # recorded audit event chained.
        for _ in range(300):
            if all(i.ready() for i in instances):
                break
            time.sleep(0.2)
        for _ in range(600):
            postgres.query(db_url, "UPDATE jobs SET run_at = now() WHERE finished_at IS NULL")
            open_jobs = int(postgres.query(db_url, "SELECT count(*) FROM jobs WHERE finished_at IS NULL")[0][0])
            pending = int(postgres.query(db_url, "SELECT count(*) FROM audit_pending")[0][0])
            if open_jobs == 0 and pending == 0:
                break
            time.sleep(0.2)

        report = count(people, inbox, idp, pool, postgres, db_url, args.binary)
        report.update(seed=seed, instance_kills=sum(i.kills for i in instances),
                      postgres_crashes=postgres.crashes, open_jobs=open_jobs)
        if not stop_all(instances):
            print("soak: FAILED (a service process outlived its stop)", flush=True)
            return 1
        width = max(len(k) for k in report)
        for key, value in report.items():
            print(f"  {key:<{width}}  {value}")
        failed = (report["duplicated"] or report["lost"] or report["half-done"]
                  or report["chain"] != "intact" or not report["requested"] or open_jobs)
        print("soak: FAILED" if failed else "soak: passed", flush=True)
        return 1 if failed else 0
    finally:
        done.set()
        if any(not i.stopped for i in instances):
            stop_all(instances)


def count(people, inbox, idp, pool, postgres, db_url, binary):
    def scalar(sql):
        return int(postgres.query(db_url, sql)[0][0])

    accepted = [p for p in people if p.accepted]
    codes = {p.username: [m for m in inbox.to(p.email, fresh=True) if code_of(m)] for p in people}
    notices = {p.username: [m for m in inbox.to(p.email) if "was removed" in (m.get("subject") or "")]
               for p in people}
    totp_gone = set()
    for p in accepted:
        user = idp.admin_get_user(UserPoolId=pool, Username=p.username)
        if "SOFTWARE_TOKEN_MFA" not in (user.get("UserMFASettingList") or []):
            totp_gone.add(p.username)
    resets = scalar("SELECT count(*) FROM audit_events WHERE action = 'mfa.reset'")
    reset_recoveries = scalar(
        "SELECT count(DISTINCT recovery_id) FROM audit_events WHERE action = 'mfa.reset'")
    sign_outs = scalar("SELECT count(*) FROM audit_events WHERE action = 'sessions.revoked'")
    sign_out_recoveries = scalar(
        "SELECT count(DISTINCT recovery_id) FROM audit_events WHERE action = 'sessions.revoked'")
    resetting = scalar("SELECT count(*) FROM recoveries WHERE status = 'resetting'")
    # An accepted request with no code email must have an audited reason (a job that gave up,
    # or the account found not eligible).
    no_email = [p for p in accepted if not codes[p.username] and not scalar(
        "SELECT count(*) FROM audit_events WHERE username = '%s' "
        "AND (outcome = 'gave_up' OR action = 'recovery.not_eligible')" % p.username)]
    false_200 = [p for p in people if p.confirm_status == 200 and p.username not in totp_gone]
    without_notice = [u for u in totp_gone if not notices[u]]
    verify = subprocess.run([binary, "audit", "verify"], capture_output=True, text=True,
                            env={**os.environ, "DATABASE_URL": db_url, "RUST_LOG": "warn"})
    return {
        "people": len(people),
        "requested": len(accepted),
        "emailed": sum(1 for p in accepted if codes[p.username]),
        "confirmed": sum(1 for p in people if p.confirm_status == 200),
        "not confirmed (last answer)": dict(collections.Counter(
            str(p.confirm_status) for p in accepted if p.confirm_status != 200)),
        "reset": f"{reset_recoveries} recorded, {len(totp_gone)} authenticators gone in Cognito",
        "notices sent twice": sum(1 for u in totp_gone if len(notices[u]) > 1),
        "duplicated": (resets - reset_recoveries) + (sign_outs - sign_out_recoveries),
        "lost": len(no_email) + len(false_200),
        "half-done": resetting + max(len(totp_gone) - reset_recoveries, 0) + len(without_notice),
        "chain": "intact" if verify.returncode == 0 else f"BROKEN: {verify.stdout.strip()}",
    }


if __name__ == "__main__":
    sys.exit(main())
