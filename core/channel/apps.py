"""Apps the channel serves, and who may join and publish in them.

The sandbox app (:data:`core.enums.SANDBOX_APP_ID`) has no certificate: anyone
joins, the role comes from the request. An app configured with a certificate
(``CLOUDREC_APPS``, ``--apps-file PATH`` or ``--app APPID:CERTIFICATE``) needs an
AccessToken2 for the channel and uid; its privileges decide whether the user may
publish.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from core.channel.accesstoken import (
    RtcGrant,
    RtcPrivilege,
    TokenError,
    is_agora_id,
    parse_token,
    verify_rtc_token,
)
from core.channel.errors import PublishForbiddenError, UnauthorizedError, UnknownAppError
from core.channel.roster import Role
from core.enums import SANDBOX_APP_ID, ChannelType
from core.errors import InvalidParameterError


def parse_app_spec(spec: str) -> tuple[str, str]:
    """``"APPID:CERTIFICATE"`` -> (app ID, certificate); both 32 hex characters."""
    app_id, sep, certificate = spec.strip().partition(":")
    if not sep or not is_agora_id(app_id) or not is_agora_id(certificate):
        raise InvalidParameterError(
            "app", spec, "APPID:CERTIFICATE, both 32 hexadecimal characters", redact=True
        )
    return app_id, certificate


def parse_app_specs(specs: Iterable[str]) -> dict[str, str]:
    """Several specs (each may hold a comma or space separated list) -> {app ID: cert}."""
    apps: dict[str, str] = {}
    for spec in specs:
        for item in spec.replace(",", " ").split():
            app_id, certificate = parse_app_spec(item)
            apps[app_id] = certificate
    return apps


def parse_apps_file(text: str, source: str) -> dict[str, str]:
    """The apps of an apps file: one ``APPID:CERTIFICATE`` a line; blank lines and lines
    starting with ``#`` are skipped. A bad line is named by its number, never shown."""
    apps: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        item = line.strip()
        if not item or item.startswith("#"):
            continue
        try:
            app_id, certificate = parse_app_spec(item)
        except InvalidParameterError as exc:
            raise InvalidParameterError(
                f"{source}: line {number}", item, exc.allowed, redact=True
            ) from None
        apps[app_id] = certificate
    return apps


@dataclass(frozen=True)
class Admission:
    """What a joiner may do: its role, and which media it may publish."""

    role: Role
    publish_audio: bool = True
    publish_video: bool = True
    join_until: float | None = None
    """Unix time the token's join privilege ends (None: no token, no end)."""
    audio_until: float | None = None
    """Unix time the token's privilege to publish audio ends (None: not granted)."""
    video_until: float | None = None
    """Unix time the token's privilege to publish video ends (None: not granted)."""

    def ends_at(self, sends_audio: bool, sends_video: bool) -> float | None:
        """When a publisher admitted so and sending what it says must leave the channel
        (leave reason ``token_expired``): the earliest end of its join privilege and of
        the publish privilege of each kind it sends that the token grants. None: never
        (the sandbox app). A kind the token does not grant, published where that needs
        no privilege (COMMUNICATION), sets no end."""
        ends = [self.join_until]
        if sends_audio:
            ends.append(self.audio_until)
        if sends_video:
            ends.append(self.video_until)
        known = [end for end in ends if end is not None]
        return min(known) if known else None


