#!/usr/bin/env python3
"""Simulated agents against the agent-broker's listener (the URL real agents use), on loopback.

  long:  N agents long-poll our v1 protocol at once; deployments are POSTed to the gateway at a
         fixed rate; prints the pickup latency (deploy request sent -> the job in a poll answer).
  plain: N agents poll the original protocol every INTERVAL s (random phase); prints the poll latency.

Bounded: stops after --deploys pickups (or --timeout), or after --seconds. Standard library only.
"""
import argparse, asyncio, json, random, statistics, sys, time
from urllib.parse import urlparse


class Conn:
    """One keep-alive HTTP/1.1 connection (Content-Length bodies only)."""

    def __init__(self, url):
        u = urlparse(url)
        self.host, self.port, self.prefix = u.hostname, u.port or 80, u.path.rstrip("/")
        self.r = self.w = None

    async def post(self, path, body=b"", headers=None):
        for attempt in (1, 2):
            try:
                if self.w is None:
                    self.r, self.w = await asyncio.open_connection(self.host, self.port)
                h = {"Host": f"{self.host}:{self.port}", "Content-Type": "application/json", "Content-Length": str(len(body))}
                h.update(headers or {})
                head = f"POST {self.prefix}{path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in h.items()) + "\r\n"
                self.w.write(head.encode() + body)
                await self.w.drain()
                status = int((await self.r.readline()).split()[1])
                length = 0
                while True:
                    line = await self.r.readline()
                    if line in (b"\r\n", b""):
                        break
                    k, _, v = line.decode().partition(":")
                    if k.lower() == "content-length":
                        length = int(v)
                return status, await self.r.readexactly(length)
            except (ConnectionError, asyncio.IncompleteReadError, IndexError):
                self.w = None
                if attempt == 2:
                    raise


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))] if s else float("nan")


async def long_mode(a, clusters):
    sent, got, latencies = {}, set(), []
    done = asyncio.Event()
    ready = asyncio.Event()
    polling = [0]

    async def agent(c):
        conn = Conn(a.server)
        body = json.dumps({"agent_id": f"bench-{c['id']}", "agent_version": "bench", "hostname": "bench",
                           "capabilities": ["lxd"], "max_jobs": 4}).encode()
        first = True
        while not done.is_set():
            try:
                task = asyncio.ensure_future(conn.post(f"/api/agent/v1/poll/{c['id']}?wait=50", body, {"X-Agent-Key": c["key"]}))
                if first:
                    polling[0] += 1
                    if polling[0] == len(clusters):
                        ready.set()
                    first = False
                status, data = await task
            except Exception as e:  # noqa: BLE001
                print("poll error", e, file=sys.stderr)
                await asyncio.sleep(1)
                continue
            now = time.monotonic()
            if status != 200:
                print("poll status", status, data[:200], file=sys.stderr)
                await asyncio.sleep(1)
                continue
            for job in json.loads(data).get("jobs", []):
                d = job["deployment_id"]
                if d in sent and d not in got:
                    got.add(d)
                    latencies.append(now - sent[d])
                    if len(got) >= a.deploys:
                        done.set()

    agents = [asyncio.ensure_future(agent(c)) for c in clusters]
    await ready.wait()
    await asyncio.sleep(a.settle)  # the first polls (each one a cluster going active) are answered and held again
    gw = Conn(a.gateway)
    for i in range(a.deploys):
        c = random.choice(clusters)
        body = json.dumps({"egg_id": "debian-hello", "cluster_id": c["id"], "instance_name": f"bench-{i}"}).encode()
        t0 = time.monotonic()
        status, data = await gw.post("/api/deploy", body, {"Authorization": f"Bearer {a.admin_key}"})
        if status != 201:
            print("deploy status", status, data[:200], file=sys.stderr)
            continue
        sent[json.loads(data)["deployment_id"]] = t0
        await asyncio.sleep(1 / a.rate)
    try:
        await asyncio.wait_for(done.wait(), a.timeout)
    except asyncio.TimeoutError:
        print(f"only {len(got)} of {len(sent)} picked up", file=sys.stderr)
    done.set()
    for t in agents:
        t.cancel()
    ms = [x * 1000 for x in latencies]
    print(f"long-poll: {len(clusters)} agents, {len(ms)} pickups: p50 {pct(ms, 50):.1f} ms, p99 {pct(ms, 99):.1f} ms, max {max(ms):.1f} ms")
    result("agents.pickup_p50", f"{pct(ms, 50):.1f}", "ms")
    result("agents.pickup_p99", f"{pct(ms, 99):.1f}", "ms", "<= 1000")
    result("agents.pickups", str(len(ms)), "of " + str(len(sent)))


def result(name, value, unit, target="-", ratio="-"):
    """One machine-readable line for benchmarks/run (benchmarks/result.sh)."""
    print(f"RESULT {name}\t{value}\t{unit}\t{target}\t{ratio}", flush=True)


async def plain_mode(a, clusters):
    latencies, errors = [], [0]
    end = time.monotonic() + a.seconds

    async def agent(c):
        conn = Conn(a.server)
        await asyncio.sleep(random.uniform(0, a.interval))
        while time.monotonic() < end:
            t0 = time.monotonic()
            try:
                status, _ = await conn.post(f"/api/agent/poll/{c['id']}", b"", {"X-Agent-Key": c["key"]})
                if status == 200:
                    latencies.append(time.monotonic() - t0)
                else:
                    errors[0] += 1
            except Exception:  # noqa: BLE001
                errors[0] += 1
            await asyncio.sleep(a.interval)

    await asyncio.gather(*(agent(c) for c in clusters))
    ms = [x * 1000 for x in latencies]
    print(f"plain polls: {len(clusters)} agents every {a.interval} s for {a.seconds} s: {len(ms)} polls, {errors[0]} errors, "
          f"p50 {pct(ms, 50):.2f} ms, p99 {pct(ms, 99):.2f} ms, max {max(ms):.2f} ms")
    result("agents.plain_poll_p50", f"{pct(ms, 50):.2f}", "ms")
    result("agents.plain_poll_p99", f"{pct(ms, 99):.2f}", "ms", "<= 50")
    result("agents.plain_poll_errors", str(errors[0]), "errors", "<= 0")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["long", "plain"])
    p.add_argument("--server", required=True)
    p.add_argument("--clusters", required=True, help="JSON file: [{id, key}]")
    p.add_argument("--agents", type=int, default=0)
    p.add_argument("--gateway")
    p.add_argument("--admin-key")
    p.add_argument("--deploys", type=int, default=200)
    p.add_argument("--rate", type=float, default=10)
    p.add_argument("--timeout", type=float, default=120)
    p.add_argument("--settle", type=float, default=20)
    p.add_argument("--interval", type=float, default=60)
    p.add_argument("--seconds", type=float, default=75)
    a = p.parse_args()
    clusters = json.load(open(a.clusters))
    if a.agents:
        clusters = clusters[: a.agents]
    asyncio.run(long_mode(a, clusters) if a.mode == "long" else plain_mode(a, clusters))


if __name__ == "__main__":
    main()
