"""Pages refused or not found answer in the site's language, inside its layout, without technical words."""

from __future__ import annotations

from django.test import Client


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def test_a_record_out_of_scope_is_not_found_in_spanish(cast, children):
    response = _client(cast["nurse_baja"]).get(f"/children/{children['alta'].pk}/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "No encontrado" in html and "Volver al inicio" in html
    assert "The requested resource" not in html and children["alta"].given_names not in html


def test_a_refused_page_says_why_in_spanish(cast):
    response = _client(cast["auditor"]).get("/caregivers/new/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "No permitido" in html and "403 Forbidden" not in html
