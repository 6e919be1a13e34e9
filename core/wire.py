"""The Agora Cloud Recording REST wire format of the config models.

Enums travel as Agora's numbers; field names are Agora's camelCase names (each
model field records its wire name in its help metadata). cloudrec's extensions are
only sent when ``extensions`` is true, so requests to Agora's hosted service carry
nothing it does not know.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any, get_args
from urllib.parse import urlsplit

import httpx
from pydantic import SecretStr

from core.config import (
    SECRET_FIELDS,
    CloudStorageConfig,
    ConfigModel,
    LayoutRegion,
    RecordingConfig,
    RecordingFileConfig,
    RtmpPublishConfig,
    SnapshotConfig,
    TranscodingConfig,
    UserBackground,
)
from core.enums import RecordingMode, StreamMode
from core.errors import InvalidParameterError

ENDPOINT_ALLOWED = "empty, or http(s)://host[:port] with a port from 1 to 65535"

_STORAGE_EXTENSION_PARAMS = ("endpoint", "localFolder")


def _wire_name(model: type[ConfigModel], name: str) -> str:
    extra = model.model_fields[name].json_schema_extra
    wire = extra.get("wire") if isinstance(extra, dict) else None
    return str(wire or name)


def wire_name(model: type[ConfigModel], name: str) -> str:
    """The name field ``name`` of ``model`` has on the REST wire (``background_color`` ->
    ``backgroundColor``; a dotted path too: ``layout_config.0.x_axis`` ->
    ``layoutConfig[0].x_axis``); a name the model lacks is returned as it is."""
    owner: type[ConfigModel] | None = model
    parts: list[str] = []
    for part in name.split("."):
        if part.isdigit() and parts:
            parts[-1] += f"[{part}]"
            continue
        if owner is None or part not in owner.model_fields:
            return name
        parts.append(_wire_name(owner, part))
        owner = _model_in(owner.model_fields[part].annotation)
    return ".".join(parts)


def _model_in(annotation: Any) -> type[ConfigModel] | None:
    """The config model a field holds (itself, or as the items of a tuple)."""
    if isinstance(annotation, type) and issubclass(annotation, ConfigModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _is_extension(model: type[ConfigModel], name: str) -> bool:
    return model.field_help(name).extension


def _encode(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, IntEnum):
        return int(value)
    if isinstance(value, ConfigModel):
        return to_wire(value)
    if isinstance(value, tuple):
        return [_encode(item) for item in value]
    return value


def to_wire(config: ConfigModel, *, extensions: bool = True) -> dict[str, Any]:
    """A config as the JSON object of Agora's REST API (secrets included: send, never log)."""
    model = type(config)
    body: dict[str, Any] = {}
    params: dict[str, Any] = {}
    for name in model.model_fields:
        if not extensions and _is_extension(model, name) and name != "file_name_prefix":
            continue
        value = getattr(config, name)
        if value is None or (name in ("layout_config", "background_config") and not value):
            continue  # no layoutConfig beside a preset layout, as Agora asks
        if name == "stream_mode" and value is StreamMode.DEFAULT:
            continue  # Agora's default, unsent (as recordingFileConfig's)
        wire = _wire_name(model, name)
        if isinstance(config, CloudStorageConfig) and wire in _STORAGE_EXTENSION_PARAMS:
            if value:
                params[wire] = value
            continue
        if isinstance(value, ConfigModel):
            body[wire] = to_wire(value, extensions=extensions)
        elif isinstance(config, LayoutRegion | UserBackground) and name == "uid":
            body[wire] = str(value)  # Agora's layoutConfig names a user as a string
        else:
            body[wire] = _encode(value)
    if params:
        body["extensionParams"] = params
    return body


_WIRE_ALIASES = {
    "unsubscribeAudioUids": "unSubscribeAudioUids",
    "unsubscribeVideoUids": "unSubscribeVideoUids",
}
"""Other spellings of Agora's fields that Agora's own references use (its Chinese
reference and REST clients write ``unsubscribeAudioUids``), read as the field."""


_NESTED: dict[str, type[ConfigModel]] = {
    "transcoding_config": TranscodingConfig,
    "recording_file_config": RecordingFileConfig,
    "snapshot_config": SnapshotConfig,
    "rtmp_publish_config": RtmpPublishConfig,
}
"""Fields whose value is a config of its own on the wire (a JSON object)."""

