"""The client's address: ``X-Forwarded-For`` only when the peer is a trusted proxy."""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Network, IPv6Network, ip_address

from starlette.requests import HTTPConnection


def _trusted(address: str, proxies: Sequence[IPv4Network | IPv6Network]) -> bool:
    try:
        parsed = ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in proxies)


def client_address(connection: HTTPConnection, proxies: Sequence[IPv4Network | IPv6Network]) -> str:
    """The peer's address, or the nearest untrusted hop of ``X-Forwarded-For``.

    Hops are read from the right: each trusted proxy appended the address it
    saw, so the first untrusted one is the client as far as we can know; the
    hops left of it are whatever the client chose to send.
    """
    peer = connection.client.host if connection.client else "unknown"
    if not proxies or not _trusted(peer, proxies):
        return peer
    forwarded = connection.headers.get("x-forwarded-for", "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    for hop in reversed(hops):
        try:
            ip_address(hop)
        except ValueError:
            return peer  # garbage from the outside: fall back to the proxy itself
        if not _trusted(hop, proxies):
            return hop
    return hops[0] if hops else peer
