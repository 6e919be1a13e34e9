"""What the channel needs to know about an SDP offer before aiortc sees it.

aiortc parses SDP leniently and its errors name aiortc internals, so the WHIP
endpoint checks an offer here first and answers 400 with a message a publisher can
act on: the body is SDP, it sends audio and/or video, and each sending section
offers a codec the channel decodes (Opus; VP8 or H.264).

A publisher's media sections are read in order: the first audio section is its
microphone, the first video section its HIGH stream, the second video section its
LOW (dual) stream. More sending sections than that are refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.channel.errors import SdpError

AUDIO_CODECS = frozenset({"opus"})
VIDEO_CODECS = frozenset({"vp8", "h264"})
MAX_AUDIO_SECTIONS = 1
MAX_VIDEO_SECTIONS = 2
_SENDING = frozenset({"sendrecv", "sendonly"})


@dataclass
class MediaSection:
    """One ``m=`` section of an offer."""

    kind: str
    port: int
    direction: str = "sendrecv"
    codecs: list[str] = field(default_factory=list)  # lower-case encoding names

    @property
    def sends(self) -> bool:
        """Whether the offerer sends media in this section."""
        return self.port != 0 and self.direction in _SENDING


@dataclass
class OfferSummary:
    """The media sections of an offer, in order."""

    sections: list[MediaSection]
    bundled: bool = False
    """Whether the offer bundles its media sections (``a=group:BUNDLE``)."""

    def sending(self, kind: str) -> list[MediaSection]:
        """The sections of ``kind`` ("audio"/"video") in which the offerer sends."""
        return [s for s in self.sections if s.kind == kind and s.sends]

    @property
    def sends_audio(self) -> bool:
        return bool(self.sending("audio"))

    @property
    def sends_video(self) -> bool:
        return bool(self.sending("video"))


def parse_offer(text: str) -> OfferSummary:
    """Check a WHIP offer and summarise its media sections; raise :class:`SdpError`."""
    lines = [line.strip() for line in text.strip().splitlines()]
    if not lines or lines[0] != "v=0":
        raise SdpError("the body is not an SDP offer (it must start with 'v=0')")
    sections: list[MediaSection] = []
    bundled = False
    for line in lines[1:]:
        if line.startswith("a=group:BUNDLE ") and not sections:
            bundled = True
        elif line.startswith("m="):
            sections.append(_parse_m_line(line))
        elif sections and line.startswith("a="):
            _parse_attribute(sections[-1], line[2:])
    summary = OfferSummary(sections, bundled)
    _check_sections(summary)
    return summary


def _parse_m_line(line: str) -> MediaSection:
    parts = line[2:].split()
    if len(parts) < 3 or not parts[1].split("/")[0].isdigit():
        raise SdpError(f"malformed media line {line!r}")
    return MediaSection(kind=parts[0], port=int(parts[1].split("/")[0]))


def _parse_attribute(section: MediaSection, attribute: str) -> None:
    if attribute in {"sendrecv", "sendonly", "recvonly", "inactive"}:
        section.direction = attribute
    elif attribute.startswith("rtpmap:"):
        try:
            encoding = attribute.split(None, 1)[1]
        except IndexError:
            raise SdpError(f"malformed attribute 'a={attribute}'") from None
        section.codecs.append(encoding.split("/")[0].lower())


def _check_sections(summary: OfferSummary) -> None:
    audio, video = summary.sending("audio"), summary.sending("video")
    if not audio and not video:
        raise SdpError("the offer sends no audio or video (no sendonly/sendrecv m-line)")
    if len(audio) > MAX_AUDIO_SECTIONS:
        raise SdpError(f"the offer sends {len(audio)} audio sections; at most 1 is accepted")
    if len(video) > MAX_VIDEO_SECTIONS:
        raise SdpError(
            f"the offer sends {len(video)} video sections; at most 2 are accepted "
            "(first = high stream, second = low stream)"
        )
    for section, accepted in [(s, AUDIO_CODECS) for s in audio] + [
        (s, VIDEO_CODECS) for s in video
    ]:
        if not accepted & set(section.codecs):
            offered = ", ".join(sorted(set(section.codecs))) or "none"
            raise SdpError(
                f"no common {section.kind} codec: the offer has {offered}; "
                f"the server accepts {', '.join(sorted(accepted))}"
            )


@dataclass
class TrickleFragment:
    """An ``application/trickle-ice-sdpfrag`` body (RFC 8840) of a WHIP PATCH."""

    ice_ufrag: str | None
    ice_pwd: str | None
    candidates: list[tuple[str | None, int, str]]  # (mid, m-line index, candidate)
    end_of_candidates: bool


def parse_trickle_fragment(text: str) -> TrickleFragment:
    """Parse the candidates (and credentials) of a trickle ICE fragment."""
    ufrag = pwd = mid = None
    index = -1
    candidates: list[tuple[str | None, int, str]] = []
    end = False
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("m="):
            index += 1
            mid = None
        elif line.startswith("a=mid:"):
            mid = line[6:]
        elif line.startswith("a=ice-ufrag:"):
            ufrag = line[12:]
        elif line.startswith("a=ice-pwd:"):
            pwd = line[10:]
        elif line.startswith("a=candidate:"):
            candidates.append((mid, max(index, 0), line[12:]))
        elif line == "a=end-of-candidates":
            end = True
    return TrickleFragment(ufrag, pwd, candidates, end)
