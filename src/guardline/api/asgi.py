"""The ASGI entry point uvicorn imports: ``guardline.api.asgi:app``, configured from GUARDLINE_* settings."""

from __future__ import annotations

from guardline.api.app import create_app

app = create_app()
