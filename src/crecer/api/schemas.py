"""API schemas and the functions that turn records into payloads (respecting data categories)."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from ninja import Schema
from pydantic import ConfigDict

from crecer.access.models import DataCategory
from crecer.api.base import documented_required
from crecer.audit.models import AuditEvent
from crecer.registry.models import Child


class PersonIn(Schema):
    """What a child and a caregiver share. Input is taken as typed and validated by the registry's own
    rules (one set for API and files); the fields those rules always require are listed in ``REQUIRED``
    (the OpenAPI document's ``required``)."""

    model_config = ConfigDict(json_schema_extra=documented_required)
    REQUIRED: ClassVar[tuple[str, ...]] = ()

    external_id: str | None = None
    given_names: str | None = None
    paternal_surname: str | None = None
    maternal_surname: str | None = None
    sex: str | None = None
    birth_date: str | None = None
    national_id_type: str | None = None
    national_id: str | None = None
    territory_code: str | None = None
    household_code: str | None = None


class ChildIn(PersonIn):
    REQUIRED: ClassVar[tuple[str, ...]] = ("paternal_surname", "territory_code")  # + names and sex once born
    mother_national_id: str | None = None
    facility_code: str | None = None
    birth_weight_g: int | None = None
    gestational_weeks: int | None = None


class ChildPatch(ChildIn):
    """The fields to change, and why (required: kept in the audit trail)."""

    REQUIRED = ("reason",)

    reason: str = ""


class PersonOut(Schema):
    """What a child and a caregiver share."""

    id: int
    registry_number: str
    external_id: str | None
    given_names: str
    paternal_surname: str
    maternal_surname: str
    sex: str
    birth_date: dt.date | None
    national_id_type: str
    national_id: str | None
    territory_code: str
    household_code: str | None


class ChildOut(PersonOut):
    facility_code: str | None
    birth_weight_g: int | None = None
    gestational_weeks: int | None = None
    data_categories: list[str]


class ChildPage(Schema):
    count: int
    page: int
    pages: int
    results: list[ChildOut]


class AuditOut(Schema):
    id: int
    at: dt.datetime
    username: str
    action: str
    channel: str
    entity: str
    entity_id: int | None
    child_id: int | None
    before: Any = None
    after: Any = None
    note: str


class AuditPage(Schema):
    count: int
    page: int
    pages: int
    results: list[AuditOut]


class MeOut(Schema):
    username: str
    role: str
    territory_code: str | None
    data_categories: list[str]


def child_payload(child: Child, categories: frozenset[str]) -> dict[str, Any]:
    """A child's fields; health fields only for users who may see the health category."""
    payload: dict[str, Any] = {
        "id": child.pk,
        "registry_number": child.registry_number,
        "external_id": child.external_id,
        "given_names": child.given_names,
        "paternal_surname": child.paternal_surname,
        "maternal_surname": child.maternal_surname,
        "sex": child.sex,
        "birth_date": child.birth_date,
        "national_id_type": child.national_id_type,
        "national_id": child.national_id,
        "territory_code": child.territory.code,
        "facility_code": child.facility.code if child.facility_id and child.facility else None,
        "household_code": child.household.code if child.household_id and child.household else None,
        "data_categories": sorted(categories),
    }
    if DataCategory.HEALTH in categories:
        payload["birth_weight_g"] = child.birth_weight_g
        payload["gestational_weeks"] = child.gestational_weeks
    return payload


def audit_payload(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.pk,
        "at": event.at,
        "username": event.actor_username,
        "action": event.action,
        "channel": event.channel,
        "entity": event.entity,
        "entity_id": event.entity_id,
        "child_id": event.child_id,
        "before": event.before,
        "after": event.after,
        "note": event.note,
    }
