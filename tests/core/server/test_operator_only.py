"""Only the server's operator (its bearer token) steers the server itself: a Basic
customer may neither make it exit nor renew its lease (docs/security.md)."""

from __future__ import annotations

import base64
from typing import Any

import httpx

from tests.conftest import TEST_CUSTOMER

FORBIDDEN = "forbidden: only the server's operator (its bearer token) may "


async def test_a_customer_cannot_make_the_server_exit_or_renew_its_lease(
    channel_server: Any,
) -> None:
    basic = "Basic " + base64.b64encode(":".join(TEST_CUSTOMER).encode()).decode()
    bearer = f"Bearer {channel_server.settings.token}"
    async with httpx.AsyncClient(base_url=f"{channel_server.url}/v1/cloudrec") as http:
        for path, what in (("/exit-when-done", "make the server exit"),
                           ("/lease", "renew the server's lease")):  # fmt: skip
            refused = await http.post(path, headers={"Authorization": basic})
            assert refused.status_code == 403
            assert refused.json() == {"code": 403, "reason": FORBIDDEN + what}
        # the operator: the fixture's server has no lease and is not run by `cloudrec
        # server` (it cannot stop itself), which is its documented answer
        lease = await http.post("/lease", headers={"Authorization": bearer})
        assert lease.json() == {"ok": True, "leaseSeconds": None}
        leave = await http.post("/exit-when-done", headers={"Authorization": bearer})
        assert leave.status_code == 409
        # a customer still reads its own recordings
        mine = await http.get("/recordings", headers={"Authorization": basic})
        assert mine.status_code == 200
