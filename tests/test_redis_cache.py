"""The Redis cache backend (portal/redis_cache.py): Django's, with one redis-py client per
pool reused by every call, and it still fails as Django's does when Redis is away."""
from __future__ import annotations

import os
import threading

import pytest
import redis
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache

from portal.redis_cache import RedisCache

REDIS_URL = os.environ.get("REDIS_URL", "")
pytestmark = pytest.mark.skipif(not REDIS_URL.startswith("redis"), reason="needs REDIS_URL")


def backend(location: str = REDIS_URL, **options) -> RedisCache:
    return RedisCache(location, {"KEY_PREFIX": "test-redis-cache", "OPTIONS": options})


def test_settings_use_it_and_it_is_still_a_django_redis_cache():
    assert isinstance(caches["default"], RedisCache)
    assert isinstance(caches["default"], DjangoRedisCache)  # what the throttle checks


def test_every_call_reuses_one_client_and_values_round_trip():
    cache = backend()
    built = []
    real = cache._cache._client
    cache._cache._client = lambda **kw: built.append(kw) or real(**kw)
    cache.set("k", {"a": [1, 2]}, 30)
    assert cache.get("k") == {"a": [1, 2]}
    assert cache.add("k2", 5, 30) and cache.incr("k2") == 6
    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.get("k")))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [{"a": [1, 2]}] * 4
    assert len(built) == 1
    assert cache._cache.get_client(write=True) is cache._cache.get_client()
    cache.delete_many(["k", "k2"])


def test_an_unreachable_redis_raises_as_djangos_backend_does():
    cache = backend("redis://127.0.0.1:1/0", socket_connect_timeout=1, socket_timeout=1)
    for _ in range(2):  # the reused client reconnects (and fails) on every call
        with pytest.raises(redis.ConnectionError):
            cache.get("k")

