"""What every endpoint of API v1 shares, in one place: bearer-token authentication, the acting user, the
page of a list, and the error format.

Errors are always ``{"code": ..., "message": ..., "errors": {field: [{"code", "message"}]}}``.
"""

from __future__ import annotations

import json
import math
import re
from typing import Annotated, Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.db import DataError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError
from ninja.parser import Parser
from ninja.security import HttpBearer
from pydantic import Field

from crecer.access.models import ApiToken
from crecer.accounts import throttle
from crecer.accounts.addresses import client_address
from crecer.accounts.language import activate_for
from crecer.audit.models import Channel
from crecer.audit.trail import Actor
from crecer.core import prepared
from crecer.registry.existence import TooManyLookups
from crecer.validation import MAX_ID, InputErrors

#: items per page of a list, unless an endpoint says otherwise
PAGE_SIZE = 25


class BearerToken(HttpBearer):
    """A valid, unexpired token of an active user; bad tokens are throttled per client address
    (:mod:`crecer.accounts.throttle`): past the limit, 429 with Retry-After."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        address = client_address(request)
        now = timezone.now()
        # The throttle and the token in one statement: every API request asks both.
        counter, found = prepared.first_of_each(throttle.token_limit(address, now), ApiToken.objects.lookup(token, now))
        wait = throttle.token_wait(counter, now)
        if wait is not None:
            raise Throttled(wait)
        user = ApiToken.objects.user_of(found, now)
        if user is None:
            throttle.bad_token(request, address)
            return None
        activate_for(request, user)  # the API's messages in the language the user picked
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


#: a record's id in a body: a positive 64-bit integer (anything else is no record's)
Id = Annotated[int, Field(ge=1, le=MAX_ID)]

#: how deep a JSON body may nest (a FHIR Bundle needs about 8 levels)
MAX_JSON_DEPTH = 32
_SURROGATE = re.compile("[\ud800-\udfff]")


class MalformedBody(ValueError):
    """A request body that is not JSON we can read: not JSON, nested too deeply, or holding text that is
    not Unicode (a lone surrogate, which no database or file can store)."""


def read_json(body: bytes) -> Any:
    """The JSON value of a request body, or :class:`MalformedBody` with the reason in the user's language."""
    try:
        data = json.loads(body)
    except RecursionError as exc:
        raise MalformedBody(_("The request body is nested too deeply.")) from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedBody(_("The request body is not valid JSON.")) from exc
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if _SURROGATE.search(value):
                raise MalformedBody(_("The request body has text that is not valid Unicode (a lone surrogate)."))
        elif isinstance(value, dict | list):
            if depth >= MAX_JSON_DEPTH:
                raise MalformedBody(_("The request body is nested too deeply."))
            items = [*value.keys(), *value.values()] if isinstance(value, dict) else value
            stack.extend((item, depth + 1) for item in items)
    return data


class JsonParser(Parser):
    """The API's parser: the body by :func:`read_json`; query parameters refuse a NUL character (no database
    text can hold one: PostgreSQL refuses the query), 422 naming the parameter, on every database alike."""

    def parse_body(self, request: HttpRequest) -> Any:
        return read_json(request.body)

    def parse_querydict(self, data: MultiValueDict, list_fields: list[str], request: HttpRequest) -> dict[str, Any]:
        found = [key for key in data if any("\x00" in value for value in data.getlist(key))]
        if found:
            message = _("This text has a NUL character, which cannot be stored or searched.")
            raise ValidationError([{"loc": ("query", key), "msg": message, "type": "nul_character"} for key in found])
        return super().parse_querydict(data, list_fields, request)


def error_body(code: str, message: str, errors: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "errors": errors or {}}


def documented_required(schema: dict[str, Any], model: type) -> None:
    """``json_schema_extra`` of an input schema whose fields the shared validation rules require (so that
    missing ones get the rules' translated ``required`` errors, not pydantic's): the OpenAPI document lists
    them in ``required`` all the same, from the class's ``REQUIRED`` (a tuple of field names)."""
    names = getattr(model, "REQUIRED", ())
    if names:
        schema["required"] = sorted({*schema.get("required", []), *names})


