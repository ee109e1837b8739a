"""Pages of one's own account (password, two-factor sign-in) and the administrators' user pages."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.views import PasswordResetConfirmView
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crecer.access import permissions
from crecer.access.actions import create_user, deactivate_user, set_password, update_user
from crecer.access.models import Language, Role, User
from crecer.accounts import actions, twofactor
from crecer.accounts.forms import CodeForm, EnrolForm, UserForm
from crecer.audit.models import Channel
from crecer.audit.trail import Actor
from crecer.validation import InputErrors


def _actor(request: HttpRequest) -> Actor:
    return Actor(request.user, Channel.WEB)  # type: ignore[arg-type]


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse("home")


# --- one's own account ------------------------------------------------------------------------------


@login_required
def account(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    return render(
        request,
        "accounts/account.html",
        {
            "has_second_factor": twofactor.has_second_factor(user),
            "required": twofactor.required(user),
            "codes_left": twofactor.codes_left(user),
            "languages": Language.choices,
        },
    )


@login_required
def password_change(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = PasswordChangeForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        set_password(_actor(request), user, form.cleaned_data["new_password1"], how="changed")
        update_session_auth_hash(request, user)  # this session stays signed in; the others end
        messages.success(request, _("Your password was changed."))
        return redirect("account")
    return render(request, "accounts/password_change.html", {"form": form})


@login_required
def two_factor_enrol(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if twofactor.has_second_factor(user):
        # Enrolled meanwhile (another session): forget what this session remembered, go to the code.
        request.session.pop(twofactor.SESSION_KEY, None)
        return redirect("account")
    device = twofactor.pending_enrolment(user)
    form = EnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = twofactor.confirm(request, form.cleaned_data["code"])
        if codes is not None:
            return render(request, "accounts/recovery_codes.html", {"codes": codes, "next": _next(request)})
        form.add_error("code", _("That code is not the one the app shows now. Check the phone's clock and try again."))
    return render(
        request,
        "accounts/enrol.html",
        {
            "form": form,
            "qr": twofactor.qr_svg(device),
            "secret": twofactor.secret_base32(device),
            "required": twofactor.required(user),
            "next": _next(request),
        },
    )


@login_required
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if user.is_verified():  # type: ignore[attr-defined]
        return redirect(_next(request))
    if not twofactor.has_second_factor(user):
        # Removed meanwhile (by an administrator): forget what this session remembered.
        request.session[twofactor.SESSION_KEY] = False
        return redirect(_next(request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        accepted, wait = twofactor.verify(request, form.cleaned_data["code"])
        if accepted:
            left = twofactor.codes_left(user)
            if left <= 3:
                messages.warning(
                    request,
                    _("You have %(n)s recovery codes left: make new ones on your account page.") % {"n": left},
                )
            return redirect(_next(request))
        if wait is not None:
            form.add_error("code", _("Too many wrong codes: wait %(s)s seconds and try again.") % {"s": wait})
        else:
            form.add_error("code", _("That code is not valid."))
    return render(request, "accounts/verify.html", {"form": form, "next": _next(request)})


@login_required
@require_POST
def recovery_codes(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not twofactor.has_second_factor(user):
        return redirect("account")
    codes = twofactor.regenerate_codes(request)
    return render(request, "accounts/recovery_codes.html", {"codes": codes, "next": reverse("account")})


@login_required
def two_factor_disable(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not twofactor.has_second_factor(user):
        return redirect("account")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # A last code from the app (or a recovery code) proves it is the owner at the keyboard.
        accepted, wait = twofactor.verify(request, form.cleaned_data["code"])
        if accepted:
            twofactor.disable(_actor(request), user)
            request.session[twofactor.SESSION_KEY] = False
            messages.success(request, _("Two-step sign-in was turned off."))
            return redirect("account")
        form.add_error(
            "code",
            _("Too many wrong codes: wait %(s)s seconds and try again.") % {"s": wait}
            if wait is not None
            else _("That code is not valid."),
        )
    return render(request, "accounts/disable.html", {"form": form, "required": twofactor.required(user)})


class ResetPasswordView(PasswordResetConfirmView):
    """The one-time link an administrator gave: set a password; the link then stops working."""

    template_name = "accounts/password_reset.html"
    post_reset_login = False

    def form_valid(self, form: Any) -> HttpResponse:
        user = form.user
        set_password(Actor(user, Channel.WEB), user, form.cleaned_data["new_password1"], how="reset")
        messages.success(self.request, _("Your password is set. Sign in with it."))
        return redirect("login")


# --- the administrators' user pages ----------------------------------------------------------------


def _may_manage(request: HttpRequest) -> None:
    permissions.check(_user(request), permissions.MANAGE_USERS, _("Your role cannot manage users."))


@login_required
def users(request: HttpRequest) -> HttpResponse:
    _may_manage(request)
    q = request.GET.get("q", "").strip()
    listing = User.objects.select_related("territory").order_by("-is_active", "username")
    if q:
        listing = listing.filter(username__icontains=q)
    return render(request, "accounts/users.html", {"users": listing[:200], "q": q, "roles": dict(Role.choices)})


def _initial(user: User) -> dict[str, Any]:
    return {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "role": user.role,
        "territory": user.territory.code if user.territory else "",
        "facility": user.facility.code if user.facility else "",
        "organisation": user.organisation.code if user.organisation else "",
        "extra_categories": user.extra_categories,
        "institution": user.institution,
    }


def _add_errors(form: UserForm, exc: InputErrors) -> None:
    for field, errs in exc.errors.items():
        for err in errs:
            form.add_error(field if field in form.fields else None, err.message)


@login_required
def user_new(request: HttpRequest) -> HttpResponse:
    _may_manage(request)
    form = UserForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = create_user(
                _actor(request),
                data["username"],
                data["role"],
                data["territory"].strip(),
                None,
                facility_code=data["facility"].strip(),
                organisation_code=data["organisation"].strip(),
                extra_categories=data["extra_categories"],
                institution=data["institution"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                email=data["email"],
            )
        except InputErrors as exc:
            _add_errors(form, exc)
        else:
            link = actions.password_reset_link(_actor(request), user, request)
            return render(request, "accounts/reset_link.html", {"target": user, "link": link, "new": True})
    return render(request, "accounts/user_form.html", {"form": form, "target": None})


@login_required
def user_edit(request: HttpRequest, user_id: int) -> HttpResponse:
    _may_manage(request)
    target = get_object_or_404(User, pk=user_id)
    form = UserForm(request.POST or None, initial=_initial(target), editing=True)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            update_user(
                _actor(request),
                target,
                role=data["role"],
                territory_code=data["territory"].strip(),
                facility_code=data["facility"].strip(),
                organisation_code=data["organisation"].strip(),
                extra_categories=data["extra_categories"],
                institution=data["institution"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                email=data["email"],
            )
        except InputErrors as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("The user %(name)s was saved.") % {"name": target.username})
            return redirect("users")
    return render(
        request,
        "accounts/user_form.html",
        {"form": form, "target": target, "has_second_factor": twofactor.has_second_factor(target)},
    )


@login_required
@require_POST
def user_deactivate(request: HttpRequest, user_id: int) -> HttpResponse:
    _may_manage(request)
    target = get_object_or_404(User, pk=user_id)
    if target.pk == request.user.pk:
        raise PermissionDenied(_("You cannot deactivate your own account."))
    if deactivate_user(_actor(request), target):
        messages.success(
            request, _("%(name)s can no longer sign in; their API tokens were revoked.") % {"name": target.username}
        )
    return redirect("users")


@login_required
@require_POST
def user_reset_link(request: HttpRequest, user_id: int) -> HttpResponseBase:
    _may_manage(request)
    target = get_object_or_404(User, pk=user_id, is_active=True)
    link = actions.password_reset_link(_actor(request), target, request)
    return render(request, "accounts/reset_link.html", {"target": target, "link": link, "new": False})


@login_required
@require_POST
def user_remove_second_factor(request: HttpRequest, user_id: int) -> HttpResponse:
    _may_manage(request)
    target = get_object_or_404(User, pk=user_id)
    if twofactor.disable(_actor(request), target):
        messages.success(
            request,
            _("%(name)s's authenticator and recovery codes were removed; they enrol again at their next sign-in.")
            % {"name": target.username},
        )
    return redirect("user-edit", user_id=target.pk)
