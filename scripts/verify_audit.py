#!/usr/bin/env python3
"""Verifies an mfa-recovery audit export without the service, its database or its code.

    verify_audit.py EXPORT.jsonl --checkpoint CHECKPOINT.json --public-key KEY
                    [--start-checkpoint OLDER.json] [--checkpoints PUBLISHED.jsonl]

EXPORT.jsonl is `mfa-recovery audit export --format jsonl` (or the console's JSON-lines
download), one event per line in `seq` order. CHECKPOINT.json is a signed checkpoint (`GET
/v1/audit/checkpoint`, or a line of the published checkpoints); KEY is the public key as
`mfa-recovery audit public-key` prints it (base64 of 32 bytes).

Exit 0 only when the checkpoint is signed by KEY, every event's hash follows from its content
and the event before (from the first event, or from --start-checkpoint's head when the export
starts later), the export holds the checkpoint's event with the checkpoint's hash, and nothing is
missing between. Exit 1 naming the first problem otherwise: a tampered event, a missing one, an
export cut before the checkpoint, a forged or altered checkpoint. With --checkpoints, also checks
that each published checkpoint is signed and names the one before it (no gap, no fork).

Needs Python 3.9+ and the `cryptography` package (Ed25519). The encodings are in the
service's docs/SECURITY.md ("Canonical encodings").
"""

import argparse
import base64
import hashlib
import json
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

# The members an event's hash covers, in this order (version 1 of the encoding).
EVENT_FIELDS = ("seq", "at", "action", "actor", "username", "recovery_id", "ip", "user_agent",
                "outcome", "detail")


class Problem(Exception):
    pass


def canonical_event(event):
    """The bytes an event's hash covers: compact JSON of v=1 then EVENT_FIELDS in order, strings
    escaped as JSON requires and nothing more (non-ASCII as UTF-8)."""
    ordered = {"v": 1}
    for field in EVENT_FIELDS:
        if field not in event:
            raise Problem(f"event {event.get('seq')} has no member {field!r}")
        ordered[field] = event[field]
    return json.dumps(ordered, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def event_hash(previous, event):
    """hex(SHA-256(previous hash, "\\n", canonical encoding))."""
    return hashlib.sha256(previous.encode("ascii") + b"\n" + canonical_event(event)).hexdigest()


def checkpoint_message(cp):
    """What a checkpoint is signed over: version 2 names the checkpoint before it."""
    if cp.get("previous") is not None:
        text = (f"mfa-recovery audit checkpoint v2\nseq {cp['seq']}\nhead {cp['head']}\n"
                f"at {cp['at']}\nprevious {cp['previous']}")
    else:
        text = f"mfa-recovery audit checkpoint v1\nseq {cp['seq']}\nhead {cp['head']}\nat {cp['at']}"
    return text.encode("utf-8")


def checkpoint_digest(cp):
    """What the next checkpoint names as its `previous`."""
    return hashlib.sha256(checkpoint_message(cp)).hexdigest()


def key_id(public_bytes):
    return hashlib.sha256(public_bytes).hexdigest()[:16]


def load_key(text):
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except ValueError as err:
        raise Problem("the public key is not base64") from err
    if len(raw) != 32:
        raise Problem("the public key is not 32 bytes (as `mfa-recovery audit public-key` prints it)")
    return raw, Ed25519PublicKey.from_public_bytes(raw)


def check_signature(cp, key_bytes, key, what="the checkpoint"):
    if cp.get("key_id") != key_id(key_bytes):
        raise Problem(f"{what} was signed by key {cp.get('key_id')}, not by this public key "
                      f"({key_id(key_bytes)})")
    try:
        signature = base64.b64decode(cp["signature"], validate=True)
        key.verify(signature, checkpoint_message(cp))
    except (ValueError, KeyError, InvalidSignature) as err:
        raise Problem(f"the signature does not match {what} (its seq, head, time or previous "
                      "was changed, or it is not a signature)") from err


def read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def verify_export(path, checkpoint, start=None):
    """Walks the export; returns (events read, last seq, last hash)."""
    previous, expected_seq = "", 1
    if start is not None:
        previous, expected_seq = start["head"], start["seq"] + 1
    if checkpoint["seq"] < expected_seq - 1:
        raise Problem(f"the checkpoint (event {checkpoint['seq']}) is older than the export's "
                      f"start (after event {expected_seq - 1})")
    found_checkpoint = checkpoint["seq"] == expected_seq - 1 and checkpoint["head"] == previous
    count, last_seq = 0, expected_seq - 1
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                event = json.loads(line)
            except ValueError as err:
                raise Problem(f"line {number} is not JSON") from err
            seq = event.get("seq")
            if seq != expected_seq:
                if count == 0 and start is None:
                    raise Problem(f"the export starts at event {seq}, not at the first: give "
                                  "--start-checkpoint, a checkpoint at the event before it")
                raise Problem(f"event {expected_seq} is missing (the next line is event {seq})")
            if event_hash(previous, event) != event.get("hash"):
                raise Problem(f"event {seq} does not follow from its content and the event "
                              "before: it was changed")
            previous, last_seq = event["hash"], seq
            expected_seq += 1
            count += 1
            if seq == checkpoint["seq"]:
                if event["hash"] != checkpoint["head"]:
                    raise Problem(f"event {seq} has another hash than the checkpoint's head: the "
                                  "log was rewritten up to it")
                found_checkpoint = True
    if not found_checkpoint:
        raise Problem(f"the export ends at event {last_seq}, before the checkpoint's event "
                      f"{checkpoint['seq']}: its tail was cut")
    return count, last_seq, previous


def verify_series(path, key_bytes, key):
    """Each published checkpoint signed and naming the one before it."""
    before, count = None, 0
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            cp = json.loads(line)
            check_signature(cp, key_bytes, key, what=f"published checkpoint on line {number}")
            if before is not None and cp.get("previous") != checkpoint_digest(before):
                raise Problem(f"published checkpoint on line {number} does not name the one "
                              "before it: one is missing between them, or the series forked")
            before, count = cp, count + 1
    return count


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("export", help="the JSON-lines export")
    parser.add_argument("--checkpoint", required=True, help="a signed checkpoint (JSON)")
    parser.add_argument("--public-key", required=True,
                        help="base64, as `mfa-recovery audit public-key` prints it")
    parser.add_argument("--start-checkpoint",
                        help="a signed checkpoint at the event before the export's first")
    parser.add_argument("--checkpoints", help="the published checkpoints (JSON lines)")
    args = parser.parse_args(argv)
    try:
        key_bytes, key = load_key(args.public_key)
        checkpoint = read_json(args.checkpoint)
        check_signature(checkpoint, key_bytes, key)
        start = None
        if args.start_checkpoint:
            start = read_json(args.start_checkpoint)
            check_signature(start, key_bytes, key, what="the start checkpoint")
        count, last_seq, head = verify_export(args.export, checkpoint, start)
        series = ""
        if args.checkpoints:
            series = f"; {verify_series(args.checkpoints, key_bytes, key)} published checkpoints chained"
    except Problem as problem:
        print(f"verify_audit: does not hold: {problem}", file=sys.stderr)
        return 1
    print(f"verify_audit: holds: {count} events to seq {last_seq} (head {head}), the checkpoint "
          f"at seq {checkpoint['seq']} signed by key {checkpoint['key_id']} is in it{series}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
