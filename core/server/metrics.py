"""Metrics for Prometheus and health checks for load balancers (``docs/deploy.md``).

``GET /metrics`` (the operator's bearer token: the figures are the whole server's) is
Prometheus's text format, written by the official ``prometheus_client`` from what the
server knows at the moment of the scrape: the process's CPU and memory (its
``ProcessCollector``), the recordings running, each running recording's renderer lag,
dropped and late frames and recorded bytes (labelled by ``sid``), the upload backlog
and the recordings whose uploads fail now, each webhook endpoint's backlog, and the
free space of the data folder. ``GET /healthz`` answers 200 while the process serves
(liveness); ``GET /readyz`` 200 while it takes new recordings and 503 while it drains
or its state database cannot be written (readiness). Neither health check needs a
token nor says more than ``ok`` or why not.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from core.server.recording_api import authorize, require_operator

router = APIRouter(tags=["cloudrec"])


class ServerCollector(Collector):
    """The server's figures at the time of a scrape (see the module docstring)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.webhook_backlogs: dict[str, int] = {}
        """Each webhook endpoint's backlog, read before a scrape (it is async)."""

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        service = self.app.state.recordings
        sessions = [s for s in service.sessions() if not s.finished]
        yield GaugeMetricFamily("cloudrec_recordings_active", "Recordings running now.",
                                value=len(sessions))  # fmt: skip
        lag = GaugeMetricFamily("cloudrec_render_lag_seconds",
                                "Seconds a recording's renderer is behind.", labels=["sid"])  # fmt: skip
        dropped = CounterMetricFamily("cloudrec_dropped_frames",
                                      "Users' frames a recording lost.", labels=["sid"])  # fmt: skip
        late = CounterMetricFamily("cloudrec_late_frames",
                                   "Frames that came after their tick.", labels=["sid"])  # fmt: skip
        recorded = CounterMetricFamily("cloudrec_recorded_bytes",
                                       "Bytes of slices stored.", labels=["sid"])  # fmt: skip
        for session in sessions:
            recorder = session.recorder
            if recorder is None:
                continue
            sid = session.sid
            lag.add_metric([sid], recorder.render_lag)
            dropped.add_metric([sid], recorder.dropped_frames)
            late.add_metric([sid], recorder.late_frames)
            recorded.add_metric([sid], recorder.recorded_bytes)
        yield from (lag, dropped, late, recorded)
        uploaders = [s.uploader for s in service.sessions() if s.uploader is not None]
        yield GaugeMetricFamily(
            "cloudrec_upload_backlog_files",
            "Slices and files only in the local backup, not yet in their destination.",
            value=sum(u.pending for u in uploaders),
        )
        yield GaugeMetricFamily(
            "cloudrec_uploads_failing",
            "Recordings whose uploads fail now (retrying).",
            value=sum(1 for u in uploaders if u.failing),
        )
        hooks = GaugeMetricFamily("cloudrec_webhook_backlog",
                                  "Notices a webhook endpoint has not received yet.",
                                  labels=["endpoint"])  # fmt: skip
        for endpoint, backlog in self.webhook_backlogs.items():
            hooks.add_metric([endpoint], backlog)
        yield hooks
        free = shutil.disk_usage(service.data_dir).free
        yield GaugeMetricFamily("cloudrec_data_free_bytes",
                                "Free bytes where the data folder lies.", value=free)  # fmt: skip


def _registry(app: Any) -> tuple[CollectorRegistry, ServerCollector]:
    found = getattr(app.state, "metrics", None)
    if found is None:
        registry = CollectorRegistry(auto_describe=False)
        ProcessCollector(registry=registry)
        collector = ServerCollector(app)
        registry.register(collector)
        found = app.state.metrics = (registry, collector)
    return found


@router.get("/metrics", dependencies=[Depends(authorize)])
async def metrics(request: Request) -> Response:
    """The server's figures in Prometheus's text format (the operator's token)."""
    require_operator(request, "read the server's metrics")
    registry, collector = _registry(request.app)
    webhooks = getattr(request.app.state, "webhooks", None)
    if webhooks is not None:
        collector.webhook_backlogs = {e["endpoint"]: e["backlog"] for e in await webhooks.status()}
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


@router.get("/healthz", response_class=PlainTextResponse)
async def healthz() -> str:
    """Liveness: the process serves."""
    return "ok"


@router.get("/readyz", response_class=PlainTextResponse)
async def readyz(request: Request) -> Response:
    """Readiness: it takes new recordings (not draining, its database writable)."""
    service = request.app.state.recordings
    why = service.not_ready()
    if why:
        return PlainTextResponse(why, status_code=503)
    return PlainTextResponse("ok")
