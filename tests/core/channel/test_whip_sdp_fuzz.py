"""A fuzz of WHIP's SDP offers: mutations of a real aiortc offer never answer 5xx.

The seed is an offer aiortc makes for audio and video. Hypothesis mutates it as a list
of lines: lines dropped, duplicated, moved; fields replaced with values at the edges
(ports 0, 65536, 2^64, '²', payload types 128 or -1, empty or huge values); odd lines
added (m-lines with unknown media, transports and codecs, huge attribute values,
candidates, fingerprints, BUNDLE groups naming nothing); bytes that are not UTF-8,
NULs and lone CRs; other line endings; the body cut anywhere. Each is POSTed to the
channel's WHIP endpoint of a real server (uvicorn on 127.0.0.1 in a thread of its own,
WHIP's rate limit raised so that the fuzz's pace is not refused), each request under an
httpx timeout, so a hang fails.

Every answer is 201 or 4xx in WHIP's documented shape (readable plain text, one line
at least, no traceback; ``docs/channel.md``). A 201 carries an SDP answer and a
Location, and the session is deleted at once (200), so nothing is left behind. After
the fuzz a valid offer is still answered 201, and the channel is empty.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiortc import RTCPeerConnection
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from core.channel.ice import rtc_configuration
from core.enums import SANDBOX_APP_ID
from core.server.app import ServerSettings, create_app
from tests.helpers import serve_in_thread

CHANNEL = "sdp-fuzz"
SDP = {"Content-Type": "application/sdp"}
TIMEOUT = 20.0
"""Seconds any request may take: a hang fails."""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    """The server's base URL and app. The fuzz opens sessions faster than WHIP's default
    rate (10 a second, bursts of 64): its limits are raised here, not its checks."""
    data = Path(tmp_path_factory.mktemp("sdp-fuzz"))
    settings_ = ServerSettings(data_dir=data, whip_rate=10_000.0, whip_burst=10_000)
    app = create_app(settings_)
    with serve_in_thread(app) as url:
        yield url, app


async def _offer() -> str:
    pc = RTCPeerConnection(rtc_configuration())
    try:
        pc.addTransceiver("audio", direction="sendonly")
        pc.addTransceiver("video", direction="sendonly")
        await pc.setLocalDescription(await pc.createOffer())
        return str(pc.localDescription.sdp)
    finally:
        await pc.close()


@pytest.fixture(scope="module")
def seed() -> list[bytes]:
    """A real aiortc offer sending audio and video, as lines without their endings."""
    return asyncio.run(_offer()).encode().split(b"\r\n")


EDGE_FIELDS = [
    b"", b"0", b"-1", b"1", b"65535", b"65536", b"18446744073709551616", b"9" * 400,
    "\u00b2".encode(), b"1.5", b"0x10", b"NaN", b"127", b"128", b"255", b"x" * 70_000,
    b"\xff\xfe", b"\x00", b"UDP/TLS/RTP/SAVPF", b"RTP/AVP", b"TCP/DTLS/SCTP", b"*",
    b"IN", b"IP6", b"::1", b"999.1.1.1", b"opus/48000/2", b"VP8/90000", b"H264/90000",
    b"AV1/90000", b"rtx/90000", b"opus", b"/", b"//", b":", b"sha-256", b"sendonly",
]  # fmt: skip
"""Values a field of a line (split at spaces, ``:``, ``/`` and ``=``) is replaced with."""

ODD_LINES = [
    b"m=audio 0 UDP/TLS/RTP/SAVPF 111",
    b"m=video 9 UDP/TLS/RTP/SAVPF 96 97 98 99 100 101 102 103 104 105 106 107 108 109",
    b"m=application 9 UDP/DTLS/SCTP webrtc-datachannel",
    b"m=text 9 RTP/AVP 0",
    b"m=audio 65536 UDP/TLS/RTP/SAVPF 111",
    b"m=video \xc2\xb2 UDP/TLS/RTP/SAVPF 96",
    b"m=video 9/2 UDP/TLS/RTP/SAVPF 96",
    b"m=audio 9 UDP/TLS/RTP/SAVPF",
    b"m=audio 9 RTP/AVP 300 -1 x",
    b"m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 AV1/90000\r\na=sendonly\r\na=mid:9",
    b"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\na=sendonly",
    b"a=rtpmap:96 VP8",
    b"a=rtpmap:96",
    b"a=rtpmap:",
    b"a=rtpmap:x y/z/w/v",
    b"a=rtpmap:4294967296 opus/48000/2",
    b"a=rtpmap:111 opus/0/0",
    b"a=rtpmap:111 opus/-48000/999999999999",
    b"a=fmtp:96 " + b"x=1;" * 20_000,
    b"a=fmtp:97 apt=97",
    b"a=fmtp:98 apt=4294967296",
    b"a=rtcp-fb:96 " + b"nack " * 5000,
    b"a=extmap:0 urn:ietf:params:rtp-hdrext:sdes:mid",
    b"a=extmap:15 urn:ietf:params:rtp-hdrext:sdes:mid",
    b"a=extmap:99999 urn:x",
    b"a=extmap:1/sendrecv",
    b"a=ssrc:4294967296 cname:x",
    b"a=ssrc:-1 cname:x",
    b"a=ssrc:1",
    b"a=ssrc-group:FID 1",
    b"a=ssrc-group:FID",
    b"a=ssrc-group:SIM 1 2 3",
    b"a=msid:" + b"a" * 100_000,
    b"a=mid:",
    b"a=mid:" + b"m" * 1000,
    b"a=group:BUNDLE",
    b"a=group:BUNDLE 7 8 9",
    b"a=group:BUNDLE 0 0 0",
    b"a=ice-ufrag:",
    b"a=ice-pwd:",
    b"a=ice-ufrag:" + b"u" * 1000,
    b"a=ice-options:trickle",
    b"a=fingerprint:sha-256",
    b"a=fingerprint:md5 00:11",
    b"a=fingerprint:sha-256 ZZ:ZZ",
    b"a=fingerprint:" + b"F" * 10_000,
    b"a=setup:active",
    b"a=setup:passive",
    b"a=setup:holdconn",
    b"a=setup:",
    b"a=candidate:1 1 udp 2130706431 127.0.0.1 99999 typ host",
    b"a=candidate:1 1 udp 1 ::1 9 typ host",
    b"a=candidate:1 1 tcp 1 127.0.0.1 9 typ host tcptype passive",
    b"a=candidate:1 1 udp 1 127.0.0.1 9 typ relay raddr 1.2.3.4 rport 0",
    b"a=candidate:",
    b"a=candidate:x",
    b"a=end-of-candidates",
    b"a=rtcp:0",
    b"a=rtcp:65536 IN IP4 0.0.0.0",
    b"a=rtcp-mux",
    b"a=rtcp-rsize",
    b"a=sctp-port:5000",
    b"a=max-message-size:18446744073709551616",
    b"a=simulcast:send 0;1",
    b"a=rid:0 send",
    b"a=recvonly",
    b"a=inactive",
    b"a=sendrecv",
    b"a=sendonly",
    b"c=IN IP4 0.0.0.0",
    b"c=IN IP6 ::",
    b"c=",
    b"b=AS:18446744073709551616",
    b"b=TIAS:-1",
    b"o=- 1 1 IN IP4",
    b"s=",
    b"t=x y",
    b"v=1",
    b"v=0",
    b"x=unknown",
    b"a=" + b"z" * 200_000,
    b"\xff\xfe\xfd",
    b"a=tool:\xe9t\xe9",
    b"a=mid:\x00",
    b"\x00",
    b"",
    b" ",
    b"=",
    b"a",
]
"""Lines inserted anywhere."""


@st.composite
def mutated(draw: st.DrawFn, seed: list[bytes]) -> bytes:
    """``seed`` after one to four mutations, joined with a drawn line ending."""
    lines = list(seed)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["drop", "duplicate", "move", "field", "insert",
                                     "insert", "field", "bytes"]))  # fmt: skip
        at = draw(st.integers(0, 10_000)) % max(1, len(lines))
        if not lines:
            lines.append(draw(st.sampled_from(ODD_LINES)))
        elif kind == "drop":
            del lines[at]
        elif kind == "duplicate":
            lines[at:at] = [lines[at]] * draw(st.integers(1, 3))
        elif kind == "move":
            line = lines.pop(at)
            lines.insert(draw(st.integers(0, 10_000)) % (len(lines) + 1), line)
        elif kind == "field":
            lines[at] = _replace_field(lines[at], draw(st.integers(0, 100)),
                                       draw(st.sampled_from(EDGE_FIELDS)))  # fmt: skip
        elif kind == "insert":
            lines.insert(at, draw(st.sampled_from(ODD_LINES)))
        else:  # bytes that are not UTF-8, a NUL or a lone CR inside a line
            index = draw(st.integers(0, 10_000)) % (len(lines[at]) + 1)
            junk = draw(st.sampled_from([b"\xff", b"\xc3", b"\x00", b"\r", b"\xed\xa0\x80"]))
            lines[at] = lines[at][:index] + junk + lines[at][index:]
    ending = draw(st.sampled_from([b"\r\n", b"\r\n", b"\n", b"\r", b"\r\n\r\n"]))
    body = ending.join(lines)
    if draw(st.integers(0, 9)) == 0:  # cut anywhere
        body = body[: draw(st.integers(0, 10_000)) % (len(body) + 1)]
    return body


def _replace_field(line: bytes, which: int, value: bytes) -> bytes:
    """``line`` with its field number ``which`` (modulo their count; fields are split at
    spaces, ``:``, ``/`` and ``=``) replaced with ``value``."""
    fields: list[bytes] = []
    separators: list[bytes] = []
    current = b""
    for byte in line:
        char = bytes([byte])
        if char in b" :/=":
            fields.append(current)
            separators.append(char)
            current = b""
        else:
            current += char
    fields.append(current)
    fields[which % len(fields)] = value
    out = fields[0]
    for separator, field in zip(separators, fields[1:], strict=True):
        out += separator + field
    return out


class Fuzz:
    """The HTTP client and what the fuzz saw."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.Client(timeout=TIMEOUT)
        self.statuses: Counter[int] = Counter()
        self.uid = 0

    def publish(self, offer: bytes) -> httpx.Response:
        """POST ``offer`` as a new uid; check the answer; delete a session it made."""
        self.uid += 1
        endpoint = f"{self.url}/whip/{SANDBOX_APP_ID}/{CHANNEL}/{self.uid}"
        try:
            response = self.http.post(endpoint, content=offer, headers=SDP)
        except httpx.TimeoutException:
            raise AssertionError(f"no answer within {TIMEOUT} s to {offer[:300]!r}") from None
        self.statuses[response.status_code] += 1
        shown = f"{response.status_code} {response.text[:300]!r} for {offer[:2000]!r}"
        if response.status_code == 201:
            assert response.headers["content-type"].startswith("application/sdp"), shown
            assert response.text.startswith("v=0\r\n"), shown
            left = self.http.delete(self.url + response.headers["location"])
            assert left.status_code == 200, (left.status_code, left.text, shown)
        else:
            assert 400 <= response.status_code < 500, shown
            assert response.status_code not in (429, 503), shown  # the limits are raised
            assert response.headers["content-type"].startswith("text/plain"), shown
            text = response.text
            assert text.endswith("\n") and text.strip(), shown
            assert "Traceback" not in text and "Internal Server Error" not in text, shown
        return response


@pytest.mark.slow
def test_mutated_offers_answer_201_or_4xx(server: tuple[str, Any], seed: list[bytes]) -> None:
    url, app = server
    fuzz = Fuzz(url)
    try:
        # the seed itself is accepted
        assert fuzz.publish(b"\r\n".join(seed)).status_code == 201

        @settings(
            max_examples=1000,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate, Phase.shrink],
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(offer=mutated(seed))
        def post(offer: bytes) -> None:
            fuzz.publish(offer)

        post()
        print("status: answers", sorted(fuzz.statuses.items()))  # shown with -s
        # it got past the checks often, and was refused often
        assert fuzz.statuses[201] >= 100 and fuzz.statuses[400] >= 100, fuzz.statuses
        # the server still takes a valid offer, and nothing was left behind
        assert fuzz.publish(b"\r\n".join(seed)).status_code == 201
        roster = fuzz.http.get(f"{url}/channels/{SANDBOX_APP_ID}/{CHANNEL}").json()
        assert roster["users"] == [], roster
        assert app.state.channels.whip_sessions(SANDBOX_APP_ID) == 0
    finally:
        fuzz.http.close()
