"""Leases on requests taken from the frontier, so that a dead worker's requests are requeued.

scrapy-redis pops a request destructively: a worker killed after the pop loses it. Here a pop
moves the request, in one Lua script, from its queue into a lease held by the worker; the
worker acknowledges the lease once the request is done (its response parsed, its new requests
queued and its items pushed). Each worker refreshes a heartbeat key that expires after its
time to live; any process that finds a worker's heartbeat gone puts that worker's leases back
into their queues (one Lua script, so two reapers never requeue a lease twice).

The guarantee is at-least-once: a request is never lost while Redis keeps its data, and is
fetched again when its worker died (or stalled past its time to live) before acknowledging it.
The single writer makes a second copy of a story harmless (same URL: "unchanged").
The scripts touch keys derived from their arguments, so they need one Redis, not a Cluster.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from typing import Any

from csrnews.crawler.distributed import keys

logger = logging.getLogger(__name__)

# KEYS: queue, worker's lease set. ARGV: worker id, key prefix.
_POP = """
local r = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #r == 0 then return false end
redis.call('ZREM', KEYS[1], r[1])
local P = ARGV[2]
local id = tostring(redis.call('INCR', P .. 'lease:seq'))
redis.call('HSET', P .. 'lease:' .. id, 'queue', KEYS[1], 'score', r[2], 'data', r[1],
           'worker', ARGV[1])
redis.call('SADD', P .. 'inflight', id)
redis.call('SADD', KEYS[2], id)
return {id, r[1]}
"""

# KEYS: worker's lease set. ARGV: key prefix, requeue (0/1), lease ids...
_RELEASE = """
local P = ARGV[1]
local n = 0
for i = 3, #ARGV do
  local id = ARGV[i]
  local lease = P .. 'lease:' .. id
  if ARGV[2] == '1' then
    local l = redis.call('HMGET', lease, 'queue', 'score', 'data')
    if l[3] then redis.call('ZADD', l[1], l[2], l[3]); n = n + 1 end
  end
  redis.call('DEL', lease)
  redis.call('SREM', P .. 'inflight', id)
  redis.call('SREM', KEYS[1], id)
end
return n
"""

# ARGV: key prefix. Requeues the leases of every worker whose heartbeat has expired.
_REAP = """
local P = ARGV[1]
local moved = 0
for _, wid in ipairs(redis.call('SMEMBERS', P .. 'workers')) do
  if redis.call('EXISTS', P .. 'worker:' .. wid) == 0 then
    local set = P .. 'worker:' .. wid .. ':leases'
    for _, id in ipairs(redis.call('SMEMBERS', set)) do
      local lease = P .. 'lease:' .. id
      local l = redis.call('HMGET', lease, 'queue', 'score', 'data')
      if l[3] then redis.call('ZADD', l[1], l[2], l[3]); moved = moved + 1 end
      redis.call('DEL', lease)
      redis.call('SREM', P .. 'inflight', id)
    end
    redis.call('DEL', set)
    redis.call('SREM', P .. 'workers', wid)
  end
end
if moved > 0 then redis.call('HINCRBY', P .. 'stats', 'requeued', moved) end
return moved
"""

# ARGV: key prefix. Requests queued in every known queue, and leases held.
_SIZE = """
local P = ARGV[1]
local queued = 0
for _, q in ipairs(redis.call('SMEMBERS', P .. 'queues')) do
  queued = queued + redis.call('ZCARD', q)
end
return {queued, redis.call('SCARD', P .. 'inflight'), redis.call('SCARD', P .. 'workers')}
"""


def new_worker_id() -> str:
    """host:pid:random — unique across machines and restarts."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Leases:
    """The lease operations of one process (all its crawlers share one worker id)."""

    def __init__(self, server: Any, worker_id: str | None = None) -> None:
        self.server = server
        self.worker_id = worker_id or new_worker_id()
        self.leases_key = keys.worker_leases_key(self.worker_id)
        self._pop = server.register_script(_POP)
        self._release = server.register_script(_RELEASE)
        self._reap = server.register_script(_REAP)
        self._size = server.register_script(_SIZE)
        self._prefix = keys.PREFIX + ":"

    def pop(self, queue_key: str) -> tuple[str, bytes] | None:
        """Take the first request of a queue under a new lease: (lease id, request data)."""
        found = self._pop(keys=[queue_key, self.leases_key], args=[self.worker_id, self._prefix])
        if not found:
            return None
        lease_id, data = found
        return lease_id.decode() if isinstance(lease_id, bytes) else str(lease_id), data

    def ack(self, lease_ids: list[str]) -> None:
        """The requests are done: drop their leases."""
        if lease_ids:
            self._release(keys=[self.leases_key], args=[self._prefix, "0", *lease_ids])

    def requeue(self, lease_ids: list[str]) -> int:
        """Put leased requests back into their queues (a worker stopping before they are done)."""
        if not lease_ids:
            return 0
        return int(self._release(keys=[self.leases_key], args=[self._prefix, "1", *lease_ids]))

    def reap(self) -> int:
        """Requeue the leases of every worker whose heartbeat expired; returns how many."""
        moved = int(self._reap(args=[self._prefix]))
        if moved:
            logger.warning("requeued %d requests of workers that stopped answering", moved)
        return moved

    def frontier(self) -> tuple[int, int, int]:
        """(requests queued, requests leased, workers registered) across the cluster."""
        queued, leased, workers = self._size(args=[self._prefix])
        return int(queued), int(leased), int(workers)

    def beat(self, ttl: float) -> None:
        """Say this worker is alive for `ttl` more seconds."""
        pipe = self.server.pipeline()
        pipe.sadd(keys.WORKERS, self.worker_id)
        pipe.set(keys.worker_key(self.worker_id), "1", px=max(1, int(ttl * 1000)))
        pipe.execute()

    def retire(self) -> None:
        """This worker stops: requeue what it still holds, forget its heartbeat."""
        held = [x.decode() for x in self.server.smembers(self.leases_key)]
        if held:
            self.requeue(held)
        pipe = self.server.pipeline()
        pipe.delete(keys.worker_key(self.worker_id), self.leases_key)
        pipe.srem(keys.WORKERS, self.worker_id)
        pipe.execute()


class Heartbeat:
    """A daemon thread that refreshes a worker's heartbeat every ttl/3 seconds.

    A thread and not the reactor: a page that keeps the reactor busy for a while (a huge
    document in extraction) does not make the worker look dead. A dead process stops the
    thread with it, and its heartbeat expires after `ttl`.
    """

    def __init__(self, leases: Leases, ttl: float) -> None:
        self.leases = leases
        self.ttl = ttl
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="csrnews-heartbeat", daemon=True)

    def start(self) -> None:
        self.leases.beat(self.ttl)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.ttl / 3):
            try:
                self.leases.beat(self.ttl)
            except Exception as exc:  # Redis away for a moment: try again next beat
                logger.warning("heartbeat to Redis failed: %s", exc)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
