"""AccessToken2: Agora's published vectors, round trips, and every way a token is refused."""

from __future__ import annotations

import base64
import struct
import zlib
from typing import Any

import pytest

from core.channel.accesstoken import (
    AccessToken2,
    ChatService,
    RtcGrant,
    RtcPrivilege,
    RtcRole,
    RtcService,
    RtmService,
    Service,
    ServiceType,
    StreamingService,
    TokenError,
    TokenExpiredError,
    TokenMismatchError,
    build_rtc_token,
    build_token,
    is_agora_id,
    parse_token,
    verify_rtc_token,
)
from core.errors import CloudRecordingError, ErrorCode, InvalidParameterError

# The fixed inputs of Agora's own tests (AgoraIO/Tools,
# DynamicKey/AgoraDynamicKey/python3/test/AccessToken2Test.py and RtcTokenBuilder2Test.py).
APP_ID = "970CA35de60c44645bbae8a215061b33"
APP_CERT = "5CFd2fd1755d40ecb72977518be15d3b"
CHANNEL = "7d72365eb983485397e3e3f9d460bdda"
UID = 2882341273
UID_STR = "2882341273"
USER_ID = "test_user"
EXPIRE = 600
SALT = 1
ISSUE_TS = 1111111

# Expected tokens from AgoraIO/Tools python3/test/AccessToken2Test.py (Python zlib,
# so our output must match byte for byte).
PY_RTC = (
    "007eJxTYBBbsMMnKq7p9Hf/HcIX5kce9b518kCiQgSr5Zrp4X1Tu6UUGCzNDZwdjU1TUs0Mkk1MzExMk5ISUy0SjQxNDcw"
    "Mk4yN3b8IMEQwMTAwMoAwBIL4CgzmKeZGxmamqUmWFsYmFqbGluapxqnGaZYpJmYGSSkpiVwMRhYWRsYmhkbmxgDCaiTj"
)
PY_RTC_UID_0 = (
    "007eJxTYLhzZP08Lxa1Pg57+TcXb/3cZ3wi4V6kbpbOog0G2dOYk20UGCzNDZwdjU1TUs0Mkk1MzExMk5ISUy0SjQxNDcw"
    "Mk4yN3b8IMEQwMTAwMoAwBIL4CgzmKeZGxmamqUmWFsYmFqbGluapxqnGaZYpJmYGSSkpiQwMADacImo="
)
PY_CHAT_USER = (
    "007eJxTYNAIsnbS3v/A5t2TC6feR15r+6cq8bqAvfaW+tk/Vzz+p6xTYLA0N3B2NDZNSTUzSDYxMTMxTUpKTLVINDI0NTA"
    "zTDI2dv8iwBDBxMDAyADCrEDMCOZzMRhZWBgZmxgamRsDAB+lHrg="
)
PY_CHAT_APP = (
    "007eJxTYNDNaz3snC8huEfHWdz6s98qltq4zqy9fl99Uh0FDvy6F6DAYGlu4OxobJqSamaQbGJiZmKalJSYapFoZGhqYGa"
    "YZGzs/kWAIYKJgYGRAYRZgZgJzGdgAACt8hhr"
)
PY_MULTI = (
    "007eJxTYAh5UWu1drfhsnu9etvupS0v/iFs+3PC/Sbl8gdht55xSusqMFiaGzg7GpumpJoZJJuYmJmYJiUlplokGhmaGpg"
    "ZJhkbu38RYIhgYmBgZGBgYAWSLEAM4jOBSWYwyQImFRjMU8yNjM1MU5MsLYxNLEyNLc1TjVON0yxTTMwMklJSErkYjCwsj"
    "IxNDI3MjZmA5kBM4mQoSS0uiS8tTi1iZmBCMZ40I1mgToSYgCwDAGL1OcI="
)
# Tokens made with Go's zlib (different compressed bytes, same content), from
# AgoraIO-Community/go-tokenbuilder, accesstoken2/accesstoken_test.go. The last is a
# Python-built RTC publisher + RTM token that Go's test parses.
GO_RTC = (
    "007eJxSYBBbsMMnKq7p9Hf/HcIX5kce9b518kCiQgSr5Zrp4X1Tu6UUGCzNDZwdjU1TUs0Mkk1MzExMk5ISUy0SjQxNDcw"
    "Mk4yN3b8IMEQwMTAwMoAwBIL4CgzmKeZGxmamqUmWFsYmFqbGluapxqnGaZYpJmYGSSkpiVwMRhYWRsYmhkbmxoAAAAD/"
    "/8JqJOM="
)
GO_RTC_UID_0 = (
    "007eJxSYLhzZP08Lxa1Pg57+TcXb/3cZ3wi4V6kbpbOog0G2dOYk20UGCzNDZwdjU1TUs0Mkk1MzExMk5ISUy0SjQxNDcw"
    "Mk4yN3b8IMEQwMTAwMoAwBIL4CgzmKeZGxmamqUmWFsYmFqbGluapxqnGaZYpJmYGSSkpiQwMgAAAAP//Npwiag=="
)
GO_RTM = (
    "007eJxSYOCdJftjyTM2zxW6Xhm/5T0j5LdcUt/xYVt48fb5Mp3PX9coMFiaGzg7GpumpJoZJJuYmJmYJiUlplokGhmaGpg"
    "ZJhkbu38RYIhgYmBgZABhJgZGBkYwn5OhJLW4JL60OLUIEAAA//9ZVh6A"
)
PY_RTC_PUBLISHER_AND_RTM = (
    "007eJxTYOAQsrQ5s3TfH+1tvy8zZZ46EpCc0V43JXdGd2jS8porKo4KDJbmBs6OxqYpqWYGySYmZiamSUmJqRaJRoamBmaGS"
    "cbG7l8EGCKYGBgYGRgYmIAkCxCD+ExgkhlMsoBJBQbzFHMjYzPT1CRLC2MTC1NjS/NU41TjNMsUEzODpJSURC4GIwsLI2MTQ"
    "yNzY5BZEJM4GUpSi0viS4tTiwAipyp4"
)

