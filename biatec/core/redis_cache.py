"""Django's Redis cache backend with one `redis.Redis` client per connection pool.

`django.core.cache.backends.redis.RedisCacheClient.get_client` builds a new `redis.Redis` for every
cache call; each one fills a table of ~170 response callbacks, which was 13% of the CPU of a status
read (four cache calls: the auth state and the plan rate). A `redis.Redis` is only a thread-safe
front of its pool, so one per pool does the same work: the pools (and so the connections, their
fork handling and timeouts) are Django's own, unchanged. Every Redis alias in the settings uses it."""
from __future__ import annotations

from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class _PooledClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        django: Any = self  # the attributes below are Django's own, private (not in django-stubs)
        index = django._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            if index not in django._pools:
                django._pools[index] = django._pool_class.from_url(django._servers[index], **django._pool_options)
            # A race of two threads builds two clients of the same pool; either is right.
            client = self._clients.setdefault(index, django._client(connection_pool=django._pools[index]))
        return client


class PooledClientRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _PooledClient