class FieldErrorOut(Schema):
    code: str
    message: str


class ErrorOut(Schema):
    """Every error answer of the API."""

    code: str
    message: str
    errors: dict[str, list[FieldErrorOut]]


#: the errors every operation may answer, and why (OpenAPI descriptions)
COMMON_ERRORS = {
    "401": "No valid bearer token (or session).",
    "403": "Your role may not do this.",
    "404": "Not found, or outside your scope (existence is never revealed).",
    "422": "Invalid parameters or fields: `errors` names each field with a code and a message.",
    "429": "Too many requests: wait the seconds given in Retry-After.",
}
#: and those of an operation that takes a body
BODY_ERRORS = {
    "400": "The body is not JSON we can read (malformed, nested too deeply, or not valid Unicode).",
    "413": "The body is larger than the server accepts (DATA_UPLOAD_MAX_MEMORY_SIZE).",
}


class CrecerAPI(NinjaAPI):
    """The API object: its OpenAPI document declares, for every operation, the error answers the API gives
    (the one home of that list), in the one error format, beside what each operation declares itself (a
    409 of a referral's move, say)."""

    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: Any = None) -> Any:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.update(ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")["$defs"])
        components["ErrorOut"] = {
            k: v
            for k, v in ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}").items()
            if k != "$defs"
        }
        error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}}
        for path in schema["paths"].values():
            for operation in path.values():
                errors = {**COMMON_ERRORS, **(BODY_ERRORS if "requestBody" in operation else {})}
                responses = operation.setdefault("responses", {})
                for status, description in errors.items():
                    responses.setdefault(int(status), {"description": description, **error})
        return schema


def install_error_handlers(api: NinjaAPI) -> None:
    """Every error the API answers, in its one format and the user's language."""

    @api.exception_handler(TooManyLookups)
    def _too_many(request: HttpRequest, exc: TooManyLookups) -> HttpResponse:
        response = api.create_response(
            request, error_body("throttled", _("Too many requests; try again later."), exc.as_dict()), status=429
        )
        response["Retry-After"] = str(exc.retry_after)
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

    @api.exception_handler(OverflowError)
    def _beyond_any_id(request: HttpRequest, exc: OverflowError) -> HttpResponse:
        # A number larger than the database's integers, looked up (an id in the address): no record has it.
        return api.create_response(request, error_body("not_found", _("Not found.")), status=404)

    @api.exception_handler(DataError)
    def _out_of_range(request: HttpRequest, exc: DataError) -> HttpResponse:
        # PostgreSQL's answer to the same ("integer out of range"), and to a NUL character in a text it
        # cannot store (names refuse it beside their field first); any other data error is a bug: re-raised.
        # A NUL reaching the database in a request without a body came in the address's path (query
        # parameters refuse it first, :class:`JsonParser`): no record has such a code, as on SQLite.
        if "NUL (0x00)" in str(exc) and request.method in ("GET", "HEAD", "DELETE"):
            return api.create_response(request, error_body("not_found", _("Not found.")), status=404)
        if "NUL (0x00)" in str(exc):
            message = _("The request has text with a NUL character, which cannot be stored.")
            return api.create_response(request, error_body("malformed", message), status=400)
        if "out of range" not in str(exc):
            raise exc
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
        message = str(exc)
        if exc.status_code == 400:
            cause = exc.__cause__
            message = str(cause) if isinstance(cause, MalformedBody) else _("The request body is not valid JSON.")
        return api.create_response(request, error_body(code, message), status=exc.status_code)

    @api.exception_handler(MalformedBody)
    def _malformed(request: HttpRequest, exc: MalformedBody) -> HttpResponse:
        return api.create_response(request, error_body("malformed", str(exc)), status=400)

    @api.exception_handler(RequestDataTooBig)
    def _too_large(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        from django.conf import settings

        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0
        message = _("The request body is larger than the limit of %(size)s bytes.") % {"size": limit}
        return api.create_response(request, error_body("too_large", message), status=413)
