"""Access to the active country profile from the Django side."""

from __future__ import annotations

from django.conf import settings

from crecer.lib import profiles
from crecer.lib.profiles import Profile


def profile() -> Profile:
    """The country profile selected with CRECER_PROFILE (validated and cached)."""
    return profiles.load(settings.CRECER_PROFILE)