ALL_RTC = {int(p): EXPIRE for p in RtcPrivilege}
NOW = ISSUE_TS + 10  # a moment when the vectors' tokens are valid


def vector_token(*services: Service) -> str:
    return build_token(APP_ID, APP_CERT, services, EXPIRE, issue_ts=ISSUE_TS, salt=SALT)


def verify(
    token: str,
    *,
    app_id: str = APP_ID,
    app_certificate: str = APP_CERT,
    channel_name: str = CHANNEL,
    uid: int | str = UID,
    now: float | None = NOW,
) -> RtcGrant:
    return verify_rtc_token(
        token,
        app_id=app_id,
        app_certificate=app_certificate,
        channel_name=channel_name,
        uid=uid,
        now=now,
    )


def reencode(raw: bytes) -> str:
    return "007" + base64.b64encode(zlib.compress(raw)).decode()


def raw_content(token: str) -> bytes:
    return zlib.decompress(base64.b64decode(token[3:]))


# ------------------------------------------------------------------- Agora's vectors


class TestAgoraVectors:
    def test_rtc_with_uid(self) -> None:
        service = RtcService({RtcPrivilege.JOIN_CHANNEL: EXPIRE}, CHANNEL, UID_STR)
        assert vector_token(service) == PY_RTC

    def test_rtc_uid_0(self) -> None:
        service = RtcService({RtcPrivilege.JOIN_CHANNEL: EXPIRE}, CHANNEL, "")
        assert vector_token(service) == PY_RTC_UID_0

    def test_chat_user_and_app(self) -> None:
        assert vector_token(ChatService({1: EXPIRE}, UID_STR)) == PY_CHAT_USER
        assert vector_token(ChatService({2: EXPIRE})) == PY_CHAT_APP

    def test_multi_service(self) -> None:
        token = vector_token(
            RtcService(ALL_RTC, CHANNEL, UID_STR),
            RtmService({1: EXPIRE}, USER_ID),
            StreamingService({1: EXPIRE, 2: EXPIRE}, CHANNEL, UID_STR),
            Service(ServiceType.FPA),  # Agora's test adds an RTNS service: type 4, no privileges
            ChatService({1: EXPIRE}, UID_STR),
        )
        assert token == PY_MULTI

    def test_services_are_sorted_by_type_like_agora(self) -> None:
        token = vector_token(
            RtmService({1: EXPIRE}, USER_ID), RtcService(ALL_RTC, CHANNEL, UID_STR)
        )
        assert token == PY_RTC_PUBLISHER_AND_RTM

    def test_rtc_token_builder_subscriber(self) -> None:
        for uid in (UID, UID_STR):
            token = build_rtc_token(
                APP_ID,
                APP_CERT,
                CHANNEL,
                uid,
                "subscriber",
                EXPIRE,
                EXPIRE,
                issue_ts=ISSUE_TS,
                salt=SALT,
            )
            assert token == PY_RTC

    def test_rtc_token_builder_uid_0(self) -> None:
        token = build_rtc_token(
            APP_ID, APP_CERT, CHANNEL, 0, "subscriber", EXPIRE, issue_ts=ISSUE_TS, salt=SALT
        )
        assert token == PY_RTC_UID_0

    def test_rtc_token_builder_publisher(self) -> None:
        # RtcTokenBuilder2Test: a publisher gets join + the three publish privileges.
        token = build_rtc_token(APP_ID, APP_CERT, CHANNEL, UID, "publisher", EXPIRE, EXPIRE)
        parsed = parse_token(token)
        assert parsed.app_id == APP_ID
        assert parsed.expire == EXPIRE
        (rtc,) = parsed.rtc_services()
        assert (rtc.channel_name, rtc.account) == (CHANNEL, UID_STR)
        assert dict(rtc.privileges) == ALL_RTC

    @pytest.mark.parametrize(
        ("token", "types"),
        [
            (PY_RTC, [ServiceType.RTC]),
            (PY_RTC_UID_0, [ServiceType.RTC]),
            (PY_CHAT_USER, [ServiceType.CHAT]),
            (PY_CHAT_APP, [ServiceType.CHAT]),
            (PY_MULTI, [1, 2, 3, 4, 5]),
            (GO_RTC, [ServiceType.RTC]),
            (GO_RTC_UID_0, [ServiceType.RTC]),
            (GO_RTM, [ServiceType.RTM]),
            (PY_RTC_PUBLISHER_AND_RTM, [ServiceType.RTC, ServiceType.RTM]),
        ],
    )
    def test_parse_and_signature(self, token: str, types: list[int]) -> None:
        parsed = parse_token(token)
        assert (parsed.app_id, parsed.issue_ts, parsed.expire, parsed.salt) == (
            APP_ID,
            ISSUE_TS,
            EXPIRE,
            SALT,
        )
        assert [s.service_type for s in parsed.services] == types
        assert parsed.unknown_service_type is None
        assert len(parsed.signature) == 32
        assert parsed.signature_matches(APP_CERT)
        assert not parsed.signature_matches(APP_CERT.lower())

    def test_parsed_fields(self) -> None:
        multi = parse_token(PY_MULTI)
        rtc, rtm, streaming, fpa, chat = multi.services
        assert isinstance(rtc, RtcService) and (rtc.channel_name, rtc.account) == (CHANNEL, UID_STR)
        assert dict(rtc.privileges) == ALL_RTC
        assert isinstance(rtm, RtmService) and rtm.user_id == USER_ID
        assert isinstance(streaming, StreamingService) and streaming.account == UID_STR
        assert dict(streaming.privileges) == {1: EXPIRE, 2: EXPIRE}
        assert type(fpa) is Service and dict(fpa.privileges) == {}
        assert isinstance(chat, ChatService) and chat.user_id == UID_STR
        go_rtm = parse_token(GO_RTM).services[0]
        assert isinstance(go_rtm, RtmService) and go_rtm.user_id == USER_ID

    def test_go_built_token_verifies(self) -> None:
        grant = verify(GO_RTC)
        assert grant == verify(PY_RTC)


