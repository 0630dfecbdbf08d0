#!/usr/bin/env python3
"""A steady webhook load for `scripts/bench`'s soak step (a figure, not a test).

Sends signed `customer.updated` deliveries at a fixed rate from several keep-alive connections
(a fraction of them exact repeats of earlier events, as Stripe's retries are), and every five
seconds prints the answers so far, the processing backlog (events stored but not yet processed),
the server's resident memory, SQLite's write-ahead log size and the server's CPU use (100 % is
one core). When the sending stops it waits for the backlog to drain.

Usage: soak-load.py PORT SECRET DATABASE_URL SERVER_PID RATE SECONDS [DUPLICATES]
"""

import collections
import hashlib
import hmac
import http.client
import json
import os
import random
import subprocess
import sqlite3
import sys
import threading
import time

port, secret, url, pid = int(sys.argv[1]), sys.argv[2].encode(), sys.argv[3], sys.argv[4]
rate, seconds = float(sys.argv[5]), float(sys.argv[6])
duplicates = float(sys.argv[7]) if len(sys.argv) > 7 else 0.1
SENDERS = 8

BACKLOG = "SELECT COUNT(*) FROM webhook_events WHERE status IN ('received', 'queued', 'processing')"


def backlog():
    if url.startswith("sqlite:"):
        with sqlite3.connect(url.removeprefix("sqlite://"), timeout=30) as db:
            return db.execute(BACKLOG).fetchone()[0]
    return int(subprocess.run(["psql", "-Atq", url, "-c", BACKLOG], capture_output=True, text=True, check=True).stdout)


def wal_mib():
    """SQLite: the write-ahead log's size (a log the checkpointer cannot reset grows, and every
    read searches it); "-" on PostgreSQL."""
    if not url.startswith("sqlite:"):
        return "-"
    try:
        return f"{os.path.getsize(url.removeprefix('sqlite://') + '-wal') / 2**20:.0f}"
    except OSError:
        return "0"


def cpu_seconds():
    """The server's user + system CPU time so far."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def resident_mib():
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) // 1024
    return -1


answers = collections.Counter()
sent_bodies = []
lock = threading.Lock()
started = time.monotonic()
stop_at = started + seconds


def body_for(n):
    t = int(time.time())
    return json.dumps({
        "id": f"evt_soak_{n:08d}", "object": "event", "type": "customer.updated", "api_version": "2026-09-30.clover",
        "created": t, "livemode": False, "pending_webhooks": 1, "request": {"id": None, "idempotency_key": None},
        "data": {"object": {"id": f"cus_soak_{n % 5000}", "object": "customer", "email": f"soak{n}@example.com",
                            "name": f"Soak {n}", "metadata": {}}},
    }).encode()


def sender(index):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    interval = SENDERS / rate
    next_at = started + index * interval / SENDERS
    n = index
    rng = random.Random(index)
    while True:
        now = time.monotonic()
        if now >= stop_at:
            return
        if next_at > now:
            time.sleep(next_at - now)
        next_at += interval
        with lock:
            repeat = sent_bodies and rng.random() < duplicates
            body = rng.choice(sent_bodies) if repeat else None
        if body is None:
            body = body_for(n)
            n += SENDERS
            with lock:
                sent_bodies.append(body)
        t = int(time.time())
        signature = hmac.new(secret, f"{t}.".encode() + body, hashlib.sha256).hexdigest()
        headers = {"Stripe-Signature": f"t={t},v1={signature}", "Content-Type": "application/json"}
        try:
            connection.request("POST", "/webhooks/stripe", body, headers)
            response = connection.getresponse()
            data = response.read()
            answer = str(response.status)
            if response.status != 200:
                try:
                    answer += " " + json.loads(data).get("error", "")
                except ValueError:
                    pass
        except (OSError, http.client.HTTPException) as error:
            answer = type(error).__name__
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        with lock:
            answers[answer] += 1


threads = [threading.Thread(target=sender, args=(i,), daemon=True) for i in range(SENDERS)]
for thread in threads:
    thread.start()
print(f"{'second':>6} {'answers so far':<40} {'backlog':>8} {'RSS MiB':>8} {'WAL MiB':>8} {'CPU %':>6}", flush=True)
cpu_before, at_before = cpu_seconds(), time.monotonic()
while any(thread.is_alive() for thread in threads):
    time.sleep(5)
    with lock:
        so_far = dict(answers)
    cpu, at = cpu_seconds(), time.monotonic()
    busy = 100 * (cpu - cpu_before) / (at - at_before)
    cpu_before, at_before = cpu, at
    print(f"{at - started:6.0f} {json.dumps(so_far):<40} {backlog():>8} {resident_mib():>8} {wal_mib():>8} {busy:6.0f}", flush=True)
sending = time.monotonic() - started
total = sum(answers.values())
print(f"sent {total} deliveries in {sending:.0f} s = {total / sending:.0f}/s (asked {rate:.0f}/s): {dict(answers)}", flush=True)
drain_started = time.monotonic()
while (left := backlog()) > 0 and time.monotonic() - drain_started < 600:
    time.sleep(1)
print(f"backlog drained to {left} in {time.monotonic() - drain_started:.1f} s after the load stopped; RSS {resident_mib()} MiB", flush=True)
