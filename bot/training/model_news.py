"""Telling every Rasa replica that the served model changed (Redis pub/sub, when set).

The registry is the truth: each replica polls it (``BOT_MODEL_POLL_S``). With
``REDIS_URL`` set, promotion and rollback also publish the new version on
:data:`CHANNEL`, so replicas act at once instead of at their next poll. A
lost message only delays a replica until that poll.
"""

from __future__ import annotations

import logging

import redis

logger = logging.getLogger(__name__)

CHANNEL = "shop-assistant:served-model"


def announce(redis_url: str | None, version: int) -> None:
    """Publishes ``version`` on :data:`CHANNEL`; a Redis failure is logged, not raised."""
    if not redis_url:
        return
    client = redis.Redis.from_url(redis_url, socket_timeout=5)
    try:
        client.publish(CHANNEL, str(version))
    except redis.RedisError:
        logger.exception("could not announce model version %s; replicas poll the registry", version)
    finally:
        client.close()