# -------------------------------------------------------------------- verification


class TestVerify:
    def test_round_trip_publisher(self) -> None:
        token = build_rtc_token(APP_ID, APP_CERT, "room 1", 42, "publisher", 3600)
        grant = verify_rtc_token(
            token, app_id=APP_ID, app_certificate=APP_CERT, channel_name="room 1", uid=42
        )
        assert grant.join and grant.publish_audio and grant.publish_video and grant.publish_data
        assert grant.can_publish
        assert (grant.channel_name, grant.account, grant.any_uid) == ("room 1", "42", False)
        assert grant.expires_at == grant.issue_ts + 3600
        assert set(grant.privileges_expire_at) == {int(p) for p in RtcPrivilege}

    def test_subscriber_has_no_publish_privilege(self) -> None:
        for role in ("subscriber", "audience", RtcRole.SUBSCRIBER):
            token = build_rtc_token(APP_ID, APP_CERT, CHANNEL, UID, role, 600, issue_ts=ISSUE_TS)
            grant = verify(token)
            assert grant.join
            assert not grant.publish_audio
            assert not grant.publish_video
            assert not grant.publish_data

    def test_host_is_publisher(self) -> None:
        a = build_rtc_token(APP_ID, APP_CERT, CHANNEL, UID, "host", 600, issue_ts=1, salt=7)
        b = build_rtc_token(
            APP_ID, APP_CERT, CHANNEL, UID, RtcRole.PUBLISHER, 600, issue_ts=1, salt=7
        )
        assert a == b

    def test_user_account(self) -> None:
        token = build_rtc_token(
            APP_ID, APP_CERT, CHANNEL, "alice", "publisher", 600, issue_ts=ISSUE_TS
        )
        assert verify(token, uid="alice").join
        with pytest.raises(TokenMismatchError, match="uid"):
            verify(token, uid="bob")

    def test_expired_token(self) -> None:
        with pytest.raises(TokenExpiredError, match="expired"):
            verify(PY_RTC, now=ISSUE_TS + EXPIRE)
        assert verify(PY_RTC, now=ISSUE_TS + EXPIRE - 1).join

    def test_expired_token_with_real_clock(self) -> None:
        with pytest.raises(TokenExpiredError):
            verify(PY_RTC, now=None)

    def test_privilege_expires_before_token(self) -> None:
        token = build_rtc_token(
            APP_ID, APP_CERT, CHANNEL, UID, "publisher", 600, 100, issue_ts=ISSUE_TS
        )
        early = verify(token, now=ISSUE_TS + 99)
        assert early.join and early.publish_video
        late = verify(token, now=ISSUE_TS + 100)
        assert not late.join and not late.can_publish

    def test_privilege_never_outlives_token_and_zero_means_token_lifetime(self) -> None:
        token = vector_token(
            RtcService(
                {RtcPrivilege.JOIN_CHANNEL: 0, RtcPrivilege.PUBLISH_AUDIO_STREAM: 9999}, CHANNEL
            )
        )
        grant = verify(token)
        assert grant.join and grant.publish_audio and not grant.publish_video
        assert dict(grant.privileges_expire_at) == {
            1: ISSUE_TS + EXPIRE,
            2: ISSUE_TS + EXPIRE,
        }

    def test_wrong_certificate(self) -> None:
        with pytest.raises(TokenMismatchError, match="signature"):
            verify(PY_RTC, app_certificate="0" * 32)

    def test_wrong_app_id(self) -> None:
        with pytest.raises(TokenMismatchError, match="app id"):
            verify(PY_RTC, app_id="0" * 32)

    def test_wrong_channel(self) -> None:
        with pytest.raises(TokenMismatchError, match="channel"):
            verify(PY_RTC, channel_name="other")

    def test_wrong_uid(self) -> None:
        with pytest.raises(TokenMismatchError, match="uid"):
            verify(PY_RTC, uid=UID + 1)
        assert verify(PY_RTC, uid=UID_STR).join

    def test_uid_0_is_a_wildcard(self) -> None:
        for uid in (1, UID, 4294967295, "alice"):
            grant = verify(PY_RTC_UID_0, uid=uid)
            assert grant.join and grant.any_uid

    def test_token_without_rtc_service(self) -> None:
        with pytest.raises(TokenMismatchError, match="no RTC"):
            verify(PY_CHAT_USER)

    def test_tampered_content_fails_signature(self) -> None:
        raw = raw_content(PY_RTC)
        forged = reencode(raw.replace(CHANNEL.encode(), b"x" * len(CHANNEL)))
        assert parse_token(forged).rtc_services()[0].channel_name == "x" * len(CHANNEL)
        with pytest.raises(TokenMismatchError, match="signature"):
            verify(forged, channel_name="x" * len(CHANNEL))

    def test_messages_never_contain_the_certificate(self) -> None:
        cases: list[dict[str, Any]] = [
            {"app_certificate": "0" * 32},
            {"app_id": "0" * 32},
            {"channel_name": "nope"},
            {"uid": 7},
            {"now": 2**32},
        ]
        for overrides in cases:
            with pytest.raises(TokenError) as info:
                verify(PY_RTC, **overrides)
            text = str(info.value).lower()
            assert APP_CERT.lower() not in text
        for bad in ("not-hex-at-all-but-32-characters", "5CFd2fd1755d40ecb72977518be15d3"):
            with pytest.raises(ValueError) as err:
                build_rtc_token(APP_ID, bad, CHANNEL, UID, "publisher", 60)
            assert bad not in str(err.value)
            with pytest.raises(ValueError) as err:
                verify(PY_RTC, app_certificate=bad)
            assert bad not in str(err.value)


