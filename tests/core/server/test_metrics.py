"""/metrics (Prometheus's text format, parsed by prometheus_client's own parser) and the
health checks of a real server on 127.0.0.1, during and after a recording."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.core.server.test_http_recording import acquire, local
from tests.publishers import Publishers


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape, by name and labels."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_metrics_move_during_a_recording_and_health_checks_answer(
    channel_server: Any, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    base = channel_server.url
    async with httpx.AsyncClient(base_url=base) as anonymous:
        assert (await anonymous.get("/healthz")).text == "ok"
        ready = await anonymous.get("/readyz")
        assert (ready.status_code, ready.text) == (200, "ok")
        assert (await anonymous.get("/metrics")).status_code == 401  # the whole server's
    bearer = {"Authorization": f"Bearer {channel_server.settings.token}"}
    async with httpx.AsyncClient(base_url=base, headers=bearer) as operator:

        async def scrape() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
            answer = await operator.get("/metrics")
            assert answer.status_code == 200, answer.text
            assert answer.headers["content-type"].startswith("text/plain; version=")
            return samples(answer.text)

        idle = await scrape()
        assert idle[("cloudrec_recordings_active", ())] == 0
        assert idle[("cloudrec_data_free_bytes", ())] > 0
        assert ("process_cpu_seconds_total", ()) in idle
        rid = await acquire(http, "metrics", 9921)
        body = {"cname": "metrics", "uid": "9921", "clientRequest": {
            "recordingConfig": {"transcodingConfig": {"width": 320, "height": 240, "fps": 15,
                                                      "bitrate": 300}},
            "storageConfig": local(tmp_path / "rec")}}  # fmt: skip
        async with Publishers(channel_server.url, "metrics", [41], size=(160, 120)):
            started = await http.post(f"/resourceid/{rid}/mode/mix/start", json=body)
            assert started.status_code == 200, started.text
            sid = started.json()["sid"]
            label = (("sid", sid),)
            first = await scrape()
            for _ in range(150):  # until its first slice is stored
                if first.get(("cloudrec_recorded_bytes_total", label), 0) > 0:
                    break
                await asyncio.sleep(0.1)
                first = await scrape()
            await asyncio.sleep(5.0)  # more slices
            second = await scrape()
            stop = await http.post(f"/resourceid/{rid}/sid/{sid}/mode/mix/stop",
                                   json={"cname": "metrics", "uid": "9921", "clientRequest": {}})  # fmt: skip
            assert stop.status_code == 200, stop.text
        after = await scrape()
    assert first[("cloudrec_recordings_active", ())] == 1
    assert second[("cloudrec_recorded_bytes_total", label)] > first[
        ("cloudrec_recorded_bytes_total", label)
    ] > 0  # fmt: skip
    assert second[("process_cpu_seconds_total", ())] > first[("process_cpu_seconds_total", ())]
    assert ("cloudrec_render_lag_seconds", label) in second
    assert second[("cloudrec_dropped_frames_total", label)] == 0
    assert after[("cloudrec_recordings_active", ())] == 0
    assert ("cloudrec_recorded_bytes_total", label) not in after  # running recordings only
