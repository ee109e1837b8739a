"""Ready for production: several worker processes, and HTTPS behind a TLS-terminating proxy.

A proxy that ends TLS talks plain HTTP to Crecer and says ``X-Forwarded-Proto: https``; only the peers
listed in CRECER_TRUSTED_PROXIES are believed (crecer.web.middleware.TrustedProxyMiddleware, and
gunicorn's forwarded_allow_ips with the same list).
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory, override_settings

from crecer.web.management.commands.serve import default_workers, gunicorn_options
from crecer.web.middleware import TrustedProxyMiddleware

TLS = {"SECURE_SSL_REDIRECT": True, "SESSION_COOKIE_SECURE": True, "CSRF_COOKIE_SECURE": True}


@pytest.mark.django_db
@override_settings(**TLS, CRECER_TRUSTED_PROXIES=["10.0.0.5", "192.168.50.0/24"])
def test_a_proxied_https_request_from_a_trusted_proxy_is_not_redirected():
    client = Client()
    for proxy in ("10.0.0.5", "192.168.50.7"):
        response = client.get("/login/", REMOTE_ADDR=proxy, HTTP_X_FORWARDED_PROTO="https")
        assert response.status_code == 200, proxy
    # The same proxy saying plain HTTP is redirected to HTTPS.
    response = client.get("/login/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_PROTO="http")
    assert response.status_code == 301
    assert response["Location"].startswith("https://")


@pytest.mark.django_db
@override_settings(**TLS, CRECER_TRUSTED_PROXIES=["10.0.0.5"])
def test_an_untrusted_peer_saying_https_is_ignored_and_redirected():
    response = Client().get("/login/", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/login/"


@pytest.mark.django_db
@override_settings(**TLS, CRECER_TRUSTED_PROXIES=[])
def test_no_proxy_is_trusted_by_default():
    response = Client().get("/login/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 301


def _seen(meta: dict[str, str], trusted: list[str]) -> HttpRequest:
    captured: list[HttpRequest] = []

    def view(request: HttpRequest) -> HttpResponse:
        captured.append(request)
        return HttpResponse()

    request = RequestFactory().get("/", **meta)
    with override_settings(CRECER_TRUSTED_PROXIES=trusted):
        TrustedProxyMiddleware(view)(request)
    return captured[0]


def test_the_client_address_comes_from_x_forwarded_for_only_through_a_trusted_proxy():
    forged_then_real = {"HTTP_X_FORWARDED_FOR": "1.2.3.4, 198.51.100.20", "HTTP_X_FORWARDED_PROTO": "https"}
    trusted = _seen({"REMOTE_ADDR": "10.0.0.5", **forged_then_real}, ["10.0.0.0/8"])
    # The rightmost entry is the one the proxy wrote; the client wrote the ones before it.
    assert trusted.META["REMOTE_ADDR"] == "198.51.100.20"
    assert trusted.META["CRECER_PEER_ADDR"] == "10.0.0.5"
    assert trusted.is_secure()

    # Two proxies in a row: the inner one's address is skipped.
    chained = _seen({"REMOTE_ADDR": "10.0.0.5", "HTTP_X_FORWARDED_FOR": "198.51.100.20, 10.0.0.9"}, ["10.0.0.0/8"])
    assert chained.META["REMOTE_ADDR"] == "198.51.100.20"
    assert not chained.is_secure()

    untrusted = _seen({"REMOTE_ADDR": "203.0.113.9", **forged_then_real}, ["10.0.0.0/8"])
    assert untrusted.META["REMOTE_ADDR"] == "203.0.113.9"
    assert not untrusted.is_secure()
    # Nothing downstream (login throttling, logs) can read the forged headers.
    for request in (trusted, untrusted):
        assert "HTTP_X_FORWARDED_FOR" not in request.META
        assert "HTTP_X_FORWARDED_PROTO" not in request.META


def test_a_bad_trusted_proxy_entry_is_named():
    with pytest.raises(ImproperlyConfigured, match="not-an-address"):
        _seen({"REMOTE_ADDR": "10.0.0.5"}, ["10.0.0.5", "not-an-address"])


def test_gunicorn_runs_several_workers_and_trusts_the_same_proxies():
    with override_settings(CRECER_TRUSTED_PROXIES=["10.0.0.5", "192.168.50.1/24"]):
        options = gunicorn_options(
            {"host": "10.1.2.3", "port": 8000, "workers": 5, "threads": 2, "timeout": 120, "access_log": None}
        )
    assert options["workers"] == 5
    assert options["worker_class"] == "gthread"
    assert options["bind"] == ["10.1.2.3:8000"]
    assert options["forwarded_allow_ips"] == "10.0.0.5/32,192.168.50.0/24"
    assert options["preload_app"]  # loaded and warmed once, then forked (crecer.web.warm)
    with override_settings(CRECER_TRUSTED_PROXIES=[]):
        options = gunicorn_options(
            {"host": "127.0.0.1", "port": 8000, "workers": 1, "threads": 2, "timeout": 120, "access_log": None}
        )
    assert options["forwarded_allow_ips"] == ""  # gunicorn's own default would trust 127.0.0.1


def test_default_workers_follow_the_cores_or_the_environment(monkeypatch):
    monkeypatch.delenv("CRECER_WORKERS", raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2}, raising=False)
    assert default_workers() == 3
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)
    assert default_workers() == 2  # at least two, so that a worker restarting leaves one answering
    monkeypatch.setenv("CRECER_WORKERS", "5")
    assert default_workers() == 5


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(port: int, headers: dict[str, str], source: str = "127.0.0.1") -> tuple[int, str]:
    """GET /login/ from the given loopback address (the whole 127/8 is local: a second peer to test)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
    try:
        connection.request("GET", "/login/", headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status, response.getheader("Location", "")
    finally:
        connection.close()


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_crecer_serve_runs_worker_processes_behind_a_tls_proxy(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        CRECER_DATA_DIR=str(tmp_path),
        CRECER_TLS="true",
        CRECER_TRUSTED_PROXIES="127.0.0.1",
        PYTHONPATH=str(Path(__file__).resolve().parents[1] / "src"),
    )
    command = [sys.executable, "-m", "crecer.cli", "serve", "--port", str(port), "--workers", "2"]
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # noqa: S603
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _ = _get(port, {"X-Forwarded-Proto": "https"})
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.3)
        assert status == 200  # the proxy said HTTPS: no redirect loop
        assert _get(port, {}) == (301, f"https://127.0.0.1:{port}/login/")
        # Another peer (not in CRECER_TRUSTED_PROXIES) saying HTTPS is not believed.
        assert _get(port, {"X-Forwarded-Proto": "https"}, source="127.0.0.2")[0] == 301
        # One worker answering does not mean both have booted (a loaded machine starts them slowly).
        deadline = time.monotonic() + 30
        while len(_children(server.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.3)
        assert len(_children(server.pid)) == 2
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0].decode()
    assert "gthread" in output


def test_serve_refuses_a_bad_trusted_proxy_before_starting():
    with (
        override_settings(CRECER_TRUSTED_PROXIES=["10.0.0.5", "proxy.example.cl"]),
        pytest.raises(CommandError, match=r"proxy\.example\.cl"),
    ):
        call_command("serve", "--workers", "1")
