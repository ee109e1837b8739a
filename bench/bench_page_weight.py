"""Benchmark: the pages on a slow phone link (400 kbit/s, 400 ms latency) with an empty cache: load time and bytes.

    .venv/bin/python bench/bench_page_weight.py [--children 200] [--rounds 3] [--before main]
        [--latency 400] [--kbps 400]

Prepares a database as ``crecer demo`` does (a SYNTHETIC country of ``--children`` children, the demo
users, the showcase child and family) in ``bench/out/page-weight/``, then serves it with
``crecer serve`` (gunicorn, 2 workers) and loads each page in Debian's chromium (Playwright), each time
in a new browser context (an empty cache), with Chrome's network emulation
(``Network.emulateNetworkConditions``: ``--latency`` ms added to every request, ``--kbps`` kbit/s down
and up). It prints, per page, the median load time over ``--rounds`` loads (navigation start to the
``load`` event: the page, its stylesheet and its script), the requests, the bytes on the wire
(headers and compressed bodies) and the bytes once decoded.

With ``--before REV`` the same pages are loaded first from the source of git revision REV
(``git archive REV src``, e.g. ``main``), on the same database with its own empty static folder, then
from this checkout: the figures before and after, in one run. Signed-in pages are read as the health
worker "salud" (a session made for her in the database; both servers share the secret key).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out" / "page-weight"
SRC = HERE.parent / "src"

PREPARE = """
import json, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crecer.settings")
import django
django.setup()
from django.core.management import call_command
from django.test import Client
from crecer.access.models import User
from crecer.registry.models import Child
call_command("demo", children=int(os.environ["BENCH_CHILDREN"]), no_serve=True, verbosity=0)
salud = User.objects.get(username="salud")
child = Child.unscoped.filter(facility=salud.facility, voided_at__isnull=True).order_by("pk").first()
client = Client()
client.force_login(salud)
print("PREPARED " + json.dumps({"child": child.pk, "session": client.cookies["sessionid"].value}))
"""

# (name, path, signed in): the front line's daily pages and the sign-in page.
PAGES = [
    ("sign-in", "/login/", False),
    ("home", "/", True),
    ("worklist", "/worklists/", True),
    ("children", "/children/", True),
    ("child", "/children/{child}/", True),
    ("check-up", "/children/{child}/check-up/", True),
    ("referrals", "/referrals/", True),
    ("indicators", "/monitoring/", True),
]

MEASURE = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const all = [nav, ...performance.getEntriesByType('resource')];
  return {
    load: nav.loadEventEnd,
    first_byte: nav.responseStart,
    requests: all.length,
    transferred: all.reduce((s, e) => s + e.transferSize, 0),
    decoded: all.reduce((s, e) => s + e.decodedBodySize, 0),
  };
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def environment(src: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(src),
        CRECER_DATA_DIR=str(OUT),
        CRECER_TWO_FACTOR_ROLES="none",
        DJANGO_SETTINGS_MODULE="crecer.settings",
    )
    return env


def prepare(children: int) -> dict[str, int | str]:
    OUT.mkdir(parents=True, exist_ok=True)
    env = {**environment(SRC), "BENCH_CHILDREN": str(children)}
    done = subprocess.run([sys.executable, "-c", PREPARE], env=env, capture_output=True, text=True, check=True)
    line = next(x for x in done.stdout.splitlines() if x.startswith("PREPARED "))
    return dict(json.loads(line.removeprefix("PREPARED ")))


@contextmanager
def server(src: Path) -> Iterator[str]:
    port = free_port()
    command = [sys.executable, "-m", "crecer.cli", "serve", "--port", str(port), "--workers", "2"]
    process = subprocess.Popen(command, env=environment(src), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(base + "/login/", timeout=5)  # noqa: S310 (our own loopback server)
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise SystemExit(f"the server from {src} did not start") from None
                time.sleep(0.5)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextmanager
def source_of(revision: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="crecer-before-") as folder:
        archive = subprocess.run(
            ["git", "-C", str(HERE.parent), "archive", "--format=tar", revision, "src"], capture_output=True, check=True
        ).stdout
        tar = Path(folder) / "src.tar"
        tar.write_bytes(archive)
        with tarfile.open(tar) as t:
            t.extractall(folder, filter="data")
        yield Path(folder) / "src"


def load_pages(browser: object, base: str, prepared: dict[str, int | str], args: argparse.Namespace) -> dict[str, dict]:
    figures: dict[str, dict] = {}
    for name, path, signed_in in PAGES:
        url = base + path.format(child=prepared["child"])
        rounds = []
        for _ in range(args.rounds):
            context = browser.new_context(  # type: ignore[attr-defined]
                viewport={"width": 390, "height": 844}, locale="es-CL", is_mobile=True
            )
            if signed_in:
                context.add_cookies([{"name": "sessionid", "value": str(prepared["session"]), "url": base}])
            page = context.new_page()
            cdp = context.new_cdp_session(page)
            cdp.send("Network.enable")
            cdp.send(
                "Network.emulateNetworkConditions",
                {
                    "offline": False,
                    "latency": args.latency,
                    "downloadThroughput": args.kbps * 1000 / 8,
                    "uploadThroughput": args.kbps * 1000 / 8,
                },
            )
            response = page.goto(url, wait_until="load", timeout=60_000)
            assert response is not None and response.status == 200, (url, response and response.status)
            assert "/login/" not in page.url or not signed_in, f"{url}: not signed in"
            rounds.append(page.evaluate(MEASURE))
            context.close()
        figures[name] = {
            "load": statistics.median(r["load"] for r in rounds) / 1000,
            "first_byte": statistics.median(r["first_byte"] for r in rounds) / 1000,
            "requests": rounds[-1]["requests"],
            "transferred": rounds[-1]["transferred"],
            "decoded": rounds[-1]["decoded"],
        }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--before", metavar="REV", help="also load the pages served by this git revision, first")
    parser.add_argument("--latency", type=int, default=400, help="ms added to each request")
    parser.add_argument("--kbps", type=int, default=400, help="kbit/s down and up")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("CRECER_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        raise SystemExit("Debian's chromium is needed (apt-get install chromium)")
    began = time.perf_counter()
    prepared = prepare(args.children)
    print(f"database ready in {time.perf_counter() - began:.0f} s ({args.children} SYNTHETIC children)")
    print(f"link: {args.kbps} kbit/s down and up, {args.latency} ms latency, empty cache, median of {args.rounds}")

    runs: dict[str, dict[str, dict]] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-dev-shm-usage"])
        if args.before:
            # The old code must not find this checkout's collected (fingerprinted, compressed) files.
            shutil.rmtree(OUT / "static", ignore_errors=True)
            with source_of(args.before) as old, server(old) as base:
                runs[f"before ({args.before})"] = load_pages(browser, base, prepared, args)
        with server(SRC) as base:
            runs["after (this checkout)" if args.before else "this checkout"] = load_pages(
                browser, base, prepared, args
            )
        browser.close()

    header = f"{'page':<12}" + "".join(
        f" | {'load s':>7} {'1st B s':>7} {'req':>3} {'wire kB':>8} {'decoded kB':>10}" for _ in runs
    )
    print()
    print(" " * 12 + "".join(f" | {label:<40}" for label in runs))
    print(header)
    for name, _path, _signed in PAGES:
        row = f"{name:<12}"
        for figures in runs.values():
            f = figures[name]
            row += f" | {f['load']:7.2f} {f['first_byte']:7.2f} {f['requests']:3d} {f['transferred'] / 1000:8.1f} {f['decoded'] / 1000:10.1f}"
        print(row)


if __name__ == "__main__":
    main()
