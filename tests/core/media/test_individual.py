"""Individual recording's tracks: a user's video copied into slices, its audio to AAC.

Real encoders make the input (libvpx, libx264, libopus, as senders do); every slice
is decoded on its own, every frame of it, and what it shows and plays is checked.
"""

from __future__ import annotations

import itertools
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from core.channel.streams import EncodedFrame
from core.media.individual import AudioCopyTrack, AudioTrack, VideoTrack, opus_samples
from core.media.segmenter import PTS_OFFSET
from core.media.slices import ClosedSlice
from core.participants.synthetic import (
    AUDIO_SAMPLE_RATE,
    identify_uid,
    is_flash,
    render_tile,
)

FPS = 15
SIZE = (320, 240)
UID = 7
START = 10.0  # the user joined the recording 10 s in


class Sender:
    """Encodes ``UID``'s tile (white once a second) like a WebRTC sender: one keyframe at
    the start and one whenever asked (its GOP is otherwise endless)."""

    def __init__(self, codec: str, size: tuple[int, int] = SIZE) -> None:
        name = {"VP8": "libvpx", "H264": "libx264"}[codec]
        self.codec = codec
        self.size = size
        self.ctx = av.CodecContext.create(name, "w")
        self.ctx.width, self.ctx.height = size  # type: ignore[attr-defined]
        self.ctx.pix_fmt = "yuv420p"  # type: ignore[attr-defined]
        self.ctx.time_base = Fraction(1, FPS)
        self.ctx.framerate = Fraction(FPS)  # type: ignore[attr-defined]
        self.ctx.gop_size = 10_000  # type: ignore[attr-defined]
        if codec == "H264":  # as browsers send it: SPS/PPS before every IDR, no B-frames
            self.ctx.options = {"preset": "ultrafast", "tune": "zerolatency",
                                "x264-params": "repeat-headers=1"}  # fmt: skip
        else:
            self.ctx.options = {"deadline": "realtime", "lag-in-frames": "0"}
        self.keyframe_wanted = False
        self.keyframes = 0

    def frame(self, index: int) -> EncodedFrame:
        width, height = self.size
        flash = np.full((height, width, 3), 255, np.uint8)
        image = flash if index % FPS == 0 else render_tile(UID, self.size)
        picture = av.VideoFrame.from_ndarray(image, format="rgb24").reformat(format="yuv420p")
        picture.pts = index
        if self.keyframe_wanted:
            picture.pict_type = av.video.frame.PictureType.I
            self.keyframe_wanted = False
        packets = self.ctx.encode(picture)
        assert len(packets) == 1
        packet = packets[0]
        self.keyframes += packet.is_keyframe
        return EncodedFrame(bytes(packet), self.codec, packet.is_keyframe, index * 6000, None)


def decode_slice(path: Path) -> list[tuple[float, av.VideoFrame | av.AudioFrame]]:
    """Every frame of one slice file, decoded on its own (any error fails)."""
    with av.open(str(path)) as container:
        stream = container.streams[0]
        return [(float(f.time or 0.0), f) for f in container.decode(stream)]  # type: ignore[misc]


def median_rgb(frame: av.VideoFrame) -> tuple[float, ...]:
    rgb = frame.to_ndarray(format="rgb24").reshape(-1, 3)
    return tuple(float(v) for v in np.median(rgb, axis=0))


