"""Static files with fingerprinted names, compressed, cached for a year by the browsers (docs/deployment.md).

``crecer collectstatic`` (run by ``crecer serve`` before it starts) copies every static file into
``STATIC_ROOT`` with the hash of its content in its name (``crecer.3f2a…1c.css``), a gzip copy beside it,
and a manifest of the names. WhiteNoise serves those names compressed and with
``Cache-Control: max-age=315360000, public, immutable``: a browser asks once, and a changed file has a
new name, so nobody keeps an old stylesheet.

A file missing from the manifest (a checkout where nothing was collected yet, the test suite) keeps its
plain name: WhiteNoise finds it in its app's folder (``WHITENOISE_USE_FINDERS``), as before, with a short
cache time. A page never fails for want of a ``collectstatic``.
"""

from __future__ import annotations

from whitenoise.storage import CompressedManifestStaticFilesStorage


class FingerprintedStorage(CompressedManifestStaticFilesStorage):
    def stored_name(self, name: str) -> str:
        try:
            return str(super().stored_name(name))
        except ValueError:  # not in the manifest (manifest_strict): the plain name, found by the finders
            return name
