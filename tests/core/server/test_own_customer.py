"""Basic auth by default, as Agora's REST API (issue 17, item 7): a ``cloudrec server``
child process given no customers makes one REST customer on its first start, prints
its ID and secret once, keeps only a salted hash, and accepts it with HTTP Basic on
Agora's paths, across restarts; ``--no-basic`` and ``--customers-from-env`` make none.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from pathlib import Path

import httpx

from core.enums import SANDBOX_APP_ID
from tests.core.server.test_server_secrets_cli import environment
from tests.server_process import server_process

ACQUIRE = f"/v1/apps/{SANDBOX_APP_ID}/cloud_recording/acquire"
BODY = {"cname": "basic", "uid": "5", "clientRequest": {}}
MADE = re.compile(
    r"REST customer \(Basic auth\): ([0-9a-f]{32}):([A-Za-z0-9_-]{43}) \(customer ID:secret, "
    r"shown this once; the server keeps only a hash of the secret\)"
)


async def acquire(url: str, auth: tuple[str, str]) -> httpx.Response:
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        return await http.post(ACQUIRE, json=BODY, auth=auth)


async def test_the_first_start_makes_a_customer_shown_once_and_kept_as_a_hash(
    tmp_path: Path,
) -> None:
    async with server_process(tmp_path, env=environment()) as running:
        line = running.stdout().splitlines()[2]
        made = MADE.fullmatch(line)
        assert made, line
        customer, secret = made[1], made[2]
        answer = await acquire(running.url, (customer, secret))
        assert answer.status_code == 200, answer.text
        assert answer.json()["cname"] == "basic"
        for wrong in ((customer, secret[:-1]), (customer, secret + "x"), ("other", secret)):
            refused = await acquire(running.url, wrong)
            assert refused.status_code == 401, wrong
        stored = running.stored()
    # only a salted SHA-256 of the secret is kept, readable by the server's user alone
    path = tmp_path / "data" / "customers.json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert secret.encode() not in stored
    kept = path.read_text()
    salt, digest = re.fullmatch(
        rf'{{"customer": {{"id": "{customer}", "salt": "([0-9a-f]{{32}})", '
        r'"sha256": "([0-9a-f]{64})"}}',
        kept,
    ).groups()  # type: ignore[union-attr]
    assert hashlib.sha256(bytes.fromhex(salt) + secret.encode()).hexdigest() == digest

    # a restart on the same data folder: the same customer, its ID shown, not its secret
    (tmp_path / "stdout.txt").unlink()
    async with server_process(tmp_path, env=environment()) as again:
        assert again.stdout().splitlines()[2] == (
            f"REST customer (Basic auth): {customer} (its secret was shown when it was made)"
        )
        assert secret not in again.printed()
        answer = await acquire(again.url, (customer, secret))
        assert answer.status_code == 200, answer.text


async def test_no_basic_and_customers_from_env_make_no_customer(tmp_path: Path) -> None:
    for flags, env in (
        (("--no-basic",), environment()),
        (("--customers-from-env",), environment(CLOUDREC_CUSTOMERS="c1:s1")),
    ):
        folder = tmp_path / flags[0].strip("-")
        folder.mkdir()
        async with server_process(folder, *flags, env=env) as running:
            assert len(running.stdout().splitlines()) == 2  # URL and admin token only
            assert not (folder / "data" / "customers.json").exists()
            expected = 200 if flags == ("--customers-from-env",) else 401
            answer = await acquire(running.url, ("c1", "s1"))
            assert answer.status_code == expected, answer.text