BESIDE_RECORDING_CONFIG = ("recordingFileConfig", "snapshotConfig", "rtmpPublishConfig")
"""RecordingConfig's fields that Agora's ``clientRequest`` carries beside
``recordingConfig``, not in it: :func:`start_request` and :func:`recording_config_from_wire`
move them."""


def _decode(model: type[ConfigModel], body: dict[str, Any]) -> dict[str, Any]:
    by_wire = {_wire_name(model, name): name for name in model.model_fields}
    data: dict[str, Any] = {}
    for alias, key in _WIRE_ALIASES.items():
        if alias in body and key in by_wire:
            if key in body:
                raise InvalidParameterError(
                    by_wire[key], body[alias], f"one of {key} and {alias} (the same field)"
                )
            body = {**body, key: body[alias]}
            del body[alias]
    for key, value in body.items():
        if key == "extensionParams" and isinstance(value, dict):
            data.update(_decode(model, value))
            continue
        if key not in by_wire:
            continue  # Agora fields cloudrec does not implement are ignored, as Agora does
        name = by_wire[key]
        nested = _NESTED.get(name)
        if nested is not None and isinstance(value, dict):
            value = nested(**_decode(nested, value))
        data[name] = value
    return data


def secret_wire_names(model: type[ConfigModel]) -> frozenset[str]:
    """The wire names of ``model``'s secret fields (:data:`~core.config.SECRET_FIELDS`)."""
    return frozenset(
        _wire_name(model, name) for name in model.model_fields if name in SECRET_FIELDS
    )


PATH_FIELDS = ("mode",)
"""RecordingConfig's fields that Agora's REST API carries in the URL, not in the body:
the recording mode (``.../mode/mix/start``, ``.../mode/individual/start``)."""


def recording_config_from_wire(
    body: dict[str, Any],
    client_request: dict[str, Any] | None = None,
    *,
    mode: RecordingMode | None = None,
) -> RecordingConfig:
    """Parse ``clientRequest.recordingConfig``, with ``recordingFileConfig`` and
    ``snapshotConfig`` from beside it in ``client_request`` and the recording ``mode`` of
    the request's path (``None``: from ``body``, as stored, else MIX); raises
    InvalidParameterError."""
    beside = {k: v for k, v in (client_request or {}).items() if k in BESIDE_RECORDING_CONFIG}
    path = {} if mode is None else {"mode": int(mode)}
    return RecordingConfig(**_decode(RecordingConfig, {**body, **beside, **path}))


def start_request(
    recording: RecordingConfig, storage: CloudStorageConfig, *, extensions: bool = True
) -> dict[str, Any]:
    """The configs of Agora's start ``clientRequest``: ``recordingConfig`` and
    ``storageConfig``, and ``recordingFileConfig`` (unless it is the default, HLS only)
    and ``snapshotConfig`` (when set) beside them, as Agora has them (secrets included:
    send, never log)."""
    body = to_wire(recording, extensions=extensions)
    for name in PATH_FIELDS:
        body.pop(name, None)  # in the URL: start_path()
    request = {name: body.pop(name) for name in BESIDE_RECORDING_CONFIG if name in body}
    if recording.recording_file_config == RecordingFileConfig():
        del request["recordingFileConfig"]  # Agora's default: HLS only
    return {
        "recordingConfig": body,
        **request,
        "storageConfig": to_wire(storage, extensions=extensions),
    }


def storage_config_from_wire(body: dict[str, Any]) -> CloudStorageConfig:
    """Parse ``clientRequest.storageConfig``; raises InvalidParameterError.

    The endpoint must also be a URL the uploader can send to (a port within 1-65535, a
    well-formed IPv6 address): the server checks it here, before it keeps any key."""
    config = CloudStorageConfig(**_decode(CloudStorageConfig, body))
    check_endpoint(config.endpoint)
    return config


def check_endpoint(endpoint: str) -> None:
    """Raise InvalidParameterError unless ``endpoint`` is empty or a URL httpx can use
    with a port from 1 to 65535 (the config's pattern alone lets ``:99999`` and
    ``[zz]`` through)."""
    if not endpoint:
        return
    try:
        port = urlsplit(endpoint).port
        httpx.URL(endpoint)
    except (ValueError, httpx.InvalidURL):
        raise InvalidParameterError("endpoint", endpoint, ENDPOINT_ALLOWED) from None
    if port == 0:
        raise InvalidParameterError("endpoint", endpoint, ENDPOINT_ALLOWED)
