"""The network impairment relay (core/participants/netem.py) over real UDP sockets on
127.0.0.1: an echo server behind it, numbered datagrams through it, and what arrives
measured against what each impairment promises."""

from __future__ import annotations

import asyncio
import itertools
import statistics
import struct
import time
from typing import Any

import pytest

from core.participants.netem import Impairment, UdpRelay

Address = tuple[str, int]


class Echo(asyncio.DatagramProtocol):
    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: Address) -> None:
        self.transport.sendto(data, addr)


class Client(asyncio.DatagramProtocol):
    """Sends numbered datagrams, notes when each echo came back."""

    def __init__(self) -> None:
        self.sent: dict[int, float] = {}
        self.got: list[tuple[int, float]] = []

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: Address) -> None:
        number = struct.unpack("!I", data[:4])[0]
        self.got.append((number, time.monotonic() - self.sent[number]))

    def send(self, number: int, size: int = 200) -> None:
        self.sent[number] = time.monotonic()
        self.transport.sendto(struct.pack("!I", number) + bytes(size - 4))


async def relayed(seed: int = 7) -> tuple[UdpRelay, Client, list[Any]]:
    loop = asyncio.get_running_loop()
    echo, _ = await loop.create_datagram_endpoint(Echo, local_addr=("127.0.0.1", 0))
    relay = UdpRelay(echo.get_extra_info("sockname")[:2], seed=seed)
    address = await relay.start()
    client_transport, client = await loop.create_datagram_endpoint(Client, remote_addr=address)
    return relay, client, [echo, client_transport]


async def send_paced(client: Client, count: int, interval: float, start: int = 0) -> None:
    for n in range(start, start + count):
        client.send(n)
        await asyncio.sleep(interval)
    await asyncio.sleep(0.3)  # the last ones' way back


async def test_a_perfect_relay_passes_everything_in_order() -> None:
    relay, client, closers = await relayed()
    try:
        await send_paced(client, 200, 0.001)
        assert [n for n, _ in client.got] == list(range(200))
        assert relay.uplink.sent == relay.downlink.sent == 200
    finally:
        relay.close()
        for c in closers:
            c.close()


async def test_random_loss_and_bursts_drop_what_they_promise() -> None:
    """5 % loss each way loses about 1 - 0.95^2 = 9.75 % of round trips (within 3 sigma
    of 2000); a burst model with mean length 10 loses runs of consecutive packets."""
    relay, client, closers = await relayed()
    try:
        relay.impair(uplink=Impairment(loss=0.05), downlink=Impairment(loss=0.05))
        await send_paced(client, 2000, 0.0005)
        lost = 1 - len(client.got) / 2000
        sigma = (0.0975 * 0.9025 / 2000) ** 0.5
        assert abs(lost - 0.0975) < 3 * sigma, lost
        assert relay.uplink.dropped + relay.downlink.dropped == 2000 - len(client.got)

        client.got.clear()
        relay.impair(uplink=Impairment(burst_enter=0.01, burst_exit=0.1), downlink=Impairment())
        await send_paced(client, 2000, 0.0005, start=10_000)
        got = {n for n, _ in client.got}
        runs, current = [], 0
        for n in range(10_000, 12_000):
            if n in got:
                if current:
                    runs.append(current)
                current = 0
            else:
                current += 1
        assert runs and statistics.mean(runs) > 4, runs  # bursts, not single losses
    finally:
        relay.close()
        for c in closers:
            c.close()


async def test_delay_jitter_reordering_and_duplication() -> None:
    """50 ms each way with ±20 ms jitter: round trips of 60-140 ms, about 100 ms on
    average, and packets 2 ms apart overtake each other; 10 % duplication each way."""
    relay, client, closers = await relayed()
    try:
        slow = Impairment(delay=0.05, jitter=0.02)
        relay.impair(uplink=slow, downlink=slow)
        await send_paced(client, 300, 0.002)
        trips = [t for _, t in client.got]
        assert len(trips) == 300
        assert min(trips) > 0.055 and max(trips) < 0.16, (min(trips), max(trips))
        assert 0.09 < statistics.mean(trips) < 0.11
        order = [n for n, _ in client.got]
        assert order != sorted(order)  # reordered

        client.got.clear()
        twice = Impairment(duplicate=0.1)
        relay.impair(uplink=twice, downlink=twice)
        await send_paced(client, 1000, 0.0005, start=5000)
        extra = len(client.got) - 1000
        assert 150 < extra < 280, extra  # about 1.1^2 - 1 = 21 % more
    finally:
        relay.close()
        for c in closers:
            c.close()


