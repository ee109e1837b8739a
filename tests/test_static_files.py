"""Static files in production: fingerprinted names, gzip copies, served compressed and cached for a year;
pages compressed too; without a collectstatic the plain names still work (crecer.web.staticfiles)."""

from __future__ import annotations

import gzip
import io
import re

from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.management import call_command
from django.template import engines
from django.test import Client


def test_collected_files_have_fingerprinted_names_and_gzip_copies_served_for_a_year(settings, tmp_path, db):
    settings.STATIC_ROOT = tmp_path / "static"
    call_command("collectstatic", interactive=False, verbosity=0, stdout=io.StringIO())
    url = staticfiles_storage.url("crecer/crecer.css")
    assert re.fullmatch(r"/static/crecer/crecer\.[0-9a-f]{12}\.css", url), url
    hashed = settings.STATIC_ROOT / url.removeprefix("/static/")
    assert gzip.decompress(hashed.with_name(hashed.name + ".gz").read_bytes()) == hashed.read_bytes()
    page = engines["django"].from_string("{% load static %}{% static 'crecer/crecer.css' %}").render({})
    assert page == url

    from whitenoise.middleware import WhiteNoiseMiddleware

    # A new WhiteNoise reads the new STATIC_ROOT (the site's own was made when the server started).
    served = WhiteNoiseMiddleware(lambda request: None)
    from django.test import RequestFactory

    request = RequestFactory().get(url, HTTP_ACCEPT_ENCODING="gzip, deflate")
    response = served(request)
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    assert "immutable" in response["Cache-Control"] and "max-age=315360000" in response["Cache-Control"]
    assert int(response["Content-Length"]) < hashed.stat().st_size / 2


def test_without_a_manifest_the_plain_name_is_used(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path / "empty"
    assert staticfiles_storage.url("crecer/crecer.css") == "/static/crecer/crecer.css"


def test_pages_are_compressed_for_browsers_that_accept_it(cast):
    client = Client()
    client.force_login(cast["nurse_alta"])
    response = client.get("/children/", HTTP_ACCEPT_ENCODING="gzip")
    assert response.status_code == 200 and response["Content-Encoding"] == "gzip"
    assert "Niños y niñas".encode() in gzip.decompress(response.content)
    assert "Content-Encoding" not in client.get("/children/")  # nor for those that do not


def test_pages_that_need_no_script_load_none_the_others_load_htmx(cast, children):
    # The sign-in page is what a new phone opens with an empty cache; the worklist and a child's page
    # are the daily ones: their stylesheet only. The search (htmx as you type) loads htmx.
    assert "<script" not in Client().get("/login/").content.decode()
    client = Client()
    client.force_login(cast["nurse_alta"])
    assert "<script" not in client.get("/worklists/").content.decode()
    assert "<script" not in client.get(f"/children/{children['alta'].pk}/").content.decode()
    assert "django_htmx/htmx-2.min" in client.get("/children/").content.decode()
