"""Two-factor sign-in (TOTP and recovery codes), by role: national managers, administrators and auditors
must enrol before any page with data; the other roles may; an enrolled user types a code after the
password; recovery codes work once and are kept hashed; every change is an audit event."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from crecer.access.actions import create_token
from crecer.access.models import Role, User
from crecer.accounts.models import RecoveryCode, RecoveryCodeDevice, hash_code
from crecer.audit.models import Action, AuditEvent
from tests.conftest import PASSWORD, SYSTEM

REQUIRED = ["national_manager", "admin", "auditor"]


@pytest.fixture(autouse=True)
def _two_factor_roles(settings: Any) -> None:
    # The production default (conftest turns it off for the other tests).
    settings.CRECER_TWO_FACTOR_ROLES = REQUIRED


def code_for(device: TOTPDevice) -> str:
    """The code the authenticator shows for the next time step the device still accepts."""
    device.refresh_from_db()
    now = int((time.time() - device.t0) // device.step)
    step = max(device.last_t + 1, now)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, 0)
    totp.time = device.t0 + step * device.step + 1
    return str(totp.token()).zfill(device.digits)


def sign_in(user: User, password: str = PASSWORD) -> Client:
    client = Client()
    response = client.post("/login/", {"username": user.username, "password": password})
    assert response.status_code == 302, "the password step must succeed"
    return client


def enrol(client: Client, user: User) -> list[str]:
    page = client.get("/account/two-factor/")
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post("/account/two-factor/", {"code": code_for(device)})
    assert response.status_code == 200
    return re.findall(r"<code>([0-9a-f]{5}(?:-[0-9a-f]{5}){3})</code>", response.content.decode())


@pytest.mark.parametrize("key", ["national", "admin", "auditor"])
def test_required_roles_are_led_to_enrol_before_any_data_page(cast, key):
    user = cast[key]
    client = sign_in(user)
    for path in ("/", "/children/", "/worklists/", "/referrals/", "/account/password/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/account/two-factor/?next="), path
    # The enrolment page itself shows the key and a QR code, nothing else of the system's data.
    page = client.get("/account/two-factor/")
    assert page.status_code == 200
    assert re.search(rb'<div class="qr"><svg[^>]*>.*</svg></div>', page.content, re.S)
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    secret = page.context["secret"].replace(" ", "")
    import base64

    assert base64.b32decode(secret) == device.bin_key
    # The API refuses the half-signed-in session in its error format.
    api = client.get("/api/v1/me")
    assert api.status_code == 403 and api.json()["code"] == "second_factor_required"


@pytest.mark.parametrize("key", ["nurse_alta", "coordinator_alta", "regional_norte", "provider_opd", "inspector"])
def test_other_roles_are_not_forced_and_may_enrol(cast, key):
    user = cast[key]
    client = sign_in(user)
    assert client.get("/").status_code == 200
    codes = enrol(client, user)
    assert len(codes) == 10
    assert TOTPDevice.objects.get(user=user).confirmed
    # From now on this user too types a code after the password.
    again = sign_in(user)
    assert again.get("/")["Location"].startswith("/account/two-factor/verify/")


def test_enrolment_refuses_a_wrong_code_beside_the_field(cast):
    user = cast["national"]
    client = sign_in(user)
    client.get("/account/two-factor/")
    response = client.post("/account/two-factor/", {"code": "000000"})
    assert response.status_code == 200
    assert response.context["form"].errors["code"]
    assert not TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    assert client.get("/")["Location"].startswith("/account/two-factor/")


def test_enrolment_then_sign_in_with_a_code_and_events(cast):
    user = cast["national"]
    client = sign_in(user)
    codes = enrol(client, user)
    # Enrolling verifies this session: data pages open.
    assert client.get("/").status_code == 200
    assert len(set(codes)) == 10
    # Hashed at rest: no stored value is a code.
    stored = set(RecoveryCode.objects.filter(device__user=user).values_list("code_hash", flat=True))
    assert stored == {hash_code(c) for c in codes}
    assert not stored & {c.replace("-", "") for c in codes}

    second = sign_in(user)
    response = second.get("/children/")
    assert response.status_code == 302 and response["Location"] == "/account/two-factor/verify/?next=%2Fchildren%2F"
    wrong = second.post("/account/two-factor/verify/?next=/children/", {"code": "123456", "next": "/children/"})
    assert wrong.status_code == 200 and wrong.context["form"].errors["code"]
    time.sleep(1.1)  # django-otp's back-off after one wrong code
    device = TOTPDevice.objects.get(user=user)
    ok = second.post("/account/two-factor/verify/", {"code": code_for(device), "next": "/children/"})
    assert ok.status_code == 302 and ok["Location"] == "/children/"
    assert second.get("/children/").status_code == 200

    events = list(AuditEvent.objects.filter(entity="access.user", entity_id=user.pk).order_by("id"))
    kinds = [(e.action, (e.after or {}).get("event") or (e.after or {}).get("step")) for e in events]
    assert (Action.TWO_FACTOR, "enrolled") in kinds
    assert (Action.LOGIN_FAILED, "second_factor") in kinds
    assert (Action.TWO_FACTOR, "verified") in kinds
    assert [k for k in kinds if k[0] == Action.LOGIN] == [(Action.LOGIN, None)] * 2


def test_wrong_codes_slow_down_the_next_try(cast):
    user = cast["admin"]
    enrol(sign_in(user), user)
    client = sign_in(user)
    client.post("/account/two-factor/verify/", {"code": "111111"})
    device = TOTPDevice.objects.get(user=user)
    refused = client.post("/account/two-factor/verify/", {"code": code_for(device)})
    assert refused.status_code == 200
    assert "wait" in " ".join(refused.context["form"].errors["code"]).lower() or "espere" in " ".join(
        refused.context["form"].errors["code"]
    )
    assert client.get("/")["Location"].startswith("/account/two-factor/verify/")


def test_a_recovery_code_works_once_and_is_audited(cast):
    user = cast["auditor"]
    codes = enrol(sign_in(user), user)
    client = sign_in(user)
    used = codes[3].upper()  # typed in capitals: still accepted
    assert client.post("/account/two-factor/verify/", {"code": used})["Location"] == "/"
    assert client.get("/").status_code == 200
    event = AuditEvent.objects.filter(action=Action.TWO_FACTOR, entity_id=user.pk).order_by("-id").first()
    assert event.after == {"event": "recovery_code_used", "codes_left": 9}
    assert RecoveryCodeDevice.objects.get(user=user).codes.count() == 9
    # The same code again: refused.
    time.sleep(1.1)
    other = sign_in(user)
    refused = other.post("/account/two-factor/verify/", {"code": used})
    assert refused.status_code == 200
    assert other.get("/").status_code == 302


def test_new_recovery_codes_replace_the_old_ones(cast):
    user = cast["national"]
    client = sign_in(user)
    old = enrol(client, user)
    response = client.post("/account/two-factor/codes/")
    new = re.findall(r"<code>([0-9a-f-]{23})</code>", response.content.decode())
    assert len(new) == 10 and not set(new) & set(old)
    assert set(RecoveryCode.objects.filter(device__user=user).values_list("code_hash", flat=True)) == {
        hash_code(c) for c in new
    }
    assert AuditEvent.objects.filter(
        action=Action.TWO_FACTOR, entity_id=user.pk, after__event="recovery_codes_renewed"
    ).exists()


def test_an_optional_user_turns_it_off_with_a_code(cast):
    user = cast["nurse_alta"]
    client = sign_in(user)
    enrol(client, user)
    device = TOTPDevice.objects.get(user=user)
    assert client.post("/account/two-factor/disable/", {"code": code_for(device)})["Location"] == "/account/"
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert not RecoveryCodeDevice.objects.filter(user=user).exists()
    assert AuditEvent.objects.filter(action=Action.TWO_FACTOR, entity_id=user.pk, after__event="disabled").exists()
    assert sign_in(user).get("/").status_code == 200


def test_a_required_user_who_replaces_the_phone_must_enrol_again(cast):
    user = cast["admin"]
    client = sign_in(user)
    enrol(client, user)
    client.post("/account/two-factor/disable/", {"code": code_for(TOTPDevice.objects.get(user=user))})
    assert client.get("/")["Location"].startswith("/account/two-factor/?next=")


def test_an_administrator_removes_a_lost_authenticator_and_others_cannot(cast):
    user = cast["national"]
    enrol(sign_in(user), user)
    nurse = Client()
    nurse.force_login(cast["nurse_alta"])
    assert nurse.post(f"/users/{user.pk}/two-factor/remove/").status_code == 403
    assert TOTPDevice.objects.filter(user=user).exists()
    admin = sign_in(cast["admin"])
    enrol(admin, cast["admin"])
    assert admin.post(f"/users/{user.pk}/two-factor/remove/").status_code == 302
    assert not TOTPDevice.objects.filter(user=user).exists()
    event = AuditEvent.objects.get(action=Action.TWO_FACTOR, entity_id=user.pk, after__event="disabled")
    assert event.actor_id == cast["admin"].pk


def test_bearer_tokens_are_not_concerned(cast):
    raw = create_token(SYSTEM, cast["national"])
    response = Client(HTTP_AUTHORIZATION=f"Bearer {raw}").get("/api/v1/me")
    assert response.status_code == 200


def test_the_setting_decides_which_roles_must_enrol(cast, settings):
    settings.CRECER_TWO_FACTOR_ROLES = [Role.HEALTH_WORKER]
    assert sign_in(cast["national"]).get("/").status_code == 200
    assert sign_in(cast["nurse_alta"]).get("/")["Location"].startswith("/account/two-factor/")
    assert django_settings.CRECER_TWO_FACTOR_ROLES == [Role.HEALTH_WORKER]


def test_sign_out_and_language_stay_open_during_enrolment(cast):
    client = sign_in(cast["auditor"])
    assert client.post("/i18n/setlang/", {"language": "en", "next": "/"}).status_code == 302
    assert client.post("/logout/").status_code == 302
    assert client.get("/")["Location"].startswith("/login/")


def test_a_session_waiting_for_a_code_whose_authenticator_was_removed_goes_to_enrol(cast):
    user = cast["auditor"]
    enrol(sign_in(user), user)
    waiting = sign_in(user)
    assert waiting.get("/")["Location"].startswith("/account/two-factor/verify/")
    admin = sign_in(cast["admin"])
    enrol(admin, cast["admin"])
    admin.post(f"/users/{user.pk}/two-factor/remove/")
    # No loop between the code page and the pages: the auditor is sent to enrol a new authenticator.
    assert waiting.get("/account/two-factor/verify/?next=/")["Location"] == "/"
    assert waiting.get("/")["Location"].startswith("/account/two-factor/?next=")
    assert waiting.get("/account/two-factor/").status_code == 200


def test_a_session_of_a_user_who_enrolled_elsewhere_goes_to_the_code(cast):
    user = cast["national"]
    first = sign_in(user)
    assert first.get("/")["Location"].startswith("/account/two-factor/?next=")
    enrol(sign_in(user), user)  # on another device
    assert first.get("/account/two-factor/")["Location"] == "/account/"
    assert first.get("/account/")["Location"].startswith("/account/two-factor/verify/")
