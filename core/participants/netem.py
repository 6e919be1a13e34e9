"""A user-space network impairment relay for UDP on 127.0.0.1 (tests and benches).

The kernel's netem is not available on these machines, so media that must cross a bad
network crosses :class:`UdpRelay` instead: a publisher sends to the relay's address (its
WHIP answer's candidates rewritten by :meth:`UdpRelay.rewrite_answer`), the relay sends
on to the channel server from a socket of its own per publisher address, and the
server's packets come back the same way. Each direction applies an :class:`Impairment`,
which can change while a run goes on (:meth:`UdpRelay.impair`):

* **loss**: each packet independently (``loss``), and in bursts: a two-state
  (Gilbert-Elliott) model entering a burst with ``burst_enter`` per packet and leaving
  it with ``burst_exit``, every packet of a burst lost;
* **delay** and **jitter**: each packet waits ``delay`` plus a uniform ``±jitter``, so
  packets closer together than the jitter come out of order (**reordering**), as on a
  real path with several queues;
* **duplication**: a packet sent twice (``duplicate``);
* a **bandwidth cap** (``rate_kbps``): packets leave one after the other at that rate,
  queued behind each other; a packet that would wait more than ``queue_seconds`` is
  dropped (tail drop), as a full router queue drops.

A seeded random generator makes a run repeatable. Counters (:attr:`Direction.sent`,
``dropped``, ``duplicated``) say what was done.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

Address = tuple[str, int]


@dataclass(frozen=True)
class Impairment:
    """What one direction does to its packets (see the module docstring)."""

    loss: float = 0.0
    burst_enter: float = 0.0
    burst_exit: float = 1.0
    delay: float = 0.0
    jitter: float = 0.0
    duplicate: float = 0.0
    rate_kbps: float | None = None
    queue_seconds: float = 1.0

    def __post_init__(self) -> None:
        for name in ("loss", "burst_enter", "burst_exit", "duplicate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be a probability from 0 to 1, not {value}")
        if self.delay < 0 or self.jitter < 0 or self.jitter > self.delay + 1.0:
            raise ValueError("delay and jitter must be >= 0 (jitter at most delay + 1 s)")
        if self.rate_kbps is not None and self.rate_kbps <= 0:
            raise ValueError(f"rate_kbps must be positive, not {self.rate_kbps}")


PERFECT = Impairment()
"""A direction that passes every packet at once."""


class Direction:
    """One direction of the relay: applies its impairment, then sends."""

    def __init__(self, impairment: Impairment, rng: random.Random) -> None:
        self.impairment = impairment
        self._rng = rng
        self._in_burst = False
        self._link_free = 0.0  # monotonic time the capped link is free again
        self.sent = 0
        """Packets passed on (duplicates counted)."""
        self.dropped = 0
        """Packets lost (randomly, in a burst, or from a full queue)."""
        self.duplicated = 0

    def schedule(self, size: int, now: float) -> list[float]:
        """The delays (from ``now``) after which to send a packet of ``size`` bytes:
        none when it is lost, two when it is duplicated."""
        imp, rng = self.impairment, self._rng
        self._in_burst = (
            rng.random() >= imp.burst_exit if self._in_burst else rng.random() < imp.burst_enter
        )
        if self._in_burst or rng.random() < imp.loss:
            self.dropped += 1
            return []
        leave = now
        if imp.rate_kbps is not None:
            start = max(now, self._link_free)
            if start - now > imp.queue_seconds:
                self.dropped += 1
                return []
            self._link_free = start + size * 8 / (imp.rate_kbps * 1000)
            leave = self._link_free
        copies = 2 if rng.random() < imp.duplicate else 1
        self.duplicated += copies - 1
        delays = []
        for _ in range(copies):
            wobble = rng.uniform(-imp.jitter, imp.jitter) if imp.jitter else 0.0
            delays.append(max(0.0, leave - now + imp.delay + wobble))
        return delays


class _Upstream(asyncio.DatagramProtocol):
    """The relay's socket towards the target for one client address."""

    def __init__(self, relay: UdpRelay, client: Address) -> None:
        self.relay = relay
        self.client = client
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: Address) -> None:
        self.relay._forward(self.relay.downlink, data, self.relay._send_to_client, self.client)


