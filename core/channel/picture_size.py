"""The picture size of a video stream, read from its keyframes without decoding.

The channel decodes only the tracks a subscriber takes (:mod:`core.channel.decoding`),
yet a recorder choosing between a user's HIGH and LOW stream (``AUTO``) needs the
size of the stream it does not take. Every keyframe states it in the clear:

* VP8 (RFC 6386 section 9.1): a key frame's 3-byte frame tag is followed by the start
  code ``9d 01 2a`` and two little-endian 16-bit fields whose low 14 bits are the
  width and the height.
* H.264 (ITU-T H.264 section 7.3.2.1.1): the sequence parameter set that precedes an
  IDR picture gives the size in macroblocks and the cropping rectangle. Only the
  fields up to ``frame_cropping`` are read (Exp-Golomb codes, after removing the
  emulation-prevention bytes).

End-to-end encrypted frames keep these headers clear (``docs/encryption.md``), but
the channel does not read them; the recorder then falls back to assuming a LOW
stream of half the HIGH size.
"""

from __future__ import annotations

from core.channel.e2ee import Codec, split_annexb, unescape

_VP8_START_CODE = b"\x9d\x01\x2a"

_HIGH_PROFILES = {100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135}
"""H.264 profiles whose SPS carries chroma format, bit depths and scaling lists."""


def keyframe_size(codec: str, frame: bytes) -> tuple[int, int] | None:
    """(width, height) stated by a keyframe of ``codec`` (``VP8``/``H264``), or ``None``
    for a frame that states none (a delta frame, audio, an unreadable header)."""
    try:
        kind = Codec.of(codec)
    except ValueError:
        return None
    if kind is Codec.VP8:
        return vp8_keyframe_size(frame)
    if kind is Codec.H264:
        for nal in split_annexb(frame):
            if nal and nal[0] & 0x1F == 7:
                return h264_sps_size(nal)
    return None


def vp8_keyframe_size(frame: bytes) -> tuple[int, int] | None:
    """The size in a VP8 key frame's header (``None`` for an inter frame)."""
    if len(frame) < 10 or frame[0] & 0x01 or frame[3:6] != _VP8_START_CODE:
        return None
    width = int.from_bytes(frame[6:8], "little") & 0x3FFF
    height = int.from_bytes(frame[8:10], "little") & 0x3FFF
    return (width, height) if width and height else None


class _Bits:
    """An MSB-first bit reader with Exp-Golomb codes (H.264 section 9.1)."""

    def __init__(self, data: bytes) -> None:
        self._value = int.from_bytes(data, "big")
        self._left = len(data) * 8

    def u(self, n: int) -> int:
        if n > self._left:
            raise ValueError("SPS ends early")
        self._left -= n
        return (self._value >> self._left) & ((1 << n) - 1)

    def ue(self) -> int:
        zeros = 0
        while self.u(1) == 0:
            zeros += 1
            if zeros > 31:
                raise ValueError("Exp-Golomb code too long")
        return (1 << zeros) - 1 + self.u(zeros)

    def se(self) -> int:
        k = self.ue()
        return (k + 1) // 2 if k % 2 else -(k // 2)


def _skip_scaling_list(bits: _Bits, size: int) -> None:
    last = next_scale = 8
    for _ in range(size):
        if next_scale:
            next_scale = (last + bits.se() + 256) % 256
        last = next_scale or last


def h264_sps_size(nal: bytes) -> tuple[int, int] | None:
    """The cropped picture size of an H.264 SPS NAL unit (header byte included)."""
    try:
        bits = _Bits(unescape(nal[1:]))
        profile = bits.u(8)
        bits.u(16)  # constraint flags, level
        bits.ue()  # seq_parameter_set_id
        chroma_format = 1
        if profile in _HIGH_PROFILES:
            chroma_format = bits.ue()
            if chroma_format == 3:
                bits.u(1)  # separate_colour_plane_flag
            bits.ue()  # bit_depth_luma_minus8
            bits.ue()  # bit_depth_chroma_minus8
            bits.u(1)  # qpprime_y_zero_transform_bypass_flag
            if bits.u(1):  # seq_scaling_matrix_present_flag
                for i in range(8 if chroma_format != 3 else 12):
                    if bits.u(1):
                        _skip_scaling_list(bits, 16 if i < 6 else 64)
        bits.ue()  # log2_max_frame_num_minus4
        poc_type = bits.ue()
        if poc_type == 0:
            bits.ue()  # log2_max_pic_order_cnt_lsb_minus4
        elif poc_type == 1:
            bits.u(1)  # delta_pic_order_always_zero_flag
            bits.se()  # offset_for_non_ref_pic
            bits.se()  # offset_for_top_to_bottom_field
            for _ in range(bits.ue()):
                bits.se()
        bits.ue()  # max_num_ref_frames
        bits.u(1)  # gaps_in_frame_num_value_allowed_flag
        width_mbs = bits.ue() + 1
        height_units = bits.ue() + 1
        frame_mbs_only = bits.u(1)
        if not frame_mbs_only:
            bits.u(1)  # mb_adaptive_frame_field_flag
        bits.u(1)  # direct_8x8_inference_flag
        crop = (bits.ue(), bits.ue(), bits.ue(), bits.ue()) if bits.u(1) else (0, 0, 0, 0)
    except ValueError:
        return None
    field_factor = 2 - frame_mbs_only
    sub_width, sub_height = {0: (1, 1), 1: (2, 2), 2: (2, 1)}.get(chroma_format, (1, 1))
    if chroma_format == 0:  # monochrome: crop units are whole pixels
        sub_width = sub_height = 1
    left, right, top, bottom = crop
    width = width_mbs * 16 - (left + right) * sub_width
    height = field_factor * height_units * 16 - (top + bottom) * sub_height * field_factor
    return (width, height) if width > 0 and height > 0 else None
