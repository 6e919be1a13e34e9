"""Channel naming rules and the offer checks made before aiortc sees an offer."""

from __future__ import annotations

import pytest

from core.channel.errors import InvalidNameError, SdpError
from core.channel.names import validate_app_id, validate_channel_name, validate_uid
from core.channel.sdp import parse_offer, parse_trickle_fragment


@pytest.mark.parametrize("name", ["a", "x" * 64, "Room 1", "!#$%&()+-:;<=.>?@[]^_{}|~,"])
def test_valid_channel_names(name: str) -> None:
    assert validate_channel_name(name) == name


@pytest.mark.parametrize("name", ["", "x" * 65, "a/b", "é", "a*b", "tab\there", 'quote"'])
def test_invalid_channel_names(name: str) -> None:
    with pytest.raises(InvalidNameError):
        validate_channel_name(name)


def test_uids_and_app_ids() -> None:
    assert validate_uid("1") == 1
    assert validate_uid(2**32 - 1) == 2**32 - 1
    for bad in ("0", "-1", "+5", " 5", "1e3", str(2**32), 0):
        with pytest.raises(InvalidNameError):
            validate_uid(bad)
    assert validate_app_id("0123456789abcdef0123456789ABCDEF")
    with pytest.raises(InvalidNameError):
        validate_app_id("xyz")


def offer(*sections: str) -> str:
    """An offer of ``sections``, each named by its index (``a=mid``, which WHIP needs)."""
    head = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
    return head + "".join(f"{section}a=mid:{i}\r\n" for i, section in enumerate(sections))


AUDIO = "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=sendonly\r\na=rtpmap:111 opus/48000/2\r\n"
VIDEO = "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\na=rtpmap:96 VP8/90000\r\na=rtpmap:97 rtx/90000\r\n"
H264 = "m=video 9 UDP/TLS/RTP/SAVPF 102\r\na=sendonly\r\na=rtpmap:102 H264/90000\r\n"


def test_offer_summary() -> None:
    summary = parse_offer(offer(AUDIO, VIDEO, H264))
    assert summary.sends_audio and summary.sends_video
    assert [s.kind for s in summary.sending("video")] == ["video", "video"]
    assert summary.sections[1].codecs == ["vp8", "rtx"]
    assert not summary.bundled
    bundled = offer(AUDIO, VIDEO).replace("t=0 0\r\n", "t=0 0\r\na=group:BUNDLE 0 1\r\n")
    assert parse_offer(bundled).bundled


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("hello", "not an SDP"),
        (offer(), "no audio or video"),
        (offer(AUDIO.replace("sendonly", "recvonly")), "no audio or video"),
        (offer(AUDIO.replace("opus", "PCMU")), "no common audio codec"),
        (offer(VIDEO.replace("VP8", "AV1")), "no common video codec"),
        (offer(AUDIO, AUDIO), "at most 1"),
        (offer(VIDEO, VIDEO, VIDEO), "at most 2"),
        (offer("m=video\r\n"), "malformed"),
    ],
)
def test_unusable_offers(text: str, words: str) -> None:
    with pytest.raises(SdpError, match=words):
        parse_offer(text)


def test_trickle_fragment() -> None:
    fragment = parse_trickle_fragment(
        "a=ice-ufrag:u\r\na=ice-pwd:p\r\nm=audio 9 RTP/AVP 0\r\na=mid:0\r\n"
        "a=candidate:1 1 udp 1 127.0.0.1 5000 typ host\r\nm=video 9 RTP/AVP 0\r\na=mid:1\r\n"
        "a=candidate:2 1 udp 1 127.0.0.1 5002 typ host\r\na=end-of-candidates\r\n"
    )
    assert (fragment.ice_ufrag, fragment.ice_pwd, fragment.end_of_candidates) == ("u", "p", True)
    assert [(mid, index) for mid, index, _ in fragment.candidates] == [("0", 0), ("1", 1)]
