"""What every endpoint of API v1 shares, in one place: bearer-token authentication, the acting user, the
page of a list, and the error format.

Errors are always ``{"code": ..., "message": ..., "errors": {field: [{"code", "message"}]}}``.
"""

from __future__ import annotations

import math
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError
from ninja.security import HttpBearer

from crecer.access.models import ApiToken
from crecer.accounts import throttle
from crecer.accounts.addresses import client_address
from crecer.audit.models import Channel
from crecer.audit.trail import Actor
from crecer.registry.existence import TooManyLookups
from crecer.validation import InputErrors

#: items per page of a list, unless an endpoint says otherwise
PAGE_SIZE = 25


class BearerToken(HttpBearer):
    """A valid, unexpired token of an active user; bad tokens are throttled per client address
    (:mod:`crecer.accounts.throttle`): past the limit, 429 with Retry-After."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        address = client_address(request)
        wait = throttle.retry_after(address)
        if wait is not None:
            raise Throttled(wait)
        user = ApiToken.objects.authenticate(token)
        if user is None:
            throttle.bad_token(request, address)
            return None
        request.user = user
        return user


def actor(request: HttpRequest) -> Actor:
    """The user the request acts as (token or session), through the API channel."""
    return Actor(request.user, Channel.API)  # type: ignore[arg-type]


def paginate(queryset: Any, page: int, size: int = PAGE_SIZE) -> tuple[list[Any], dict[str, int]]:
    """The items of page ``page`` (clamped to the pages there are) and ``{"count", "page", "pages"}``."""
    count = queryset.count()
    pages = max(1, math.ceil(count / size))
    page = min(max(page, 1), pages)
    return list(queryset[(page - 1) * size : page * size]), {"count": count, "page": page, "pages": pages}


def error_body(code: str, message: str, errors: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "errors": errors or {}}


def install_error_handlers(api: NinjaAPI) -> None:
    """Every error the API answers, in its one format and the user's language."""

    @api.exception_handler(TooManyLookups)
    def _too_many(request: HttpRequest, exc: TooManyLookups) -> HttpResponse:
        response = api.create_response(
            request, error_body("throttled", _("Too many requests; try again later."), exc.as_dict()), status=429
        )
        response["Retry-After"] = "3600"
        return response

    @api.exception_handler(InputErrors)
    def _input_errors(request: HttpRequest, exc: InputErrors) -> HttpResponse:
        return api.create_response(
            request, error_body("invalid", _("Some fields are not valid."), exc.as_dict()), status=422
        )

    @api.exception_handler(ValidationError)
    def _schema_errors(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        errors: dict[str, list[dict[str, str]]] = {}
        for item in exc.errors:
            loc = [str(p) for p in item.get("loc", []) if p not in ("body", "query", "path", "payload")]
            errors.setdefault(".".join(loc) or "body", []).append(
                {"code": str(item.get("type", "invalid")), "message": str(item.get("msg", ""))}
            )
        return api.create_response(request, error_body("invalid", _("Some fields are not valid."), errors), status=422)

    @api.exception_handler(Http404)
    def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return api.create_response(request, error_body("not_found", _("Not found.")), status=404)

    @api.exception_handler(PermissionDenied)
    def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        return api.create_response(request, error_body("forbidden", str(exc) or _("Not allowed.")), status=403)

    @api.exception_handler(AuthenticationError)
    def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return api.create_response(
            request, error_body("unauthenticated", _("A valid bearer token is required.")), status=401
        )

    @api.exception_handler(Throttled)
    def _throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
        response = api.create_response(
            request,
            error_body("throttled", _("Too many failed attempts from this address; try again later.")),
            status=429,
        )
        if exc.wait is not None:
            response["Retry-After"] = str(int(exc.wait))
        return response

    @api.exception_handler(HttpError)
    def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        code = "malformed" if exc.status_code == 400 else "error"
        message = _("The request body is not valid JSON.") if exc.status_code == 400 else str(exc)
        return api.create_response(request, error_body(code, message), status=exc.status_code)