# ---------------------------------------------------------------- parsing garbage


def _content(services: bytes, count: int) -> bytes:
    app = APP_ID.encode()
    head = struct.pack("<H", len(app)) + app + struct.pack("<IIIH", ISSUE_TS, EXPIRE, SALT, count)
    return struct.pack("<H", 32) + b"\0" * 32 + head + services


class TestGarbage:
    @pytest.mark.parametrize(
        "text",
        [
            "",
            "007",
            "006eJxTYBBbsMMnKq7p9Hf",
            "hello world",
            "007!!!!",
            "007" + base64.b64encode(b"not zlib at all").decode(),
            "007" + base64.b64encode(zlib.compress(b"\x01")).decode(),
            "007" + base64.b64encode(zlib.compress(b"")).decode(),
            PY_RTC[:60],
            PY_RTC[:-8],
            "007" + "A" * 20000,
            "007" + base64.b64encode(zlib.compress(b"\0" * 10_000_000)).decode(),
            reencode(raw_content(PY_RTC) + b"extra"),
            reencode(raw_content(PY_RTC)[:-3]),
            reencode(_content(struct.pack("<HH", 1, 0) + b"\x02\x00\xff\xfe\x00\x00", 1)),
        ],
    )
    def test_garbage_is_a_token_error(self, text: str) -> None:
        with pytest.raises(TokenError):
            parse_token(text)
        with pytest.raises(TokenError):
            verify(text)

    def test_non_text(self) -> None:
        with pytest.raises(TokenError, match="text"):
            parse_token(b"007abc")  # type: ignore[arg-type]

    def test_error_messages_are_readable(self) -> None:
        with pytest.raises(TokenError, match="must start with '007'"):
            parse_token("006abc")
        with pytest.raises(TokenError, match="base64"):
            parse_token("007%%%%")
        with pytest.raises(TokenError, match="zlib"):
            parse_token("007" + base64.b64encode(b"garbage!").decode())
        with pytest.raises(TokenError, match="truncated"):
            parse_token(reencode(raw_content(PY_RTC)[:50]))

    def test_stripped_padding_is_accepted(self) -> None:
        assert parse_token(PY_RTC_UID_0.rstrip("=")) == parse_token(PY_RTC_UID_0)

    def test_unknown_service_type_stops_decoding(self) -> None:
        known = RtcService({1: EXPIRE}, CHANNEL).pack()
        token = reencode(_content(known + struct.pack("<H", 99) + b"opaque", 2))
        parsed = parse_token(token)
        assert parsed.unknown_service_type == 99
        assert [s.service_type for s in parsed.services] == [ServiceType.RTC]


