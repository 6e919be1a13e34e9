"""The API's documentation page, ``/docs``, served from local files.

FastAPI's default ``/docs`` loads Swagger UI's scripts and styles from a CDN: on a
server without internet (most recording servers) the page stays blank. The
``swagger-ui-bundle-v2`` package (Swagger UI 5: FastAPI writes OpenAPI 3.1, which Swagger
UI 4 cannot show) ships Swagger UI's distribution files; they are served
under ``/docs/assets`` and the page refers to them only (``/openapi.json`` is the
server's own).
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

ASSETS = "/docs/assets"


def install(app: FastAPI) -> None:
    """Add ``/docs`` and its assets to ``app`` (made with ``docs_url=None``)."""
    app.mount(ASSETS, StaticFiles(directory=swagger_ui_path), name="swagger-ui")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} - API",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
        )