class AppRegistry:
    """Known apps: the sandbox app plus the apps with certificates."""

    def __init__(self, certificates: Mapping[str, str] | None = None) -> None:
        self._certificates = dict(certificates or {})
        self._certificates.pop(SANDBOX_APP_ID, None)

    def app_ids(self) -> list[str]:
        """Every app ID served, the sandbox first."""
        return [SANDBOX_APP_ID, *self._certificates]

    def certificate(self, app_id: str) -> str | None:
        """The app certificate (None for the sandbox); UnknownAppError if not served."""
        if app_id == SANDBOX_APP_ID:
            return None
        try:
            return self._certificates[app_id]
        except KeyError:
            raise UnknownAppError(
                f"unknown app ID {app_id!r}: this server serves the sandbox app "
                f"{SANDBOX_APP_ID} and the apps configured with CLOUDREC_APPS, --apps-file or --app"
            ) from None

    def admit(
        self, app_id: str, channel: str, uid: int, token: str | None, requested_role: Role
    ) -> Admission:
        """Check the token (if the app needs one) and return the joiner's rights.

        Raises UnknownAppError (404), UnauthorizedError (401: missing, bad, expired or
        join-less token).
        """
        certificate = self.certificate(app_id)
        if certificate is None:
            return Admission(requested_role)
        if not token:
            raise UnauthorizedError(
                f"app {app_id} needs a token: send 'Authorization: Bearer <token>'"
            )
        try:
            grant = verify_rtc_token(
                token, app_id=app_id, app_certificate=certificate, channel_name=channel, uid=uid
            )
        except TokenError as exc:
            raise UnauthorizedError(f"token rejected: {exc.message}") from exc
        if not grant.join:
            raise UnauthorizedError("token rejected: its join privilege has expired")
        return _admission(grant, requested_role)

    def check_recorder(self, app_id: str, channel: str, uid: int, token: str | None) -> None:
        """Check the token a recorder of ``channel`` as ``uid`` presents (``start``'s
        ``clientRequest.token``), if the app needs one: it must be valid now, for this
        app, channel and uid, with the join privilege. Raises UnauthorizedError naming
        what is wrong, never quoting the token; apps this server does not serve and the
        sandbox app need none."""
        try:
            certificate = self.certificate(app_id)
        except UnknownAppError:
            return
        if certificate is None:
            return
        if not token:
            raise UnauthorizedError(f"missing; app {app_id} needs a token")
        try:
            grant = verify_rtc_token(
                token, app_id=app_id, app_certificate=certificate, channel_name=channel, uid=uid
            )
        except TokenError as exc:
            raise UnauthorizedError(exc.message) from exc
        if not grant.join:
            raise UnauthorizedError("its join privilege has expired")

    def check_roster(self, app_id: str, channel: str, token: str | None) -> None:
        """Check the token a reader of ``channel``'s roster presents, if the app needs
        one: an RTC token valid now for this app and channel (any uid; the one it names),
        with the join privilege. Raises UnauthorizedError naming what is wrong; the
        sandbox app's rosters are public."""
        certificate = self.certificate(app_id)
        if certificate is None:
            return
        if not token:
            raise UnauthorizedError(
                f"the roster of app {app_id} needs a token: send 'Authorization: Bearer "
                "<token>' with an RTC token for this channel (or the server's admin token)"
            )
        try:
            services = parse_token(token).rtc_services()
            accounts = [s.account for s in services if s.channel_name == channel]
            grant = verify_rtc_token(
                token,
                app_id=app_id,
                app_certificate=certificate,
                channel_name=channel,
                uid=accounts[0] if accounts else "",
            )
        except TokenError as exc:
            raise UnauthorizedError(f"token rejected: {exc.message}") from exc
        if not grant.join:
            raise UnauthorizedError("token rejected: its join privilege has expired")

    @staticmethod
    def check_publish(
        admission: Admission, channel_type: ChannelType, sends_audio: bool, sends_video: bool
    ) -> None:
        """Raise PublishForbiddenError (403) if the joiner may not publish what it offers.

        COMMUNICATION channels let everyone publish; in LIVE only hosts publish, and a
        token's publish privileges are checked per kind.
        """
        if channel_type is not ChannelType.LIVE:
            return
        if admission.role is not Role.HOST:
            raise PublishForbiddenError("audience members do not publish in a LIVE channel")
        if sends_audio and not admission.publish_audio:
            raise PublishForbiddenError("the token has no privilege to publish audio")
        if sends_video and not admission.publish_video:
            raise PublishForbiddenError("the token has no privilege to publish video")


def _admission(grant: RtcGrant, requested_role: Role) -> Admission:
    role = Role.HOST if grant.can_publish and requested_role is Role.HOST else Role.AUDIENCE
    ends = grant.privileges_expire_at

    def until(privilege: RtcPrivilege, live: bool) -> float | None:
        return float(ends[privilege]) if live and privilege in ends else None

    return Admission(
        role,
        grant.publish_audio,
        grant.publish_video,
        join_until=until(RtcPrivilege.JOIN_CHANNEL, grant.join),
        audio_until=until(RtcPrivilege.PUBLISH_AUDIO_STREAM, grant.publish_audio),
        video_until=until(RtcPrivilege.PUBLISH_VIDEO_STREAM, grant.publish_video),
    )
