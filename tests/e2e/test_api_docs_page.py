"""The server's API page, /docs, works without internet (issue 28, item 15): Swagger UI's
files come from the server itself (swagger-ui-bundle-v2), and headless Chromium with
every other host unreachable renders the operations of the server's OpenAPI document."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.helpers import CHROMIUM, CHROMIUM_ARGS, require_browser


async def test_the_docs_page_refers_to_the_servers_own_files(channel_server) -> None:  # type: ignore[no-untyped-def]
    async with httpx.AsyncClient(base_url=channel_server.url) as http:
        page = await http.get("/docs")
        assert page.status_code == 200
        sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert sources and all(s.startswith("/docs/assets/") for s in sources), sources
        for source in sources:
            asset = await http.get(source)
            assert asset.status_code == 200 and len(asset.content) > 100, source


@pytest.mark.browser
async def test_the_docs_page_renders_offline(channel_server) -> None:  # type: ignore[no-untyped-def]
    playwright_api = require_browser()
    async with playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = await browser.new_context()
            outside: list[str] = []

            async def only_the_server(route):  # type: ignore[no-untyped-def]
                if route.request.url.startswith(channel_server.url):
                    await route.continue_()
                else:  # no internet: a CDN would never answer
                    outside.append(route.request.url)
                    await route.abort()

            await context.route("**/*", only_the_server)
            page = await context.new_page()
            console: list[str] = []
            page.on("console", lambda message: console.append(message.text))
            page.on("pageerror", lambda error: console.append(str(error)))
            await page.goto(f"{channel_server.url}/docs")
            await page.wait_for_selector(".swagger-ui .opblock", timeout=15_000)
            operations = await page.locator(".swagger-ui .opblock-summary-path").all_text_contents()
            assert any("/acquire" in path for path in operations), operations
            assert outside == [] and console == [], (outside, console)
        finally:
            await browser.close()
