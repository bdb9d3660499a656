"""Tests of the distributed crawl against a real redis-server on loopback."""
