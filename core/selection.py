"""Stream selection: whose audio and whose video a recording takes (Agora's subscription lists).

Agora's ``recordingConfig`` (at ``start``) and ``update``'s ``streamSubscribe`` name
them with four lists of uids as decimal strings: ``subscribeAudioUids`` /
``unSubscribeAudioUids`` and ``subscribeVideoUids`` / ``unSubscribeVideoUids``. The
rules, from Agora's Cloud Recording RESTful reference ("start" recordingConfig,
"update"; docs/rest-api.md, "Stream selection and update"):

* no list at all: every user's audio and video;
* per kind, a subscribe list (only those uids) *or* an unsubscribe list (everyone but
  those uids), never both;
* a list for one kind only: no stream at all of the other kind;
* ``"#allstream#"`` in a list stands for every uid;
* at most 32 entries per list (an empty list is allowed: nobody, or nobody excluded);
* an audio list needs audio among the recorded stream types, a video list video.

Pure functions, no I/O: the config model, the REST API and the recorder share them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from core.enums import RecordingStreamType
from core.errors import InvalidParameterError
from core.validation import MAX_UID

ALL_STREAMS = "#allstream#"
"""Agora's entry that stands for every uid in a subscription list."""

MAX_LISTED_UIDS = 32
"""At most this many entries per list (Agora: "数组长度不得超过 32")."""

UID_GROUPS: dict[int, tuple[int, int]] = {
    0: (1, 2),
    1: (3, 7),
    2: (8, 12),
    3: (13, 17),
    4: (18, 32),
    5: (33, 49),
}
"""Agora's ``subscribeUidGroup``: the expected peak number of subscribed uids. Agora
uses it in individual mode only; in mix mode it is checked and has no effect."""

UID_LIST_ALLOWED = (
    f"a list of at most {MAX_LISTED_UIDS} uids as decimal strings from '1' to '{MAX_UID}', "
    f"or '{ALL_STREAMS}' for every uid"
)

WIRE_NAMES = {
    "subscribe_audio_uids": "subscribeAudioUids",
    "unsubscribe_audio_uids": "unSubscribeAudioUids",
    "subscribe_video_uids": "subscribeVideoUids",
    "unsubscribe_video_uids": "unSubscribeVideoUids",
}
"""The config fields of the lists and Agora's names for them."""


def check_uid_list(field: str, value: Sequence[str]) -> tuple[str, ...]:
    """``value`` as a subscription list, or InvalidParameterError naming ``field``.

    Each entry is ``"#allstream#"`` or a uid as a string of ASCII digits (as Agora sends
    uids) from 1 to 4294967295; duplicates are kept once, in order."""
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise InvalidParameterError(field, value, UID_LIST_ALLOWED)
    if len(value) > MAX_LISTED_UIDS:
        raise InvalidParameterError(
            field,
            f"<{len(value)} entries>",
            f"at most {MAX_LISTED_UIDS} entries; {UID_LIST_ALLOWED}",
        )
    seen: dict[str, None] = {}
    for index, entry in enumerate(value):
        if entry == ALL_STREAMS:
            seen[entry] = None
            continue
        ok = (
            isinstance(entry, str)
            and entry.isascii()
            and entry.isdigit()
            and len(entry) <= len(str(MAX_UID))
            and 1 <= int(entry) <= MAX_UID
        )
        if not ok:
            shown = entry[:24] if isinstance(entry, str) else entry
            raise InvalidParameterError(f"{field}.{index}", shown, UID_LIST_ALLOWED)
        seen[str(int(entry))] = None
    return tuple(seen)


@dataclass(frozen=True)
class UidFilter:
    """Which users' streams of one kind are taken."""

    uids: frozenset[int] = frozenset()
    everyone: bool = True
    """True: every uid except ``uids``; false: only ``uids``."""

    def takes(self, uid: int) -> bool:
        """Whether ``uid``'s stream of this kind is taken."""
        return (uid not in self.uids) if self.everyone else (uid in self.uids)

    @classmethod
    def of(cls, subscribe: Sequence[str] | None, unsubscribe: Sequence[str] | None) -> UidFilter:
        """The filter a subscribe or an unsubscribe list gives (at most one is set)."""
        if subscribe is not None:
            if ALL_STREAMS in subscribe:
                return cls(everyone=True)
            return cls(frozenset(int(u) for u in subscribe), everyone=False)
        if unsubscribe is not None:
            if ALL_STREAMS in unsubscribe:
                return cls(everyone=False)
            return cls(frozenset(int(u) for u in unsubscribe), everyone=True)
        return cls(everyone=True)