@pytest.mark.parametrize(("codec", "suffix"), [("VP8", ".webm"), ("H264", ".ts")])
def test_video_is_copied_into_slices_that_play_alone(
    tmp_path: Path, codec: str, suffix: str
) -> None:
    """7 s of a user who joined at 10 s, in 2 s slices: the track waits for a keyframe
    (the first frame it gets is none), asks for one at each slice boundary and cuts
    there; each slice decodes alone to the user's colour with the flash once a second,
    and together they hold every frame from the first keyframe on, at its output time."""
    sender = Sender(codec)
    closed: list[ClosedSlice] = []
    track = VideoTrack(tmp_path, 2.0, lambda start, sfx: f"v_{start:.3f}{sfx}", closed.append,
                       lambda: setattr(sender, "keyframe_wanted", True))  # fmt: skip
    sender.frame(0)  # the keyframe the track never sees (it joined after it)
    count = 7 * FPS
    for i in range(1, count):
        track.push(sender.frame(i), START + i / FPS)
    track.close()

    assert track.skipped == 1  # frame 1, before the keyframe it asked for at once
    first = 2  # the keyframe asked for
    assert sender.keyframes == 1 + len(closed)  # the first (unseen) and one a slice
    assert [c.name for c in closed] == [f"v_{c.start:.3f}{suffix}" for c in closed]
    assert closed[0].start == pytest.approx(START + first / FPS)
    # asked a frame ahead, the sender's keyframe is the boundary's frame: cuts on the grid
    for a, b in itertools.pairwise(closed):
        assert b.start - a.start == pytest.approx(2.0, abs=1e-6), (a, b)
        assert a.duration == pytest.approx(b.start - a.start, abs=1e-6)
    assert sum(c.duration for c in closed) == pytest.approx((count - first) / FPS, abs=1e-6)

    offset = PTS_OFFSET if suffix == ".ts" else 0.0
    times: list[float] = []
    for c in closed:
        frames = decode_slice(c.path)
        assert frames and frames[0][0] == pytest.approx(c.start + offset, abs=0.002)
        for t, picture in frames:
            assert isinstance(picture, av.VideoFrame) and (picture.width, picture.height) == SIZE
            colour = median_rgb(picture)
            index = round((t - offset - START) * FPS)
            if index % FPS == 0:
                assert is_flash(colour), (t, colour)
            else:
                assert identify_uid(colour, [UID]) == UID, (t, colour)
            times.append(t - offset)
    assert times == pytest.approx([START + i / FPS for i in range(first, count)], abs=0.002)


def test_a_new_picture_size_starts_a_slice(tmp_path: Path) -> None:
    """A sender that changes its size (a new keyframe) gets a new WebM slice of that size."""
    closed: list[ClosedSlice] = []
    track = VideoTrack(tmp_path, 10.0, lambda start, sfx: f"v_{start:.3f}{sfx}", closed.append,
                       lambda: None)  # fmt: skip
    big = Sender("VP8")
    for i in range(FPS):
        track.push(big.frame(i), START + i / FPS)
    small = Sender("VP8", (160, 120))
    for i in range(FPS, 2 * FPS):
        track.push(small.frame(i - FPS), START + i / FPS)
    track.close()
    assert len(closed) == 2
    sizes = [{(f.width, f.height) for _, f in decode_slice(c.path)} for c in closed]  # type: ignore[union-attr]
    assert sizes == [{(320, 240)}, {(160, 120)}]
    assert closed[1].start == pytest.approx(START + 1.0)


