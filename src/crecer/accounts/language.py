"""The interface language: Spanish whatever the browser asks, until the user picks another.

One rule (:func:`language_for`): a signed-in user's stored choice (``User.language``); else the choice
made on this browser's pages (a cookie, set on the sign-in and public pages too); otherwise the site's
language, ``LANGUAGE_CODE`` (Spanish).
The browser's Accept-Language is never read. :class:`LanguageMiddleware` applies it to every page,
the API applies it to a token's user (``crecer.api.base``), and :func:`set_language` records a choice
(the header's buttons and the account page).
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme

from crecer.access.actions import set_language as store_language
from crecer.access.models import Language, User
from crecer.audit.models import Channel
from crecer.audit.trail import Actor


def language_for(request: HttpRequest) -> str:
    """The language of the pages answered to ``request`` (see the module's docstring)."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        stored = getattr(user, "language", "")
        if stored in Language.values:
            return str(stored)
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    if chosen in Language.values:
        return chosen
    return str(settings.LANGUAGE_CODE)


def activate_for(request: HttpRequest, user: User | None = None) -> str:
    """Activate the language of ``request`` (or of ``user``, the API's token user) for this thread."""
    if user is not None:
        request.user = user
    language = language_for(request)
    translation.activate(language)
    request.LANGUAGE_CODE = language
    return language


class LanguageMiddleware:
    """In place of Django's LocaleMiddleware (which follows the browser): after authentication, so the
    user's own choice is known."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = activate_for(request)
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", translation.get_language() or language)
        return response


def set_language(request: HttpRequest) -> HttpResponse:
    """Record the language picked: on the signed-in user (remembered, audited) and in a cookie (for the
    sign-in and public pages of this browser). An unknown language, or a GET (as Django's own view),
    changes nothing and leads on."""
    language = request.POST.get("language", "") if request.method == "POST" else ""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("home")
    response = HttpResponseRedirect(target)
    if language not in Language.values:
        return response
    user = request.user
    if isinstance(user, User) and user.is_authenticated:
        store_language(Actor(user, Channel.WEB), user, language)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=365 * 24 * 3600,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
    )
    return response
