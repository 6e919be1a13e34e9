"""The SDK's call of the server's webhook test (``RestClient.send_webhook_test``), the
request the window's Send test event button makes. The server's side of it is
tests/core/server/test_webhook_delivery.py; a real server and receiver,
tests/gui/test_webhooks_embedded.py."""

from __future__ import annotations

import json

import httpx
import pytest

from core.errors import CloudRecordingError, ErrorCode
from core.sdk.client import Credentials, RestClient


async def test_send_webhook_test_posts_the_endpoints_place_and_returns_the_answer() -> None:
    seen: list[httpx.Request] = []
    answer = {
        "endpoint": "https://hooks.example.com/agora",
        "eventType": 40,
        "noticeId": "n-1",
        "delivered": False,
        "error": "answered HTTP 503",
        "elapsedMs": 7,
    }

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if json.loads(request.content) == {"endpoint": 1}:
            return httpx.Response(200, json=answer)
        return httpx.Response(
            404, json={"code": 404, "reason": "no webhook endpoint 5; the endpoints are 0 to 1"}
        )

    client = RestClient(
        "http://127.0.0.1:9", Credentials(bearer="tok"), transport=httpx.MockTransport(handle)
    )
    try:
        assert await client.send_webhook_test(1) == answer
        with pytest.raises(CloudRecordingError) as caught:
            await client.send_webhook_test(5)
    finally:
        await client.aclose()
    assert caught.value.message == "HTTP 404: no webhook endpoint 5; the endpoints are 0 to 1"
    assert caught.value.code is ErrorCode.INVALID_OPERATION
    assert [(r.method, r.url.path) for r in seen] == [("POST", "/v1/cloudrec/webhooks/test")] * 2
    assert seen[0].headers["Authorization"] == "Bearer tok"
