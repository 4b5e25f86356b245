"""TLS termination: TLS 1.3 is the floor (a TLS 1.2 client is refused), HSTS is sent."""

from __future__ import annotations

import datetime as dt
import http.client
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fastapi import FastAPI

from guardline.api.middleware import SecurityHeaders
from guardline.api.server import build_config
from guardline.config import Settings
from guardline.errors import ConfigurationError


def self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    certfile, keyfile = directory / "cert.pem", directory / "key.pem"
    certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    keyfile.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return certfile, keyfile


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    certfile, keyfile = self_signed(tmp_path)
    app = FastAPI()

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    port = free_port()
    settings = Settings(
        data_dir=tmp_path,
        port=port,
        tls_certfile=certfile,
        tls_keyfile=keyfile,
        _env_file=None,  # type: ignore[call-arg]
    )
    config = build_config(settings, app=SecurityHeaders(app, hsts=True), log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started
    yield port, certfile
    server.should_exit = True
    thread.join(timeout=10)


def client_context(certfile: Path, version: ssl.TLSVersion) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(certfile))
    context.minimum_version = version
    context.maximum_version = version
    return context


def test_tls13_client_is_served_with_hsts(tls_server: tuple[int, Path]) -> None:
    port, certfile = tls_server
    conn = http.client.HTTPSConnection(
        "localhost", port, context=client_context(certfile, ssl.TLSVersion.TLSv1_3)
    )
    conn.request("GET", "/healthz")
    response = conn.getresponse()
    assert response.status == 200
    assert "max-age=" in (response.getheader("strict-transport-security") or "")
    assert conn.sock is not None
    assert conn.sock.version() == "TLSv1.3"
    conn.close()


def test_tls12_client_is_refused(tls_server: tuple[int, Path]) -> None:
    port, certfile = tls_server
    conn = http.client.HTTPSConnection(
        "localhost", port, context=client_context(certfile, ssl.TLSVersion.TLSv1_2)
    )
    with pytest.raises(ssl.SSLError):
        conn.request("GET", "/healthz")
    conn.close()


def test_half_configured_tls_is_refused(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, tls_certfile=tmp_path / "cert.pem", _env_file=None)  # type: ignore[call-arg]
    with pytest.raises(ConfigurationError, match="KEYFILE"):
        build_config(settings)


def test_proxy_mode_trusts_forwarded_headers_from_the_proxy_only(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, forwarded_allow_ips="10.0.0.5", _env_file=None)  # type: ignore[call-arg]
    config = build_config(settings)
    assert config.proxy_headers is True
    assert config.forwarded_allow_ips == "10.0.0.5"
    assert build_config(Settings(data_dir=tmp_path, _env_file=None)).proxy_headers is False  # type: ignore[call-arg]


def test_hsts_follows_the_scheme_the_proxy_reports() -> None:
    from fastapi.testclient import TestClient

    app = FastAPI()

    @app.get("/x")
    def x() -> dict[str, str]:
        return {}

    client = TestClient(SecurityHeaders(app, hsts=False), base_url="https://guardline.test")
    assert "max-age" in client.get("/x").headers["strict-transport-security"]
    plain = TestClient(SecurityHeaders(app, hsts=False), base_url="http://guardline.test")
    assert "strict-transport-security" not in plain.get("/x").headers