NOBODY = UidFilter(everyone=False)


@dataclass(frozen=True)
class StreamSelection:
    """Whose audio and whose video a recording takes."""

    audio: UidFilter = UidFilter()
    video: UidFilter = UidFilter()

    @classmethod
    def of(
        cls,
        subscribe_audio_uids: Sequence[str] | None = None,
        unsubscribe_audio_uids: Sequence[str] | None = None,
        subscribe_video_uids: Sequence[str] | None = None,
        unsubscribe_video_uids: Sequence[str] | None = None,
    ) -> StreamSelection:
        """The selection Agora's four lists give (checked by :func:`check_lists`): no list,
        everything; a list for one kind only, nothing of the other kind."""
        audio_listed = subscribe_audio_uids is not None or unsubscribe_audio_uids is not None
        video_listed = subscribe_video_uids is not None or unsubscribe_video_uids is not None
        if not audio_listed and not video_listed:
            return cls()
        audio = (
            UidFilter.of(subscribe_audio_uids, unsubscribe_audio_uids) if audio_listed else NOBODY
        )
        video = (
            UidFilter.of(subscribe_video_uids, unsubscribe_video_uids) if video_listed else NOBODY
        )
        return cls(audio, video)


def check_lists(
    stream_types: RecordingStreamType,
    *,
    subscribe_audio_uids: Sequence[str] | None = None,
    unsubscribe_audio_uids: Sequence[str] | None = None,
    subscribe_video_uids: Sequence[str] | None = None,
    unsubscribe_video_uids: Sequence[str] | None = None,
) -> None:
    """Agora's rules for combining the lists with each other and with the recorded
    ``stream_types``; InvalidParameterError naming the fields."""
    lists = {
        "subscribe_audio_uids": subscribe_audio_uids,
        "unsubscribe_audio_uids": unsubscribe_audio_uids,
        "subscribe_video_uids": subscribe_video_uids,
        "unsubscribe_video_uids": unsubscribe_video_uids,
    }
    for kind in ("audio", "video"):
        subscribe, unsubscribe = f"subscribe_{kind}_uids", f"unsubscribe_{kind}_uids"
        if lists[subscribe] is not None and lists[unsubscribe] is not None:
            raise InvalidParameterError(
                unsubscribe,
                lists[unsubscribe],
                f"not together with {subscribe}: Agora's {WIRE_NAMES[subscribe]} and "
                f"{WIRE_NAMES[unsubscribe]} exclude each other; set one of them",
            )
    types = f"{stream_types.name} (streamTypes {int(stream_types)})"
    for kind, present in (("audio", stream_types.has_audio), ("video", stream_types.has_video)):
        if present:
            continue
        for name in (f"subscribe_{kind}_uids", f"unsubscribe_{kind}_uids"):
            if lists[name] is not None:
                raise InvalidParameterError(
                    name,
                    lists[name],
                    f"no {kind} list ({WIRE_NAMES[name]}) when the recorded stream types are "
                    f"{types}: it records no {kind}",
                )


def lists_for_update(
    stream_types: RecordingStreamType, lists: Mapping[str, Sequence[str] | None]
) -> dict[str, tuple[str, ...]]:
    """The lists of an ``update`` that gives a recording the selection ``lists`` give at
    ``start`` (the four config fields by name, None for a list not set).

    They mean the same in both calls but for one case: no list at all is everyone at
    ``start``, while ``update`` needs a list; it becomes ``["#allstream#"]`` to subscribe
    for each kind among ``stream_types``."""
    given = {name: tuple(value) for name, value in lists.items() if value is not None}
    if given:
        return given
    recorded = (("audio", stream_types.has_audio), ("video", stream_types.has_video))
    return {f"subscribe_{kind}_uids": (ALL_STREAMS,) for kind, on in recorded if on}