class _Listener(asyncio.DatagramProtocol):
    def __init__(self, relay: UdpRelay) -> None:
        self.relay = relay

    def datagram_received(self, data: bytes, addr: Address) -> None:
        self.relay._from_client(data, addr)


class UdpRelay:
    """Relays UDP between clients and ``target`` through two impaired directions:
    :attr:`uplink` (client to target) and :attr:`downlink` (target to client)."""

    def __init__(self, target: Address | None = None, *, seed: int = 1) -> None:
        self.target = target
        """Where client packets go; ``None`` until :meth:`rewrite_answer` took it from
        the server's answer."""
        self._rng = random.Random(seed)
        self.uplink = Direction(PERFECT, self._rng)
        self.downlink = Direction(PERFECT, self._rng)
        self._listener: asyncio.DatagramTransport | None = None
        self._upstreams: dict[Address, _Upstream] = {}
        self._pending: dict[Address, list[bytes]] = {}
        self._closed = False

    @property
    def address(self) -> Address:
        """Where clients send to (after :meth:`start`)."""
        assert self._listener is not None
        host, port = self._listener.get_extra_info("sockname")[:2]
        return str(host), int(port)

    async def start(self) -> Address:
        """Listen on 127.0.0.1 (a free port); the address."""
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _Listener(self), local_addr=("127.0.0.1", 0)
        )
        self._listener = transport
        return self.address

    def impair(
        self, *, uplink: Impairment | None = None, downlink: Impairment | None = None
    ) -> None:
        """Change what a direction does, from the next packet on."""
        if uplink is not None:
            self.uplink.impairment = uplink
        if downlink is not None:
            self.downlink.impairment = downlink

    def rewrite_answer(self, sdp: str) -> str:
        """``sdp`` (the server's answer) with its candidates for :attr:`target` (without
        one: its first UDP candidate's) pointing at the relay, so that the client's
        media goes through it."""
        if self.target is None:
            first = re.search(r"a=candidate:\S+ \d+ udp \d+ (\S+) (\d+) ", sdp, re.I)
            if first is None:
                raise ValueError("the answer has no UDP candidate to relay")
            self.target = (first.group(1), int(first.group(2)))
        host, port = self.target
        relay_host, relay_port = self.address
        pattern = re.compile(rf"(a=candidate:\S+ \d+ udp \d+ ){re.escape(host)} {port} ", re.I)
        return pattern.sub(rf"\g<1>{relay_host} {relay_port} ", sdp)

    def close(self) -> None:
        self._closed = True
        if self._listener is not None:
            self._listener.close()
        for upstream in self._upstreams.values():
            if upstream.transport is not None:
                upstream.transport.close()

    # --- relaying -------------------------------------------------------------------

    def _from_client(self, data: bytes, client: Address) -> None:
        upstream = self._upstreams.get(client)
        if upstream is None:
            upstream = self._upstreams[client] = _Upstream(self, client)
            self._pending[client] = [data]
            asyncio.get_running_loop().create_task(self._connect(upstream))
            return
        if upstream.transport is None:
            self._pending[client].append(data)
            return
        self._forward(self.uplink, data, self._send_to_target, client)

    async def _connect(self, upstream: _Upstream) -> None:
        assert self.target is not None, "no target yet: rewrite the answer first"
        loop = asyncio.get_running_loop()
        await loop.create_datagram_endpoint(
            lambda: upstream, local_addr=("127.0.0.1", 0), remote_addr=self.target
        )
        for data in self._pending.pop(upstream.client, []):
            self._forward(self.uplink, data, self._send_to_target, upstream.client)

    def _forward(
        self,
        direction: Direction,
        data: bytes,
        send: Callable[[bytes, Address], None],
        client: Address,
    ) -> None:
        if self._closed:
            return
        loop = asyncio.get_running_loop()
        for delay in direction.schedule(len(data), time.monotonic()):
            direction.sent += 1
            if delay <= 0:
                send(data, client)
            else:
                loop.call_later(delay, send, data, client)

    def _send_to_target(self, data: bytes, client: Address) -> None:
        upstream = self._upstreams.get(client)
        if not self._closed and upstream is not None and upstream.transport is not None:
            upstream.transport.sendto(data)

    def _send_to_client(self, data: bytes, client: Address) -> None:
        if not self._closed and self._listener is not None:
            self._listener.sendto(data, client)
