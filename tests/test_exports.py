"""Exports follow the same scope as every other read, and are audited."""

from __future__ import annotations

import csv
import io

from django.test import Client
from openpyxl import load_workbook

from crecer.audit.models import Action, AuditEvent


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def test_csv_export_is_scoped(cast, children):
    response = _client(cast["nurse_baja"]).get("/children/export.csv")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert {r["registry_number"] for r in rows} == {
        children["baja"].registry_number,
        children["baja_local"].registry_number,
    }
    assert AuditEvent.objects.filter(action=Action.EXPORT, actor=cast["nurse_baja"], after__count=2).exists()


def test_excel_export_with_query(cast, children):
    response = _client(cast["national"]).get("/children/export.xlsx", {"q": "tomas"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0] == "registry_number"
    assert [row[0] for row in values[1:]] == [children["austral"].registry_number]


def test_users_without_scope_export_nothing(cast, children):
    for who in ("inspector", "admin", "provider_opd"):
        body = b"".join(_client(cast[who]).get("/children/export.csv").streaming_content).decode("utf-8-sig")
        assert body.strip().count("\n") == 0, who  # the header only
