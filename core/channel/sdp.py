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
DIRECTIONS = frozenset({"sendrecv", "sendonly", "recvonly", "inactive"})
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
    mids: list[str] = field(default_factory=list)  # its a=mid values (one, if valid)

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
    bundle: list[str] = field(default_factory=list)
    """The mids its BUNDLE groups name."""

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
    bundle: list[str] = []
    default = _session_direction(lines)
    for line in lines[1:]:
        if line.startswith("a=group:BUNDLE ") and not sections:
            bundled = True
            bundle += line.split()[1:]
        elif line.startswith("m="):
            sections.append(_parse_m_line(line))
            sections[-1].direction = default
        elif sections and line.startswith("a="):
            _parse_attribute(sections[-1], line[2:])
    summary = OfferSummary(sections, bundled, bundle)
    _check_kinds(summary)
    _check_sections(summary)
    _check_mids(summary)
    return summary


def _parse_m_line(line: str) -> MediaSection:
    parts = line[2:].split()
    port = parts[1].split("/")[0] if len(parts) > 1 else ""
    # ASCII digits only: '²'.isdigit() is true, and int() refuses it
    if len(parts) < 3 or not (port.isascii() and port.isdigit()):
        raise SdpError(f"malformed media line {_shown(line, 120)}")
    if len(port) > 5 or int(port) > 65535:
        raise SdpError(
            f"media line {_shown(line, 120)}: port {_shown(port)} is not allowed; "
            "an integer from 0 to 65535"
        )
    return MediaSection(kind=parts[0], port=int(port))


def _session_direction(lines: list[str]) -> str:
    """The direction a media section without its own has (RFC 8866 6.7): the session's
    direction attribute (before the first ``m=``), else sendrecv."""
    for line in lines:
        if line.startswith("m="):
            break
        if line[2:] in DIRECTIONS and line.startswith("a="):
            return line[2:]
    return "sendrecv"


def with_explicit_directions(text: str) -> str:
    """``text`` with a direction attribute in every media section that has none (the
    session's, else sendrecv), as :func:`parse_offer` reads it: aiortc takes a missing
    one for no direction at all, and fails creating the answer."""
    lines = text.splitlines()
    default = _session_direction([line.strip() for line in lines])
    out: list[str] = []
    added = in_section = has_direction = False
    for line in [*lines, "m="]:  # a last "m=" closes the last section
        if line.strip().startswith("m="):
            if in_section and not has_direction:
                out.append(f"a={default}")
                added = True
            in_section, has_direction = True, False
        elif line.strip()[2:] in DIRECTIONS and line.strip().startswith("a="):
            has_direction = True
        out.append(line)
    return "\r\n".join(out[:-1]) + "\r\n" if added else text


def _parse_attribute(section: MediaSection, attribute: str) -> None:
    if attribute in DIRECTIONS:
        section.direction = attribute
    elif attribute.startswith("rtpmap:"):
        try:
            encoding = attribute.split(None, 1)[1]
        except IndexError:
            raise SdpError(f"malformed attribute 'a={attribute}'") from None
        section.codecs.append(encoding.split("/")[0].lower())
    elif attribute.startswith("mid:"):
        section.mids.append(attribute[4:])
    elif attribute.startswith("candidate:"):
        try:
            check_candidate(attribute[10:])
        except ValueError as exc:
            raise SdpError(f"bad candidate {_shown(attribute, 120)}: {exc}") from None


def _shown(text: str, limit: int = 24) -> str:
    """``text`` as a message quotes it: its repr, cut after ``limit`` characters."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}... ({len(text)} characters)"


KINDS = ("audio", "video", "application")
"""Media sections the peer connection can answer (application: a data channel)."""


def _check_kinds(summary: OfferSummary) -> None:
    """aiortc answers any other kind (``text``, ``message``...) as a data channel and
    failed doing so."""
    for number, section in enumerate(summary.sections, 1):
        if section.kind not in KINDS:
            raise SdpError(
                f"media section {number} is {_shown(section.kind)}, a kind this server cannot "
                f"answer; it takes {', '.join(KINDS[:-1])} and {KINDS[-1]} (data channel) sections"
            )


CANDIDATE_NUMBERS = (
    ("component", 1, 1, 256),
    ("priority", 3, 1, 2**31 - 1),
    ("port", 5, 0, 65535),
)
"""Name, position and range (RFC 8839, RFC 8445) of a candidate's numbers."""


def check_candidate(line: str) -> None:
    """A candidate's layout and numbers (``line`` without ``a=candidate:``), checked
    before aiortc parses it: it takes any integer (a port of 99999 failed every packet
    sent to it), and fails on others with a message that names no field. Raises
    ValueError saying what is wrong."""
    bits = line.split()
    if len(bits) < 8 or bits[6] != "typ":
        raise ValueError(
            "expected 'a=candidate:FOUNDATION COMPONENT TRANSPORT PRIORITY ADDRESS PORT typ TYPE'"
        )
    for name, index, low, high in CANDIDATE_NUMBERS:
        text = bits[index]
        if not (text.isascii() and text.isdigit() and len(text) <= 10 and low <= int(text) <= high):
            raise ValueError(
                f"{name} {text[:24]!r} is not allowed; an integer from {low} to {high}"
            )


def _check_mids(summary: OfferSummary) -> None:
    """Each media section names itself once (``a=mid``, RFC 8843) with a mid of its own,
    and a BUNDLE group names only those: an offer that breaks this made the peer
    connection fail answering it (a section without a mid, two with one mid, a group
    naming a mid no section has)."""
    owner: dict[str, int] = {}
    for number, section in enumerate(summary.sections, 1):
        where = f"media section {number} ({_shown(section.kind)})"
        if len(section.mids) != 1 or not section.mids[0]:
            found = (
                "none"
                if not section.mids
                else f"{len(section.mids)}: " + ", ".join(_shown(mid) for mid in section.mids[:3])
            )
            raise SdpError(f"{where} needs exactly one non-empty a=mid line (found {found})")
        mid = section.mids[0]
        if mid in owner:
            raise SdpError(
                f"{where} has mid {_shown(mid)} (a=mid), as media section {owner[mid]} does; "
                "each media section needs a mid of its own"
            )
        owner[mid] = number
    for mid in summary.bundle:
        if mid not in owner:
            raise SdpError(
                f"a=group:BUNDLE names mid {_shown(mid)}, which no media section has "
                f"(their mids: {', '.join(_shown(m) for m in list(owner)[:8])})"
            )


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
