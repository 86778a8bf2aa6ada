"""Names as people type them, in one form. The same name can reach Velora as different code
points: "café" with é as one character (composed) or as e and a combining accent (decomposed),
as macOS keyboards and many libraries write it. Unicode's NFC form makes them one string, so
each name is normalised once where it enters the domain (categories, product text, seller and
plan names), and names are compared by `name_key`, which also ignores case and runs of white
space. A name stored before this rule compares equal too, since the key normalises both sides."""

from __future__ import annotations

import unicodedata


def nfc(text: str) -> str:
    """The text in Unicode's composed form (NFC)."""
    return unicodedata.normalize("NFC", text)


def name_key(name: str) -> str:
    """What two spellings of one name have in common: NFC, white space collapsed, case folded."""
    return " ".join(nfc(name).split()).casefold()
