"""The Khmer catalogue is complete, well-formed and actually used.

The .po file is read with a small parser of our own (no polib in the environment) so that the
checks do not depend on Django's or gettext's leniency: every entry is translated, nothing is
left fuzzy, placeholders and HTML tags survive translation, and the text is Khmer. ``msgfmt
--check`` then checks the file the way gettext itself does, and a last test renders a few
strings with Django's translation machinery under ``translation.override("km")``.

None of these tests touch the database.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PO_PATH = REPO / "probity" / "locale" / "km" / "LC_MESSAGES" / "django.po"
MO_PATH = PO_PATH.with_suffix(".mo")

KHMER = re.compile("[\u1780-\u17ff]")
# %(name)s, %(name)d, %s, %d and friends; "%%" is a literal percent sign, not a placeholder.
PLACEHOLDER = re.compile(r"%(?:\(\w+\))?[-#0 +]*(?:\d+|\*)?(?:\.\d+)?[sdiufFeEgGxXocr]|%%")
HTML_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
# Words that stay as they are inside a Khmer sentence, and may make up a whole message.
TECHNICAL_TOKENS = {
    "Probity",
    "API",
    "TOTP",
    "QR",
    "HL7",
    "CSV",
    "XLSX",
    "PDF",
    "SHA-256",
    "Bearer",
    "HTTP",
    "ISO",
    "JSON",
    "ID",
}


# --- a small PO parser -------------------------------------------------------------------


@dataclass
class Entry:
    lineno: int
    msgid: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: str | None = None
    msgstr_plural: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False

    @property
    def is_header(self) -> bool:
        return self.msgid == "" and self.msgctxt is None

    @property
    def translations(self) -> list[str]:
        if self.msgid_plural is not None:
            return [self.msgstr_plural[i] for i in sorted(self.msgstr_plural)]
        return [self.msgstr if self.msgstr is not None else ""]

    @property
    def fuzzy(self) -> bool:
        return "fuzzy" in self.flags

    def __str__(self) -> str:
        context = f"[{self.msgctxt}] " if self.msgctxt is not None else ""
        return f"line {self.lineno}: {context}{self.msgid!r}"


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}
_ESCAPES.update({'"': '"', "\\": "\\"})
_KEYWORD = re.compile(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(\".*\")\s*$")


def _unquote(text: str, lineno: int) -> str:
    text = text.strip()
    if len(text) < 2 or not (text.startswith('"') and text.endswith('"')):
        raise ValueError(f"line {lineno}: expected a quoted string, got {text!r}")

    def unescape(match: re.Match[str]) -> str:
        char = match.group(1)
        if char not in _ESCAPES:
            raise ValueError(f"line {lineno}: unknown escape \\{char}")
        return _ESCAPES[char]

    return re.sub(r"\\(.)", unescape, text[1:-1])


def parse_po(text: str) -> list[Entry]:
    """Entries of a PO file, header included, obsolete (``#~``) entries marked as such."""
    entries: list[Entry] = []
    current: Entry | None = None
    target: tuple[str, int | None] | None = None  # the field that continuation lines extend
    seen_msgstr = False

    def finish() -> None:
        nonlocal current, target, seen_msgstr
        if current is not None and (seen_msgstr or current.msgid or current.msgctxt):
            entries.append(current)
        current, target, seen_msgstr = None, None, False

    def append(value: str) -> None:
        assert current is not None and target is not None
        name, index = target
        if name == "msgstr_plural":
            current.msgstr_plural[index] += value
        else:
            setattr(current, name, (getattr(current, name) or "") + value)

    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        obsolete = line.startswith("#~")
        if obsolete:
            line = line[2:].strip()
            if line.startswith("|"):  # a previous msgid of an obsolete entry
                continue
        if not line:
            finish()
            continue
        if line.startswith("#"):
            if seen_msgstr:  # a comment after a complete entry starts the next one
                finish()
            if current is None:
                current = Entry(lineno=lineno)
            if line.startswith("#,"):
                current.flags.update(f.strip() for f in line[2:].split(",") if f.strip())
            continue
        if line.startswith('"'):
            if current is None or target is None:
                raise ValueError(f"line {lineno}: string continuation outside an entry")
            append(_unquote(line, lineno))
            continue
        match = _KEYWORD.match(line)
        if match is None:
            raise ValueError(f"line {lineno}: cannot parse {raw!r}")
        keyword, index, value = match.group(1), match.group(2), _unquote(match.group(3), lineno)
        if keyword in ("msgctxt", "msgid") and seen_msgstr:
            finish()
        if current is None:
            current = Entry(lineno=lineno)
        current.obsolete = current.obsolete or obsolete
        if keyword.startswith("msgstr"):
            seen_msgstr = True
            if index is not None:
                current.msgstr_plural[int(index)] = value
                target = ("msgstr_plural", int(index))
                continue
        setattr(current, keyword, value)
        target = (keyword, None)
    finish()
    return entries


def placeholders(text: str) -> Counter[str]:
    return Counter(p for p in PLACEHOLDER.findall(text) if p != "%%")


def is_technical(msgid: str) -> bool:
    """True if the message is nothing but placeholders, technical tokens and punctuation."""
    rest = PLACEHOLDER.sub(" ", msgid)
    for token in sorted(TECHNICAL_TOKENS, key=len, reverse=True):
        rest = rest.replace(token, " ")
    return not re.search(r"[^\W\d_]", rest)


# --- the parser itself ---------------------------------------------------------------------

SAMPLE = r"""# Translator comment
#
#, fuzzy
msgid ""
msgstr ""
"Language: km\n"
"Plural-Forms: nplurals=1; plural=0;\n"

#: app/views.py
#, python-format
msgctxt "menu"
msgid ""
"A long message on two lines with a \"quote\" "
"and %(name)s."
msgstr "សារ %(name)s។"

#, fuzzy, python-format
msgid "%(counter)s user"
msgid_plural "%(counter)s users"
msgstr[0] "អ្នកប្រើប្រាស់ %(counter)s នាក់"
msgid "Next entry without a blank line"
msgstr ""

#~ msgid "Gone"
#~ msgstr "បាត់"
"""


def test_the_parser_reads_multi_line_plural_context_fuzzy_and_obsolete_entries():
    header, long, plural, bare, gone = parse_po(SAMPLE)
    assert header.is_header and header.fuzzy
    assert header.msgstr == "Language: km\nPlural-Forms: nplurals=1; plural=0;\n"
    assert long.msgctxt == "menu" and not long.fuzzy and "python-format" in long.flags
    assert long.msgid == 'A long message on two lines with a "quote" and %(name)s.'
    assert long.translations == ["សារ %(name)s។"]
    assert plural.fuzzy and plural.msgid_plural == "%(counter)s users"
    assert plural.translations == ["អ្នកប្រើប្រាស់ %(counter)s នាក់"]
    assert bare.msgid == "Next entry without a blank line" and bare.translations == [""]
    assert gone.obsolete and gone.msgid == "Gone"
    assert placeholders("%(a)s, %d and %s but not %%") == Counter(["%(a)s", "%d", "%s"])
    assert is_technical("PDF") and is_technical("%(code)s — SHA-256")
    assert not is_technical("Log in") and not is_technical("Export to CSV")


# --- the Khmer catalogue -------------------------------------------------------------------


@pytest.fixture(scope="module")
def catalogue() -> list[Entry]:
    assert PO_PATH.is_file(), f"{PO_PATH.relative_to(REPO)} is missing: run `make messages`"
    entries = [e for e in parse_po(PO_PATH.read_text(encoding="utf-8")) if not e.obsolete]
    assert entries and entries[0].is_header, "the catalogue must start with its header"
    return entries


@pytest.fixture(scope="module")
def messages(catalogue: list[Entry]) -> list[Entry]:
    found = [e for e in catalogue if not e.is_header]
    assert len(found) > 100, "suspiciously few messages: is the catalogue up to date?"
    return found


def _report(problems: list[str]) -> str:
    return f"{len(problems)} problem(s):\n" + "\n".join(problems[:40])


def test_header_declares_khmer_with_one_plural_form(catalogue):
    header = catalogue[0]
    fields = dict(line.split(":", 1) for line in (header.msgstr or "").splitlines() if ":" in line)
    fields = {key.strip(): value.strip() for key, value in fields.items()}
    assert fields.get("Language") == "km"
    assert fields.get("Plural-Forms") == "nplurals=1; plural=0;"
    assert fields.get("Content-Type") == "text/plain; charset=UTF-8"
    assert "PACKAGE" not in fields.get("Project-Id-Version", "PACKAGE")
    assert not header.fuzzy, "the header is still marked fuzzy"


def test_every_message_is_translated(messages):
    untranslated = [str(e) for e in messages if not all(t.strip() for t in e.translations)]
    assert not untranslated, _report(untranslated)


def test_plural_messages_have_exactly_the_one_khmer_form(messages):
    wrong = [
        f"{e}: forms {sorted(e.msgstr_plural)}"
        for e in messages
        if e.msgid_plural is not None and sorted(e.msgstr_plural) != [0]
    ]
    assert not wrong, _report(wrong)


def test_no_message_is_fuzzy(messages):
    fuzzy = [str(e) for e in messages if e.fuzzy]
    assert not fuzzy, _report(fuzzy)


def test_placeholders_survive_translation(messages):
    problems = []
    for entry in messages:
        # Khmer has one plural form, used for every count: it follows msgid_plural, which
        # may name more placeholders than the singular (e.g. a range "#first to #last").
        source = entry.msgid_plural if entry.msgid_plural is not None else entry.msgid
        if entry.msgid_plural is not None and placeholders(entry.msgid) - placeholders(source):
            problems.append(f"{entry}: the singular has placeholders the plural lacks")
        for translation in entry.translations:
            if placeholders(translation) != placeholders(source):
                problems.append(
                    f"{entry}: {sorted(placeholders(source).elements())} in the source, "
                    f"{sorted(placeholders(translation).elements())} in {translation!r}"
                )
    assert not problems, _report(problems)


def test_html_tags_survive_translation(messages):
    problems = []
    for entry in messages:
        tags = Counter(HTML_TAG.findall(entry.msgid))
        for translation in entry.translations:
            missing = tags - Counter(HTML_TAG.findall(translation))
            if missing:
                problems.append(f"{entry}: {sorted(missing)} missing from {translation!r}")
    assert not problems, _report(problems)


def _ends(text: str) -> tuple[str, str]:
    """The leading and the trailing whitespace of a text."""
    return text[: len(text) - len(text.lstrip())], text[len(text.rstrip()) :]


def test_leading_and_trailing_whitespace_is_kept(messages):
    problems = [
        f"{e}: {_ends(e.msgid)} vs {_ends(t)}"
        for e in messages
        for t in e.translations
        if _ends(e.msgid) != _ends(t)
    ]
    assert not problems, _report(problems)


def test_translations_are_in_khmer_script(messages):
    not_khmer = [
        f"{e}: {t!r}"
        for e in messages
        if not is_technical(e.msgid)
        for t in e.translations
        if not KHMER.search(t)
    ]
    assert not not_khmer, _report(not_khmer)


def test_msgfmt_accepts_the_catalogue():
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        pytest.fail(
            "msgfmt is not installed: install gettext (scripts/setup.sh does) so that the "
            "Khmer catalogue can be checked and compiled"
        )
    result = subprocess.run(
        [msgfmt, "--check", f"--output-file={os.devnull}", str(PO_PATH)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"msgfmt --check failed:\n{result.stderr}"


# --- Django uses the compiled catalogue ----------------------------------------------------


@pytest.fixture
def compiled_catalogue():
    assert MO_PATH.is_file(), (
        f"{MO_PATH.relative_to(REPO)} is missing: run "
        "`.venv/bin/python manage.py compilemessages --ignore=.venv --ignore=node_modules`"
    )


def test_django_renders_khmer_under_override(compiled_catalogue, messages):
    from django.utils import translation

    from probity.accounts.roles import Role

    expected = {e.msgid: e.translations[0] for e in messages if e.msgid_plural is None}
    with translation.override("en"):
        assert translation.gettext("Log in") == "Log in"
        english = {role.value: str(role.label) for role in Role}
    assert english[Role.AUDITOR] == "Auditor"
    with translation.override("km"):
        assert translation.gettext("Log in") == "ចូលប្រើ"
        assert translation.gettext("Log out") == "ចាកចេញ"
        assert translation.gettext("Audit log") == "កំណត់ហេតុសវនកម្ម"
        khmer = {role.value: str(role.label) for role in Role}
    assert khmer[Role.AUDITOR] == "សវនករ"
    assert khmer[Role.COMMANDER] == "មេបញ្ជាការ"
    for role in Role:
        assert khmer[role.value] == expected[english[role.value]], role.value
        assert KHMER.search(khmer[role.value]), role.value
