"""The window's persistent settings: typed, versioned, and free of secrets.

Everything goes through :class:`AppSettings`, a thin typed layer over ``QSettings``.
Config drafts are stored as the models' own JSON (``model_dump(mode="json")``) with
every secret field removed first; storage profiles hold vendor, region, bucket,
endpoint, prefix and folder only; webhook endpoints their URL (without user and
password) and event types. Secrets (storage keys, a remote server's token, the
embedded server's token, webhook secrets) live in the OS keyring (``gui/keyring_store.py``).

``SETTINGS_VERSION`` is written on first use; a later version of the window migrates
older settings in :meth:`AppSettings._migrate` and never reads newer ones blindly.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

from core.config import SECRET_FIELDS

SETTINGS_VERSION = 1
ORGANIZATION = "cloudrec"
APPLICATION = "cloudrec"

SECRET_KEYS = SECRET_FIELDS | {"token"}
"""Never written to the settings file: the config models' secrets and a server token."""

LANGUAGES = ("", "en", "zh_CN")
"""Language overrides: "" follows the system locale."""


@dataclass(frozen=True)
class StorageProfile:
    """A named storage destination without its keys (those are in the keyring)."""

    name: str
    vendor: int
    region: int = 0
    bucket: str = ""
    endpoint: str = ""
    file_name_prefix: tuple[str, ...] = ()
    local_folder: str = ""

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StorageProfile:
        return cls(
            name=str(data["name"]),
            vendor=int(data["vendor"]),
            region=int(data.get("region", 0)),
            bucket=str(data.get("bucket", "")),
            endpoint=str(data.get("endpoint", "")),
            file_name_prefix=tuple(str(p) for p in data.get("file_name_prefix", ())),
            local_folder=str(data.get("local_folder", "")),
        )

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["file_name_prefix"] = list(self.file_name_prefix)
        return data


@dataclass(frozen=True)
class ServerChoice:
    """Which recording server the window talks to."""

    remote: bool = False
    url: str = ""
    """The remote server's base URL (the embedded server's URL is found at start)."""


@dataclass(frozen=True)
class WebhookEndpoint:
    """A webhook receiver the embedded server pushes notices to (docs/webhooks.md).

    ``url`` is kept without user and password: those and the signing secret are in the
    keyring (``gui/webhooks.py``). ``events``: the event types it takes, None for all.
    """

    url: str
    events: tuple[int, ...] | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WebhookEndpoint:
        events = data.get("events")
        return cls(
            url=str(data["url"]),
            events=None if events is None else tuple(int(e) for e in events),
        )

    def to_json(self) -> dict[str, Any]:
        return {"url": self.url, "events": None if self.events is None else list(self.events)}