async def test_a_bandwidth_cap_paces_and_tail_drops() -> None:
    """A 400 kbps cap on the uplink, 200-byte packets offered at 1000 a second for 0.4 s:
    they leave 250 a second (arrivals spaced by 4 ms), none waits more than the 0.5 s
    queue, and those that would are dropped; every packet is accounted for."""
    relay, client, closers = await relayed()
    try:
        relay.impair(uplink=Impairment(rate_kbps=400, queue_seconds=0.5))
        for n in range(400):
            client.send(n)
            await asyncio.sleep(0.001)
        await asyncio.sleep(1.0)
        arrived = sorted(client.sent[n] + t for n, t in client.got)
        assert len(arrived) + relay.uplink.dropped == 400
        assert relay.uplink.dropped > 100  # the queue overflowed
        gaps = [b - a for a, b in itertools.pairwise(arrived)]
        assert abs(statistics.median(gaps) - 0.004) < 0.0005, statistics.median(gaps)
        assert max(t for _, t in client.got) < 0.55  # the queue's limit, and the way back
    finally:
        relay.close()
        for c in closers:
            c.close()


def test_an_impairment_names_a_wrong_value() -> None:
    with pytest.raises(ValueError, match="loss must be a probability"):
        Impairment(loss=1.5)
    with pytest.raises(ValueError, match="rate_kbps"):
        Impairment(rate_kbps=0)


def test_the_answers_candidates_point_at_the_relay() -> None:
    relay = UdpRelay(("127.0.0.1", 40000))
    relay._listener = type("T", (), {"get_extra_info": lambda self, name: ("127.0.0.1", 50000)})()  # type: ignore[assignment]
    sdp = (
        "a=candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host\r\n"
        "a=candidate:2 1 udp 2130706431 127.0.0.1 40001 typ host\r\n"
    )
    assert relay.rewrite_answer(sdp) == (
        "a=candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host\r\n"
        "a=candidate:2 1 udp 2130706431 127.0.0.1 40001 typ host\r\n"
    )


async def test_a_publisher_behind_the_relay_reaches_the_channel(channel_server: Any) -> None:
    """A WHIP publisher whose media crosses the relay (its answer's candidate rewritten):
    a subscriber gets its pictures through a perfect relay, and still does with 10 %
    loss on the uplink (retransmissions and keyframe requests keep it decoding)."""
    from core.channel.streams import FrameStream
    from core.enums import SANDBOX_APP_ID
    from core.participants.synthetic import identify_uid, is_flash, synthetic_media
    from core.participants.whip_client import publish
    from tests.core.channel.test_channel_media import collect, median_rgb

    relay = UdpRelay(seed=3)
    await relay.start()
    channel = channel_server.registry.channel(SANDBOX_APP_ID, "netem")
    sub = channel.subscribe(9000, audio=False)
    media = synthetic_media(71, size=(320, 240), fps=15, low_stream=False)
    session = await publish(channel_server.whip_url("netem", 71), audio=media.audio,
                            video=media.video, answer_filter=relay.rewrite_answer)  # fmt: skip
    try:
        stream = sub.video(71)
        assert isinstance(stream, FrameStream)
        await asyncio.sleep(2.0)  # the first sender reports
        clean = await collect(stream, 2.0)
        assert relay.uplink.sent > 50 and len(clean) >= 25, len(clean)
        relay.impair(uplink=Impairment(loss=0.10))
        lossy = await collect(stream, 3.0)
        assert relay.uplink.dropped > 10
        assert len(lossy) >= 15, len(lossy)  # pictures go on under loss
        for received in clean + lossy:
            colour = median_rgb(received.frame)  # type: ignore[arg-type]
            assert is_flash(colour) or identify_uid(colour, [71]) == 71, colour
    finally:
        await session.close()
        media.stop()
        await sub.close()
        relay.close()
