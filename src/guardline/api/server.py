"""Run the HTTP service with uvicorn; TLS 1.3 is the minimum when Guardline terminates TLS itself."""

from __future__ import annotations

import os
import shutil
import ssl
import tempfile
from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess

from guardline.config import Settings
from guardline.errors import ConfigurationError


class _Tls13Config(uvicorn.Config):
    def load(self) -> None:
        super().load()
        if self.ssl is not None:
            # uvicorn builds a PROTOCOL_TLS_SERVER context that still accepts TLS 1.2: raise the floor.
            self.ssl.minimum_version = ssl.TLSVersion.TLSv1_3


def build_config(
    settings: Settings,
    *,
    app: object = "guardline.api.asgi:app",
    workers: int = 1,
    log_level: str = "info",
    access_log: bool = True,
    log_config: dict[str, Any] | None = None,
) -> uvicorn.Config:
    tls = settings.tls_certfile is not None or settings.tls_keyfile is not None
    if tls and (settings.tls_certfile is None or settings.tls_keyfile is None):
        raise ConfigurationError(
            "TLS needs both GUARDLINE_TLS_CERTFILE and GUARDLINE_TLS_KEYFILE (or --certfile/--keyfile)"
        )
    for path in (settings.tls_certfile, settings.tls_keyfile):
        if path is not None and not path.is_file():
            raise ConfigurationError(f"TLS file not found: {path}")
    proxy = settings.forwarded_allow_ips is not None
    return _Tls13Config(
        app,  # type: ignore[arg-type]
        host=settings.host,
        port=settings.port,
        workers=workers,
        ssl_certfile=str(settings.tls_certfile) if settings.tls_certfile else None,
        ssl_keyfile=str(settings.tls_keyfile) if settings.tls_keyfile else None,
        proxy_headers=proxy,
        forwarded_allow_ips=settings.forwarded_allow_ips if proxy else None,
        server_header=False,
        log_level=log_level,
        access_log=access_log,
        log_config=log_config if log_config is not None else uvicorn.config.LOGGING_CONFIG,
    )


def serve(
    settings: Settings,
    *,
    workers: int = 1,
    log_level: str = "info",
    access_log: bool = True,
    log_config: dict[str, Any] | None = None,
) -> None:
    config = build_config(
        settings, workers=workers, log_level=log_level, access_log=access_log, log_config=log_config
    )
    if workers > 1:
        # Prometheus counters of every worker in one place, so /metrics on any worker sums them all.
        # Set before the workers start (they read it when prometheus_client is first imported); a
        # fresh directory per start, removed at exit, so counts never carry over from an old run.
        ours = None
        if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            ours = os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="guardline-metrics-")
        try:
            Multiprocess(config, sockets=[config.bind_socket()]).run()
        finally:
            if ours is not None:
                shutil.rmtree(ours, ignore_errors=True)
    else:
        uvicorn.Server(config).run()