def without_secrets(data: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``data`` with every secret field removed, at any depth."""
    clean: dict[str, Any] = {}
    for key, value in data.items():
        if key in SECRET_KEYS:
            continue
        clean[key] = without_secrets(value) if isinstance(value, dict) else value
    return clean


class AppSettings:
    """Typed access to the window's ``QSettings``."""

    def __init__(self, settings: QSettings | None = None) -> None:
        self._s = settings if settings is not None else QSettings(ORGANIZATION, APPLICATION)
        self._migrate()

    @property
    def qsettings(self) -> QSettings:
        return self._s

    def file_name(self) -> str:
        """Where the settings are stored (a file on Linux, the registry on Windows)."""
        return self._s.fileName()

    def sync(self) -> None:
        self._s.sync()

    def _migrate(self) -> None:
        stored = self._s.value("version")
        version = int(stored) if stored is not None else 0
        if version > SETTINGS_VERSION:
            # Written by a newer window: keep it, but read only what this version knows.
            return
        # Version 0 (nothing stored) needs no conversion; later versions add steps here.
        self._s.setValue("version", SETTINGS_VERSION)

    def _json(self, key: str, default: Any) -> Any:
        raw = self._s.value(key)
        if not isinstance(raw, str) or not raw:
            return default
        try:
            return json.loads(raw)
        except ValueError:
            return default

    def _set_json(self, key: str, value: Any) -> None:
        self._s.setValue(key, json.dumps(value, ensure_ascii=False, sort_keys=True))

    # window geometry
    def geometry(self) -> QByteArray | None:
        value = self._s.value("window/geometry")
        return value if isinstance(value, QByteArray) else None

    def window_state(self) -> QByteArray | None:
        value = self._s.value("window/state")
        return value if isinstance(value, QByteArray) else None

    def set_geometry(self, geometry: QByteArray, state: QByteArray) -> None:
        self._s.setValue("window/geometry", geometry)
        self._s.setValue("window/state", state)

    # the last configs of the new-recording panel (secrets removed)
    def draft(self, name: str) -> dict[str, Any]:
        value = self._json(f"drafts/{name}", {})
        return value if isinstance(value, dict) else {}

    def set_draft(self, name: str, values: dict[str, Any]) -> None:
        self._set_json(f"drafts/{name}", without_secrets(values))

    # storage profiles (keys are in the keyring)
    def profiles(self) -> list[StorageProfile]:
        result = []
        for item in self._json("storage/profiles", []):
            try:
                result.append(StorageProfile.from_json(item))
            except (KeyError, TypeError, ValueError):
                continue  # a damaged entry is skipped, not fatal
        return result

    def set_profiles(self, profiles: list[StorageProfile]) -> None:
        self._set_json("storage/profiles", [p.to_json() for p in profiles])

    def current_profile(self) -> str:
        return str(self._s.value("storage/current", "") or "")

    def set_current_profile(self, name: str) -> None:
        self._s.setValue("storage/current", name)

    # the embedded server's webhook endpoints (secrets and URL user/password: keyring)
    def webhooks(self) -> list[WebhookEndpoint]:
        result = []
        for item in self._json("webhooks/endpoints", []):
            try:
                result.append(WebhookEndpoint.from_json(item))
            except (KeyError, TypeError, ValueError):
                continue  # a damaged entry is skipped, not fatal
        return result

    def set_webhooks(self, endpoints: list[WebhookEndpoint]) -> None:
        self._set_json("webhooks/endpoints", [e.to_json() for e in endpoints])

    # language
    def language(self) -> str:
        value = str(self._s.value("ui/language", "") or "")
        return value if value in LANGUAGES else ""

    def set_language(self, language: str) -> None:
        self._s.setValue("ui/language", language if language in LANGUAGES else "")

    # the recording server
    def server(self) -> ServerChoice:
        return ServerChoice(
            remote=str(self._s.value("server/remote", "false")).lower() == "true",
            url=str(self._s.value("server/url", "") or ""),
        )

    def set_server(self, choice: ServerChoice) -> None:
        self._s.setValue("server/remote", "true" if choice.remote else "false")
        self._s.setValue("server/url", choice.url)

    def other_servers(self) -> list[str]:
        """Base URLs of the further remote servers the window holds beside its own one
        (their tokens are in the keyring; docs/gui.md, "Many servers")."""
        data = self._json("server/others", [])
        urls = (
            [u.rstrip("/") for u in data if isinstance(u, str) and u.strip()]
            if isinstance(data, list)
            else []
        )
        return list(dict.fromkeys(urls))

    def set_other_servers(self, urls: list[str]) -> None:
        self._set_json("server/others", list(dict.fromkeys(u.rstrip("/") for u in urls)))

    def embedded_server(self) -> tuple[str, int] | None:
        """URL and pid of an embedded server left running for background recordings."""
        data = self._json("server/embedded", None)
        if isinstance(data, dict) and isinstance(data.get("url"), str):
            return data["url"], int(data.get("pid", 0))
        return None

    def set_embedded_server(self, url: str | None, pid: int = 0) -> None:
        if url is None:
            self._s.remove("server/embedded")
        else:
            self._set_json("server/embedded", {"url": url, "pid": pid})

    def _int(self, key: str, default: int, low: int, high: int) -> int:
        """An integer setting clamped to ``low..high``; ``default`` when unreadable."""
        value = self._s.value(key, default)
        try:
            number = int(value) if isinstance(value, (int, str)) else default
        except ValueError:
            return default
        return max(low, min(high, number))

    # demo participants
    def demo_users(self) -> int:
        return self._int("demo/users", 3, 1, 16)

    def set_demo_users(self, users: int) -> None:
        self._s.setValue("demo/users", users)

    def layouts(self) -> dict[str, list[dict[str, Any]]]:
        """The custom layouts saved by name: each a list of ``layoutConfig`` items."""
        data = self._json("layouts", {})
        if not isinstance(data, dict):
            return {}
        return {str(k): v for k, v in data.items() if isinstance(v, list)}

    def set_layouts(self, layouts: dict[str, list[dict[str, Any]]]) -> None:
        self._set_json("layouts", layouts)

    def preview_users(self) -> int:
        return self._int("preview/users", 4, 0, 20)

    def set_preview_users(self, users: int) -> None:
        self._s.setValue("preview/users", users)

    # the first run (gui/first_run.py)
    def demo_offer(self) -> bool:
        """Whether recording an empty channel of the built-in server's sandbox offers demo
        participants (until "Don't ask again")."""
        return str(self._s.value("first_run/demo_offer", "true")).lower() == "true"

    def set_demo_offer(self, offer: bool) -> None:
        self._s.setValue("first_run/demo_offer", "true" if offer else "false")

    def recording_started(self) -> bool:
        """Whether a recording was ever started with these settings (the empty table's
        first-run hint is shown until then)."""
        return str(self._s.value("first_run/recording_started", "false")).lower() == "true"

    def set_recording_started(self) -> None:
        self._s.setValue("first_run/recording_started", "true")
