"""Interoperability: FHIR R4 (R4B models) in and out, and the pseudonymised analytics export.

See ``docs/fhir.md`` and ``docs/analytics.md``.
"""
