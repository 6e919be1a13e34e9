"""ICE settings shared by every WebRTC peer cloudrec creates.

cloudrec's embedded default and its tests must keep WebRTC traffic on loopback:
no STUN/TURN servers, and host candidates restricted to 127.0.0.1. aiortc does
not expose a candidate-address setting, and aioice deliberately leaves 127.0.0.1
out of its host candidates, so this module replaces aioice's address lookup with
a configurable list. Real deployments set the list (or ``None`` for every
address of the machine) through :func:`configure_host_addresses`.
"""

from __future__ import annotations

from collections.abc import Sequence

import aioice.ice
from aiortc import RTCConfiguration, RTCIceServer

LOOPBACK_ONLY: tuple[str, ...] = ("127.0.0.1",)

_original_get_host_addresses = aioice.ice.get_host_addresses
_host_addresses: tuple[str, ...] | None = LOOPBACK_ONLY
_ice_servers: tuple[str, ...] = ()


def _get_host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
    if _host_addresses is None:
        return list(_original_get_host_addresses(use_ipv4, use_ipv6))
    return [a for a in _host_addresses if (":" in a and use_ipv6) or (":" not in a and use_ipv4)]


aioice.ice.get_host_addresses = _get_host_addresses


def configure_host_addresses(addresses: Sequence[str] | None) -> None:
    """Set the addresses ICE offers as host candidates (``None``: all of the machine's)."""
    global _host_addresses
    _host_addresses = None if addresses is None else tuple(addresses)


def configure_ice_servers(urls: Sequence[str]) -> None:
    """Set STUN/TURN server URLs; empty (the default) keeps traffic off the internet."""
    global _ice_servers
    _ice_servers = tuple(urls)


def host_addresses() -> tuple[str, ...] | None:
    """The configured host candidate addresses (``None`` means every address)."""
    return _host_addresses


def rtc_configuration() -> RTCConfiguration:
    """An aiortc configuration with only the configured ICE servers (none by default)."""
    return RTCConfiguration(iceServers=[RTCIceServer(urls=u) for u in _ice_servers])
