"""``POST /v1/cloudrec/webhooks/test``: send a test notice to one webhook endpoint now
(extension; the operator only), for a settings page's "Send test event" button.

The endpoints are the server's (``cloudrec server --webhooks-from-env``), numbered in
the order of ``GET /v1/cloudrec/status``'s ``webhooks`` (the configuration's order).
The answer says whether the receiver took it (a 2xx within 10 s) or what went wrong,
in the words of the status endpoint's ``lastError``; the receiver's own answer body is
never read, and the secret and the URL's userinfo and query are never shown.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from pydantic import BaseModel, ConfigDict, Field

from core.server.recording_api import ApiError, authorize, require_operator
from core.server.webhooks import WebhookDeliverer

router = APIRouter(prefix="/v1/cloudrec", dependencies=[Depends(authorize)], tags=["cloudrec"])


class TestRequest(BaseModel):
    """Body of the test: which endpoint (its index in the status list)."""

    model_config = ConfigDict(extra="forbid")
    endpoint: int = Field(ge=0, le=1000)


@router.post("/webhooks/test")
async def send_test(body: TestRequest, request: Request) -> dict[str, Any]:
    """Send one signed test notice to webhook endpoint ``endpoint`` and answer
    ``{endpoint, eventType, noticeId, delivered, error, elapsedMs}`` (extension)."""
    require_operator(request, "send webhook test events")
    deliverer: WebhookDeliverer = request.app.state.webhooks
    try:
        return await deliverer.send_test(body.endpoint)
    except IndexError:
        count = len(deliverer.endpoints)
        which = f"0 to {count - 1}" if count else "none: the server has no webhook endpoints"
        raise ApiError(
            404, 404, f"no webhook endpoint {body.endpoint}; the endpoints are {which}"
        ) from None


def install(app: FastAPI) -> None:
    """Add the route to the server app (after ``app.state.webhooks`` is set)."""
    app.include_router(router)
