"""The Redis keys of a distributed crawl, all under one prefix (one crawl per Redis database)."""

from __future__ import annotations

PREFIX = "csrnews"

# scrapy-redis's own: one request queue (a sorted set) and one duplicate filter per spider.
# A spider is one source ("feed:<name>", "listing:<name>", "sitemap:<name>").
SCHEDULER_QUEUE_KEY = PREFIX + ":%(spider)s:requests"
SCHEDULER_DUPEFILTER_KEY = PREFIX + ":%(spider)s:dupefilter"
QUEUES = f"{PREFIX}:queues"  # the queue keys in use (a set), to measure the frontier

# Leases: a request popped by a worker is held here until it is done, then acknowledged.
LEASE_SEQ = f"{PREFIX}:lease:seq"
LEASE_PREFIX = f"{PREFIX}:lease:"  # + id: hash {queue, score, data, worker}
INFLIGHT = f"{PREFIX}:inflight"  # every lease id held (a set)
WORKERS = f"{PREFIX}:workers"  # worker ids that may hold leases (a set)
WORKER_PREFIX = f"{PREFIX}:worker:"  # + id: heartbeat (expires); + id + ":leases": lease ids

# Items: workers push, the single writer moves each into `processing`, writes, acknowledges.
ITEMS = f"{PREFIX}:items"
PROCESSING = f"{PREFIX}:items:processing"
REJECTED = f"{PREFIX}:items:rejected"  # records the writer could not read, kept for a person

# What the writer's crawl state knows, for the workers' conditional and incremental fetches.
STATE_DOCS = f"{PREFIX}:state:docs"  # index document URL -> [etag, last_modified, children]
STATE_STORIES = f"{PREFIX}:state:stories"  # story URL key -> entry hash record
STATE_GONE = f"{PREFIX}:state:gone"  # story URL key -> [entry_hash, seen]

# Politeness across workers.
ROBOTS_PREFIX = f"{PREFIX}:robots:"  # + scheme://host:port: the robots.txt body of this round
HOST_PREFIX = f"{PREFIX}:host:"  # + host:port: when the next request to it may start (ms)

ROUND_PREFIX = f"{PREFIX}:round:"  # + source name: stories requested this round (max_pages)
STATS = f"{PREFIX}:stats"  # counters: requeued, seeded, rejected


def worker_key(worker_id: str) -> str:
    """The heartbeat key of a worker (it expires when the worker stops refreshing it)."""
    return f"{WORKER_PREFIX}{worker_id}"


def worker_leases_key(worker_id: str) -> str:
    """The set of lease ids a worker holds."""
    return f"{WORKER_PREFIX}{worker_id}:leases"


def queue_key(spider_name: str) -> str:
    """The request queue of one spider (as scrapy-redis names it)."""
    return SCHEDULER_QUEUE_KEY % {"spider": spider_name}


def dupefilter_key(spider_name: str) -> str:
    """The duplicate filter of one spider (as scrapy-redis names it)."""
    return SCHEDULER_DUPEFILTER_KEY % {"spider": spider_name}
