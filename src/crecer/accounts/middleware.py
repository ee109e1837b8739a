"""Leads a signed-in user to the second factor before any page with data.

- A user with a confirmed authenticator whose session is not yet verified goes to the code page.
- A user of a role that requires two-factor sign-in (``CRECER_TWO_FACTOR_ROLES``) and has no
  authenticator goes to enrolment.

Only signing in and out, the two-factor pages, the language switch and static files stay open. The
JSON API answers such a session 403 in its error format; requests with a bearer token are not
concerned (tokens are made from the command line by an administrator, expire and are throttled).
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import Resolver404, resolve, reverse
from django.utils.translation import gettext as _

from crecer.accounts import twofactor

OPEN_PAGES = frozenset({"login", "logout", "set_language", "two-factor-verify", "two-factor-enrol", "password-reset"})


def pending_step(request: HttpRequest) -> str | None:
    """ "verify", "enrol" or None for the signed-in user of ``request``."""
    user = request.user
    # OTPMiddleware (before this one) gives every signed-in user is_verified().
    if not user.is_authenticated or user.is_verified():  # type: ignore[attr-defined]
        return None
    has_device = request.session.get(twofactor.SESSION_KEY)
    if has_device is None:
        has_device = twofactor.has_second_factor(user)
        request.session[twofactor.SESSION_KEY] = has_device
    if has_device:
        return "verify"
    if twofactor.required(user):
        return "enrol"
    return None


class TwoFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(settings.STATIC_URL) or not request.user.is_authenticated:
            return self.get_response(request)
        step = pending_step(request)
        if step is None:
            return self.get_response(request)
        if request.path.startswith("/api/"):
            if request.META.get("HTTP_AUTHORIZATION"):
                return self.get_response(request)
            return JsonResponse(
                {
                    "code": "second_factor_required",
                    "message": _("Finish signing in with your second factor first."),
                    "errors": {},
                },
                status=403,
            )
        try:
            name = resolve(request.path_info).url_name
        except Resolver404:
            name = None
        if name in OPEN_PAGES:
            return self.get_response(request)
        target = reverse("two-factor-verify" if step == "verify" else "two-factor-enrol")
        return HttpResponseRedirect(f"{target}?{urlencode({'next': request.get_full_path()})}")