def test_audio_is_continuous_aac_with_gaps_as_silence(tmp_path: Path) -> None:
    """4 s of a 440 Hz tone sent as Opus from 10 s, with 0.5 s lost at 2 s: AAC slices
    on the 2 s grid that decode alone, 4 s long in all, the tone where it was sent and
    silence in the gap, starting at the user's first frame."""
    encoder = av.CodecContext.create("libopus", "w")
    encoder.sample_rate = AUDIO_SAMPLE_RATE  # type: ignore[attr-defined]
    encoder.layout = "mono"  # type: ignore[attr-defined]
    encoder.format = "s16"  # type: ignore[attr-defined]
    encoder.time_base = Fraction(1, AUDIO_SAMPLE_RATE)
    closed: list[ClosedSlice] = []
    track = AudioTrack(tmp_path, 2.0, lambda start, sfx: f"a_{start:.3f}{sfx}", closed.append)
    frame_samples = 960
    t = np.arange(4 * AUDIO_SAMPLE_RATE) / AUDIO_SAMPLE_RATE
    tone = (0.3 * np.sin(2 * np.pi * 440 * t) * 32767).astype(np.int16)
    for k in range(len(tone) // frame_samples):
        chunk = tone[k * frame_samples : (k + 1) * frame_samples].reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(chunk, format="s16", layout="mono")
        frame.sample_rate = AUDIO_SAMPLE_RATE
        frame.pts = k * frame_samples
        for packet in encoder.encode(frame):
            at = START + k * frame_samples / AUDIO_SAMPLE_RATE
            if 2.0 <= at - START < 2.5:
                continue  # lost on the way
            track.push(EncodedFrame(bytes(packet), "OPUS", True, k * frame_samples, None), at)
    track.close()

    assert track.gaps == 1
    assert [c.start for c in closed][:2] == pytest.approx([START, START + 2.0], abs=0.03)
    assert sum(c.duration for c in closed) == pytest.approx(4.0, abs=0.05)
    pieces = []
    for c in closed:
        frames = decode_slice(c.path)
        assert frames
        assert frames[0][0] == pytest.approx(c.start + PTS_OFFSET, abs=0.03)
        pieces += [f.to_ndarray()[0] for _, f in frames]  # type: ignore[union-attr]
    audio = np.concatenate(pieces)
    rate = AUDIO_SAMPLE_RATE

    def level(second: float) -> float:
        window = audio[int(second * rate) : int((second + 0.2) * rate)]
        return float(np.sqrt(np.mean(window**2)))

    assert level(1.0) > 0.15 and level(3.0) > 0.15  # the tone (0.3 peak, 0.21 RMS)
    assert level(2.15) < 0.01  # the gap is silence
    spectrum = np.abs(np.fft.rfft(audio[rate : 2 * rate] * np.hanning(rate)))
    assert abs(int(np.argmax(spectrum)) - 440) <= 2


def opus_encoder(frame_ms: str = "20") -> av.AudioCodecContext:
    """libopus as a WebRTC sender runs it: 48 kHz, ``frame_ms`` milliseconds a packet."""
    encoder = av.CodecContext.create("libopus", "w")
    encoder.sample_rate = AUDIO_SAMPLE_RATE  # type: ignore[attr-defined]
    encoder.layout = "mono"  # type: ignore[attr-defined]
    encoder.format = "s16"  # type: ignore[attr-defined]
    encoder.time_base = Fraction(1, AUDIO_SAMPLE_RATE)
    encoder.options = {"frame_duration": frame_ms}
    return encoder  # type: ignore[return-value]


def opus_packets(encoder: av.AudioCodecContext, seconds: float) -> list[tuple[bytes, int]]:
    """A 440 Hz tone of ``seconds`` encoded: (packet, its first sample) in order."""
    t = np.arange(round(seconds * AUDIO_SAMPLE_RATE)) / AUDIO_SAMPLE_RATE
    tone = (0.3 * np.sin(2 * np.pi * 440 * t) * 32767).astype(np.int16)
    out = []
    for k in range(0, len(tone) - 959, 960):
        frame = av.AudioFrame.from_ndarray(tone[k : k + 960].reshape(1, -1), "s16", "mono")
        frame.sample_rate = AUDIO_SAMPLE_RATE
        frame.pts = k
        out += [(bytes(p), int(p.pts or 0)) for p in encoder.encode(frame)]
    return out


@pytest.mark.parametrize("frame_ms", ["2.5", "5", "10", "20", "40", "60"])
def test_opus_samples_are_read_from_the_packet_header(frame_ms: str) -> None:
    """Every packet libopus makes at each frame duration a sender may use holds the
    samples its header says: the packet durations the encoder reports."""
    packets = opus_packets(opus_encoder(frame_ms), 0.6)
    assert len(packets) >= 8
    expected = round(float(frame_ms) * AUDIO_SAMPLE_RATE / 1000)
    steps = {b[1] - a[1] for a, b in itertools.pairwise(packets)}
    assert steps == {expected}
    assert {opus_samples(data) for data, _ in packets} == {expected}
    assert opus_samples(b"") == 0 and opus_samples(bytes([0x03])) == 0  # code 3, no count


def test_original_audio_is_the_opus_as_sent_with_gaps_left(tmp_path: Path) -> None:
    """``streamMode`` ``original``: 4 s of a 440 Hz tone sent as Opus from 10 s with
    1 ms of jitter and 0.5 s lost at 2 s: MPEG-TS slices holding the very packets
    (byte for byte, none dropped), each slice decoding alone, every packet at its
    capture time within the jitter, the gap left a gap."""
    sent = opus_packets(opus_encoder(), 4.0)
    closed: list[ClosedSlice] = []
    track = AudioCopyTrack(tmp_path, 2.0, lambda start, sfx: f"o_{start:.3f}{sfx}", closed.append)
    kept: list[tuple[bytes, float]] = []
    jitter = itertools.cycle([0.0, 0.001, -0.001])
    for index, (data, _) in enumerate(sent):
        # captured one 20 ms frame after another (libopus stamps its first packet with
        # its pre-skip, before 0; an RTP sender's timestamps start at its first packet)
        first = index * 960
        at = START + first / AUDIO_SAMPLE_RATE
        if 2.0 <= at - START < 2.5:
            continue  # lost on the way
        track.push(EncodedFrame(data, "OPUS", True, first, None), at + next(jitter))
        kept.append((data, at))
    track.close()

    assert (track.gaps, track.dropped) == (1, 0)
    assert all(c.name.endswith(".ts") for c in closed) and len(closed) == 2
    assert closed[0].start == pytest.approx(START, abs=0.002)
    stored: list[tuple[bytes, float]] = []
    decoded = 0
    for c in closed:
        with av.open(str(c.path)) as container:
            (stream,) = container.streams
            assert stream.codec_context.name == "opus"
            for packet in container.demux(stream):
                if packet.size:
                    stored.append((bytes(packet), float(packet.pts * packet.time_base)))
        decoded += sum(f.samples for _, f in decode_slice(c.path))  # type: ignore[union-attr]
    assert [d for d, _ in stored] == [d for d, _ in kept]
    assert all(
        abs(t - PTS_OFFSET - at) <= 0.0011 for (_, t), (_, at) in zip(stored, kept, strict=True)
    )
    assert decoded == 960 * len(kept)


def test_a_slice_of_a_few_frames_is_still_read_as_mpeg_ts(tmp_path: Path) -> None:
    """A recording stopped 30 ms after a boundary leaves a last slice of two AAC frames:
    it is padded to a size that readers recognise as MPEG-TS (five TS packets were read
    as MPEG program stream, whose decoder failed), and decodes."""
    closed: list[ClosedSlice] = []
    track = AudioTrack(tmp_path, 2.0, lambda start, sfx: f"a_{start:.3f}{sfx}", closed.append)
    silence = av.AudioFrame.from_ndarray(np.zeros((1, 960), np.int16), format="s16", layout="mono")
    silence.sample_rate = AUDIO_SAMPLE_RATE
    for k in range(103):  # 2.06 s
        track.push(silence, START + k * 0.02)
    track.close()
    last = closed[-1]
    assert last.duration < 0.1
    with av.open(str(last.path)) as container:
        assert container.format.name == "mpegts"
        frames = list(container.decode(audio=0))
    assert frames


def test_a_first_keyframe_just_before_the_start_opens_the_track_at_0(tmp_path: Path) -> None:
    """The output clock starts on the next tick after the recorder subscribed, so the
    keyframe it asked for may be captured up to a tick before output time 0: it opens
    the track at 0, and the frame after it, also before 0, follows it (left out, it
    smeared the pictures after it: series 9, run 1). One captured earlier than
    FIRST_KEYFRAME_GRACE is not recorded."""
    from core.media.individual import FIRST_KEYFRAME_GRACE

    for first, opened in ((-0.09, True), (-FIRST_KEYFRAME_GRACE - 0.05, False)):
        sender = Sender("VP8")
        closed: list[ClosedSlice] = []
        folder = tmp_path / str(opened)
        folder.mkdir()
        track = VideoTrack(folder, 10.0, lambda start, sfx: f"v_{start:.3f}{sfx}",
                           closed.append, lambda s=sender: setattr(s, "keyframe_wanted", True))  # fmt: skip
        for i in range(FPS):
            track.push(sender.frame(i), first + i / FPS)
        track.close()
        frames = decode_slice(closed[0].path)
        if opened:
            assert track.skipped == 0 and frames[0][0] == pytest.approx(0.0, abs=0.002)
            assert len(frames) == FPS
            times = [t for t, _ in frames]  # in order, a millisecond apart at least (WebM)
            assert all(b - a >= 0.001 for a, b in itertools.pairwise(times)), times
            for t, picture in frames:  # every picture clean: the user's colour or a flash
                colour = median_rgb(picture)  # type: ignore[arg-type]
                assert is_flash(colour) or identify_uid(colour, [UID]) == UID, (t, colour)
        else:
            assert track.skipped >= 1 and frames[0][0] > 0
