"""Spanish is the default language and every user-facing string has a Spanish translation."""

from __future__ import annotations

import ast
import gettext
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import crecer

PACKAGE = Path(crecer.__file__).parent
LOCALE = PACKAGE / "locale"


def _unquote(text: str) -> str:
    return ast.literal_eval(text)


def parse_po(path: Path) -> dict[str, str]:
    """msgid -> msgstr (plural entries keyed by the singular, value = first form); no header."""
    entries: dict[str, str] = {}
    msgid = msgstr = None
    current = None
    fuzzy = False

    def flush() -> None:
        if msgid and not fuzzy:
            entries[msgid] = msgstr or ""

    for raw in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        line = raw.strip()
        if not line:
            flush()
            msgid = msgstr = current = None
            fuzzy = False
        elif line.startswith("#,") and "fuzzy" in line:
            fuzzy = True
        elif line.startswith("msgid "):
            msgid, current = _unquote(line[6:]), "id"
        elif line.startswith("msgid_plural "):
            current = "plural"
        elif line.startswith(("msgstr ", "msgstr[0] ")):
            msgstr, current = _unquote(line.split(" ", 1)[1]), "str"
        elif line.startswith("msgstr["):
            current = "other"
        elif line.startswith('"'):
            if current == "id":
                msgid = (msgid or "") + _unquote(line)
            elif current == "str":
                msgstr = (msgstr or "") + _unquote(line)
    return entries


def test_every_string_has_a_spanish_translation():
    entries = parse_po(LOCALE / "es" / "LC_MESSAGES" / "django.po")
    assert len(entries) > 200
    missing = [k for k, v in entries.items() if not v.strip()]
    assert missing == []


def test_compiled_catalogue_matches_the_source():
    entries = parse_po(LOCALE / "es" / "LC_MESSAGES" / "django.po")
    with (LOCALE / "es" / "LC_MESSAGES" / "django.mo").open("rb") as fh:
        compiled = gettext.GNUTranslations(fh)
    stale = [k for k, v in entries.items() if compiled.gettext(k) != v and "\x00" not in k]
    assert stale == [], "run `make messages` to recompile django.mo"


def test_placeholders_survive_translation():
    import re

    pattern = re.compile(r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[sdrf]|\{\{ *\w+ *\}\}")
    entries = parse_po(LOCALE / "es" / "LC_MESSAGES" / "django.po")
    wrong = {k: v for k, v in entries.items() if sorted(pattern.findall(k)) != sorted(pattern.findall(v))}
    assert wrong == {}


def test_catalogue_covers_the_code(tmp_path):
    """Re-extract the strings from the code: none may be missing from the catalogue."""
    if not shutil.which("xgettext"):
        if os.environ.get("CI") == "true":
            pytest.fail("GNU gettext (xgettext) is needed to check the catalogue in CI")
        pytest.skip("xgettext not installed")
    work = tmp_path / "crecer"
    shutil.copytree(PACKAGE, work, ignore=shutil.ignore_patterns("locale", "__pycache__", "lib"))
    (work / "locale").mkdir()
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="crecer.settings")
    subprocess.run(
        [sys.executable, "-m", "django", "makemessages", "-l", "es", "--no-location"],
        cwd=work,
        env=env,
        check=True,
        capture_output=True,
    )
    fresh = parse_po(work / "locale" / "es" / "LC_MESSAGES" / "django.po")
    assert len(fresh) > 200
    known = parse_po(LOCALE / "es" / "LC_MESSAGES" / "django.po")
    assert sorted(set(fresh) - set(known)) == [], "run `make messages` and translate the new strings"


def test_spanish_is_the_default(settings):
    assert settings.LANGUAGE_CODE == "es"
    from django.utils import translation

    with translation.override("es"):
        assert translation.gettext("Children") != "Children"
