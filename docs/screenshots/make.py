"""Screenshots of the main pages on a 390 px phone, into docs/screenshots/ (listed in docs/phone.md).

    .venv/bin/python docs/screenshots/make.py [--children 200] [--data bench/out/screenshots]

Prepares a database as ``crecer demo`` does (a SYNTHETIC country, the demo users, referrals, indicators,
centres and agreements) in ``--data`` (kept between runs), serves it with ``crecer serve``, and takes the
first screen (390 × 844 CSS pixels, as a phone shows it) of each page of ``PAGES`` with Debian's chromium
(Playwright), signed in as the demo user named there. The PNGs are reduced to 64 colours to stay small
in the repository. Run it again after a change to the pages, and commit the images that changed.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SRC = ROOT / "src"

# (file name, demo user or None, address, what it shows): the addresses may name {child}, {referral}, {indicator}.
PAGES = [
    ("01-sign-in", None, "/login/", "Sign-in"),
    ("02-home-health-worker", "salud", "/", "Home of a health worker: urgent results and the day's work"),
    ("03-worklist", "salud", "/worklists/", "Worklists: check-ups due and overdue, as cards"),
    ("04-child", "salud", "/children/{child}/", "A child's page: growth, schedule, timeline"),
    ("05-check-up", "salud", "/children/{child}/check-up/", "Recording a check-up"),
    ("06-pregnancies", "salud", "/pregnancies/", "Pregnancies"),
    ("07-registration", "salud", "/caregivers/new/", "Registering a pregnant woman and her household"),
    ("08-network-board", "coordinador", "/referrals/", "The coordinator's referral board"),
    ("09-referral", "coordinador", "/referrals/{referral}/", "A referral"),
    ("10-indicators", "coordinador", "/monitoring/", "Indicators of a municipality"),
    ("11-indicator", "coordinador", "/monitoring/{indicator}/", "One indicator"),
    ("12-imports", "coordinador", "/imports/", "Imports"),
    ("13-duplicates", "coordinador", "/duplicates/", "Possible duplicates"),
    ("14-agreements", "nacional", "/agreements/", "Agreements paid on results"),
    ("15-centres", "sostenedor", "/centres/", "Childcare centres, as their operator"),
    ("16-users", "admin", "/users/", "Users, as an administrator"),
    ("17-public-centres", None, "/centros/", "Authorised childcare centres, public"),
]

PREPARE = """
import json, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crecer.settings")
import django
django.setup()
from django.core.management import call_command
from django.test import Client
from crecer.access.models import User
from crecer.monitoring import definitions
from crecer.referrals.models import Referral
from crecer.registry.models import Child
call_command("demo", children=int(os.environ["SHOTS_CHILDREN"]), no_serve=True, verbosity=0)
sessions = {}
for username in json.loads(os.environ["SHOTS_USERS"]):
    client = Client()
    client.force_login(User.objects.get(username=username))
    sessions[username] = client.cookies["sessionid"].value
salud = User.objects.get(username="salud")
child = Child.unscoped.filter(facility=salud.facility, voided_at__isnull=True).order_by("pk").first()
referral = Referral.unscoped.order_by("pk").first()
ids = {"child": child.pk, "referral": referral.pk, "indicator": definitions.indicators()[0].code}
print("PREPARED " + json.dumps({"ids": ids, "sessions": sessions}))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=200)
    parser.add_argument("--data", type=Path, default=ROOT / "bench" / "out" / "screenshots")
    args = parser.parse_args()
    chromium = os.environ.get("CRECER_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        raise SystemExit("Debian's chromium is needed (apt-get install chromium)")

    from PIL import Image
    from playwright.sync_api import sync_playwright

    args.data.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "PYTHONPATH": str(SRC),
        "CRECER_DATA_DIR": str(args.data),
        "CRECER_TWO_FACTOR_ROLES": "none",
        "DJANGO_SETTINGS_MODULE": "crecer.settings",
    }
    users = sorted({user for _name, user, _path, _what in PAGES if user})
    done = subprocess.run(  # noqa: S603 (this interpreter, our own script)
        [sys.executable, "-c", PREPARE],
        env={**env, "SHOTS_CHILDREN": str(args.children), "SHOTS_USERS": json.dumps(users)},
        capture_output=True,
        text=True,
        check=True,
    )
    prepared = json.loads(next(x for x in done.stdout.splitlines() if x.startswith("PREPARED ")).split(" ", 1)[1])

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(  # noqa: S603 (this interpreter, our own command)
        [sys.executable, "-m", "crecer.cli", "serve", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(base + "/login/", timeout=5)  # noqa: S310 (our own loopback server)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("the server did not start") from None
                time.sleep(0.5)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-dev-shm-usage"])
            for name, user, path, _what in PAGES:
                context = browser.new_context(
                    viewport={"width": 390, "height": 844}, locale="es-CL", device_scale_factor=1, is_mobile=True
                )
                if user:
                    context.add_cookies([{"name": "sessionid", "value": prepared["sessions"][user], "url": base}])
                page = context.new_page()
                response = page.goto(base + path.format(**prepared["ids"]))
                assert response is not None and response.status == 200, (path, response and response.status)
                width = page.evaluate("document.documentElement.scrollWidth")
                image = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
                image.quantize(colors=64, method=Image.Quantize.MEDIANCUT).save(HERE / f"{name}.png", optimize=True)
                print(f"{name}.png  {path}  scrollWidth {width} px")
                context.close()
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
