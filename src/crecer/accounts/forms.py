from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from crecer import conf
from crecer.access.models import SENSITIVE_CATEGORIES, DataCategory, Role


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}),
        help_text=_("The 6 digits your authenticator app shows now, or one of your recovery codes."),
    )


class EnrolForm(forms.Form):
    code = forms.CharField(
        label=_("Code from the app"),
        max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )


class UserForm(forms.Form):
    username = forms.CharField(label=_("User name"), max_length=150)
    first_name = forms.CharField(label=_("Given names"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Surnames"), max_length=150, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    territory = forms.CharField(label=_("Territory code"), max_length=30)
    facility = forms.CharField(
        label=_("Facility code"), max_length=30, required=False, help_text=_("Health workers: where they work.")
    )
    organisation = forms.CharField(
        label=_("Organisation code"),
        max_length=30,
        required=False,
        help_text=_("Provider staff and centre operators: their organisation."),
    )
    institution = forms.ChoiceField(label=_("Reviewing institution"), required=False, choices=[])
    extra_categories = forms.MultipleChoiceField(
        label=_("Sensitive categories beyond the role's"),
        choices=[(c.value, c.label) for c in DataCategory if c in SENSITIVE_CATEGORIES],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Inspectors review childcare centres for one institution of the profile.
        centres = conf.profile().centres
        language = get_language() or "es"
        institutions = [(i.code, i.name(language)) for i in centres.institutions] if centres else []
        institution = self.fields["institution"]
        assert isinstance(institution, forms.ChoiceField)
        institution.choices = [("", _("None (inspectors only)")), *institutions]
        if editing:
            # The user name stays: the audit trail quotes it.
            self.fields["username"].disabled = True
            self.fields["username"].required = False
