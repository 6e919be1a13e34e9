"""MPEG-TS slices as the recorder writes them, for tests that need real media files."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

from core.commands import selftest


def write_ts_slice(path: Path, seconds: float = 1.0, audio: bool = True) -> None:
    """An MPEG-TS slice like the recorder's: H.264 320x240@15 and (with ``audio``) AAC
    48 kHz, ``seconds`` long."""
    with av.open(str(path), "w", format="mpegts") as out:
        video = out.add_stream("libx264", rate=selftest.FPS)
        video.width, video.height, video.pix_fmt = selftest.WIDTH, selftest.HEIGHT, "yuv420p"
        sound = out.add_stream("aac", rate=selftest.AUDIO_RATE) if audio else None
        for i in range(int(seconds * selftest.FPS)):
            image = np.full((selftest.HEIGHT, selftest.WIDTH, 3), i * 8 % 256, np.uint8)
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = i
            out.mux(video.encode(frame))
        out.mux(video.encode())
        if sound is not None:
            for i in range(int(seconds * selftest.AUDIO_RATE / 1024)):
                samples = np.zeros((1, 1024), np.float32)
                chunk = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
                chunk.sample_rate, chunk.pts = selftest.AUDIO_RATE, i * 1024
                out.mux(sound.encode(chunk))
            out.mux(sound.encode())
