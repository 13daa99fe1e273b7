"""Khmer text helpers.

Khmer is written without spaces between words, so a browser or a PDF renderer cannot break
a long line unless it is told where words end. ``word_breaks`` inserts zero-width spaces at
the word boundaries that ICU's dictionary-based break iterator finds. ``normalise`` brings
text to NFC, so that the same name typed on two keyboards compares equal.
"""

import unicodedata
from functools import lru_cache

import icu

ZWSP = "\u200b"
_KHMER_START, _KHMER_END = 0x1780, 0x17FF


def normalise(text: str) -> str:
    """NFC, without zero-width spaces, with runs of white space folded to one space."""
    text = unicodedata.normalize("NFC", text or "").replace(ZWSP, "")
    return " ".join(text.split())


def has_khmer(text: str) -> bool:
    return any(_KHMER_START <= ord(ch) <= _KHMER_END for ch in text or "")


@lru_cache(maxsize=1)
def _khmer_locale():
    return icu.Locale("km")


def word_breaks(text: str) -> str:
    """``text`` with a zero-width space between Khmer words (other text is left alone)."""
    if not has_khmer(text):
        return text
    text = text.replace(ZWSP, "")
    iterator = icu.BreakIterator.createWordInstance(_khmer_locale())
    iterator.setText(text)
    pieces: list[str] = []
    start = iterator.first()
    for end in iterator:
        pieces.append(text[start:end])
        start = end
    out: list[str] = []
    for piece in pieces:
        if out and has_khmer(out[-1][-1:]) and has_khmer(piece[:1]):
            out.append(ZWSP)
        out.append(piece)
    return "".join(out)
