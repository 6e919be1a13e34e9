"""Where a REST client may make the server write, and which hosts it may make it call.

A ``start`` or ``storage/check`` names a local folder (``extensionParams.localFolder``)
and an S3 endpoint (``extensionParams.endpoint``) on the *server*; without limits any
client holding a credential (the bearer token, a Basic customer) could make the server
create folders and write files wherever its user can, or send signed requests to any
host and port (a port scanner inside the server's network). :class:`Confinement` holds
the operator's limits (``cloudrec server --storage-root``, ``--allow-endpoint``) and
checks a :class:`~core.config.CloudStorageConfig` against them before anything is made
or sent; docs/security.md, "Confinement", is the reference.

- **Folders.** The server's recordings folder (``<data folder>/recordings``, where an
  empty ``localFolder`` writes) is always a root; each ``--storage-root`` adds one. A
  folder is accepted when, with ``~`` expanded, it is absolute, holds no ``..``
  component, lies inside a root as written (or as the root's real path), and its real
  path (symbolic links resolved) lies inside a root's real path, and not in the rest of
  the server's data folder (state, backup, work). Only the folder as written is ever
  quoted: never the roots, never what a link points to.
- **Endpoints.** Requests to the vendors' region endpoints (``core/regions.py``, an empty
  ``endpoint``) are always allowed. An endpoint override must name, exactly as written
  (``127.0.0.1`` does not allow ``localhost``, ``127.1`` or ``[::ffff:127.0.0.1]``), a host
  of the allowlist: the region hosts on port 443, and each ``--allow-endpoint
  HOST[:PORT]`` (without a port: any port of that host). Loopback is never allowed by
  default.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePath
from urllib.parse import urlsplit

import httpx

from core.config import CloudStorageConfig
from core.enums import StorageVendor
from core.errors import InvalidParameterError
from core.regions import REGION_TABLES

LOCAL_FOLDER_FIELD = "storageConfig.extensionParams.localFolder"
ENDPOINT_FIELD = "storageConfig.extensionParams.endpoint"

LOCAL_FOLDER_ALLOWED = (
    "an absolute path (or ~/...) without '..' of a folder inside the server's storage roots; "
    "empty for the server's recordings folder (the server's operator adds roots with "
    "cloudrec server --storage-root)"
)
ENDPOINT_NOT_ALLOWED = (
    "a host this server may send to: empty for the vendor's region endpoint, or a host[:port] "
    "the server's operator allows (cloudrec server --allow-endpoint)"
)

QUOTED_LIMIT = 120
"""Characters of a refused value quoted in the reason (then its length)."""

_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class EndpointRule:
    """One allowed host, and its port (None: any port of the host)."""

    host: str
    port: int | None = None

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port is None else f"{host}:{self.port}"

    def allows(self, host: str, port: int) -> bool:
        return _same_host(self.host, host) and self.port in (None, port)


def parse_endpoint_rule(text: str) -> EndpointRule:
    """``HOST``, ``HOST:PORT``, ``[IPV6]`` or ``[IPV6]:PORT`` as a rule; raises ValueError
    saying what is wrong."""
    spec = text.strip()
    wrong = ValueError(
        f"{text!r} is not HOST or HOST:PORT (a port from 1 to 65535; an IPv6 address in "
        "brackets), e.g. minio.example.com:9000 or [::1]:9000"
    )
    if not spec or any(ch in spec for ch in "/?#@ \\"):
        raise wrong
    try:
        parts = urlsplit(f"//{spec}")
        host, port = parts.hostname, parts.port
    except ValueError:
        raise wrong from None
    if not host or port == 0 or (":" in host and not spec.startswith("[")):
        raise wrong
    return EndpointRule(host.lower(), port)


def region_rules() -> tuple[EndpointRule, ...]:
    """The vendors' region endpoint hosts (``core/regions.py``), on https's port."""
    hosts = sorted({info.endpoint for table in REGION_TABLES.values() for info in table})
    return tuple(EndpointRule(host.lower(), 443) for host in hosts)


def _same_host(allowed: str, host: str) -> bool:
    """Equal host names (case-insensitive), or equal IP addresses however written in
    brackets; other spellings of an address (``127.1``, ``2130706433``) are names and
    match only themselves."""
    if allowed == host:
        return True
    try:
        return ipaddress.ip_address(allowed) == ipaddress.ip_address(host)
    except ValueError:
        return False


def _quoted(value: str) -> str:
    if len(value) <= QUOTED_LIMIT:
        return repr(value)
    return f"{value[:QUOTED_LIMIT]!r}... ({len(value)} characters)"


def _refusal(field: str, value: str, allowed: str) -> InvalidParameterError:
    error = InvalidParameterError(field, value[:QUOTED_LIMIT], allowed)
    error.shown = _quoted(value)
    error.args = (f"{field}: {error.shown} is not allowed; {allowed}",)
    error.message = error.args[0]
    return error


def _inside(path: str, root: str) -> bool:
    return PurePath(path).is_relative_to(PurePath(root))


class Confinement:
    """The storage roots and endpoint allowlist of one server."""

    def __init__(
        self,
        data_dir: Path,
        storage_roots: Iterable[Path] = (),
        allowed_endpoints: Iterable[str] = (),
    ) -> None:
        self.data_dir = Path(os.path.abspath(data_dir))
        self.default_folder = self.data_dir / "recordings"
        """Where an empty ``localFolder`` writes; always a root."""
        roots = [self.default_folder]
        for root in storage_roots:
            absolute = Path(os.path.abspath(os.path.expanduser(root)))
            if absolute not in roots:
                roots.append(absolute)
        self.storage_roots: tuple[Path, ...] = tuple(roots)
        rules = list(region_rules())
        for spec in allowed_endpoints:
            rule = parse_endpoint_rule(spec)
            if rule not in rules:
                rules.append(rule)
        self.endpoint_rules: tuple[EndpointRule, ...] = tuple(rules)

    def check(self, storage: CloudStorageConfig) -> Path | None:
        """Raise :class:`InvalidParameterError` unless ``storage`` stays inside the limits;
        the real path of its local folder (None for a cloud vendor or an empty folder).

        Only what the storage uses is checked: the folder of the LOCAL vendor, the
        endpoint of a cloud vendor (each is ignored by the other)."""
        if storage.vendor is StorageVendor.LOCAL:
            return self.local_folder(storage.local_folder) if storage.local_folder else None
        if storage.endpoint:
            self.check_endpoint(storage.endpoint)
        return None

    def local_folder(self, folder: str) -> Path:
        """The real path of ``folder`` if it lies inside a storage root; otherwise an
        :class:`InvalidParameterError` that says the same whatever the reason, and looks
        at nothing outside the roots to decide."""
        refused = _refusal(LOCAL_FOLDER_FIELD, folder, LOCAL_FOLDER_ALLOWED)
        try:
            real = self._real_inside(folder)
        except (OSError, ValueError):  # a NUL byte, a name too long for the system
            real = None
        if real is None:
            raise refused
        return real

    def _real_inside(self, folder: str) -> Path | None:
        written = os.path.expanduser(folder)
        if not os.path.isabs(written) or ".." in PurePath(written).parts:
            return None
        lexical = os.path.normpath(written)
        real_roots = [os.path.realpath(root) for root in self.storage_roots]
        # As written, the folder must already be inside a root: then resolving its links
        # looks only at the root's own path and at what lies inside the root.
        if not any(
            _inside(lexical, str(root)) or _inside(lexical, real)
            for root, real in zip(self.storage_roots, real_roots, strict=True)
        ):
            return None
        real = os.path.realpath(lexical)
        if not any(_inside(real, root) for root in real_roots):
            return None  # a link inside a root that points out of it
        data_dir = os.path.realpath(self.data_dir)
        if _inside(real, data_dir) and not _inside(real, os.path.realpath(self.default_folder)):
            return None  # the server's own state, backup and work folders
        return Path(real)

    def allows_host(self, host: str, port: int) -> bool:
        """Whether ``host`` (as written) and ``port`` are on the allowlist."""
        return any(rule.allows(host.lower(), port) for rule in self.endpoint_rules)

    def check_endpoint(self, endpoint: str) -> None:
        """Raise :class:`InvalidParameterError` unless ``endpoint``'s host and port are
        allowed (the endpoint is already a well-formed URL: ``core.wire.check_endpoint``)."""
        try:
            url = httpx.URL(endpoint)
            host = url.host.lower()
            port = url.port or _DEFAULT_PORTS.get(url.scheme, 0)
        except (ValueError, httpx.InvalidURL):
            raise _refusal(ENDPOINT_FIELD, endpoint, ENDPOINT_NOT_ALLOWED) from None
        if not host or not any(rule.allows(host, port) for rule in self.endpoint_rules):
            raise _refusal(ENDPOINT_FIELD, endpoint, ENDPOINT_NOT_ALLOWED)