# ------------------------------------------------------------------ build checks


class TestBuild:
    def test_agora_id_format(self) -> None:
        assert is_agora_id(APP_ID) and is_agora_id(APP_CERT)
        for bad in ("", "abc", "Z70CA35de60c44645bbae8a215061b33", APP_ID + "0"):
            assert not is_agora_id(bad)
            with pytest.raises(ValueError, match="app_id"):
                build_rtc_token(bad, APP_CERT, CHANNEL, UID, "publisher", 60)

    def test_errors_belong_to_the_one_hierarchy(self) -> None:
        with pytest.raises(CloudRecordingError) as info:
            parse_token("garbage")
        assert info.value.code is ErrorCode.INVALID_PARAMETER
        assert issubclass(TokenExpiredError, TokenError)
        assert issubclass(TokenMismatchError, TokenError)
        with pytest.raises(InvalidParameterError) as bad:
            build_rtc_token(APP_ID, "x" * 32, CHANNEL, UID, "publisher", 60)
        assert bad.value.field == "app_certificate" and bad.value.value is None

    def test_bad_arguments(self) -> None:
        with pytest.raises(ValueError, match="uid"):
            build_rtc_token(APP_ID, APP_CERT, CHANNEL, 2**32, "publisher", 60)
        with pytest.raises(ValueError, match="uid"):
            build_rtc_token(APP_ID, APP_CERT, CHANNEL, -1, "publisher", 60)
        with pytest.raises(ValueError, match="role"):
            build_rtc_token(APP_ID, APP_CERT, CHANNEL, UID, "admin", 60)
        with pytest.raises(ValueError, match="expire"):
            build_rtc_token(APP_ID, APP_CERT, CHANNEL, UID, "publisher", -5)
        with pytest.raises(ValueError, match="service"):
            build_token(APP_ID, APP_CERT, [], 60)
        with pytest.raises(ValueError, match="at most"):
            build_rtc_token(APP_ID, APP_CERT, "c" * 70_000, UID, "publisher", 60)

    def test_random_salt_and_current_time(self) -> None:
        a = parse_token(build_rtc_token(APP_ID, APP_CERT, CHANNEL, UID, "publisher", 60))
        b = parse_token(build_rtc_token(APP_ID, APP_CERT, CHANNEL, UID, "publisher", 60))
        assert 1 <= a.salt <= 99_999_999
        assert abs(a.issue_ts - b.issue_ts) <= 1
        assert isinstance(a, AccessToken2)
