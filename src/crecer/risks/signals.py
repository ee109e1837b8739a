"""Signals of the risk engine, for the apps above it (which listen; the engine imports none of them)."""

from __future__ import annotations

from django.dispatch import Signal

#: Urgent flags were just opened (``actor``, ``flag_ids``), in the writer's transaction: the referrals app
#: notifies the health centre's team and the municipal coordinators at once.
urgent_flags_raised = Signal()
