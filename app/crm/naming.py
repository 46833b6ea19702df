"""How names are compared: Unicode NFKC, case folding, look-alike letters and spacing (pure)."""

from __future__ import annotations

import re
import unicodedata

# Cyrillic and Greek letters that look like Latin ones: `Сompany` (Cyrillic С) is `Company`.
_CONFUSABLES = str.maketrans(
    {
        "а": "a", "в": "b", "е": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p",
        "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ј": "j", "ԁ": "d",
        "ԛ": "q", "ԝ": "w", "ү": "y", "һ": "h", "ӏ": "l",
        "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "μ": "m", "ν": "v",
        "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ζ": "z",
    }
)  # fmt: skip
_SPACES = re.compile(r"\s+")
_SEPARATORS = re.compile(r"[\s_\-]+")


def normalized(text: str) -> str:
    """NFKC, case-folded, look-alikes mapped to Latin, runs of spaces made one, trimmed."""
    folded = unicodedata.normalize("NFKC", text).casefold().translate(_CONFUSABLES)
    return _SPACES.sub(" ", folded).strip()


def compact(text: str) -> str:
    """`normalized` without any spacing, so `TedJohnson` finds `Ted Johnson`."""
    return _SPACES.sub("", normalized(text))


def field_key(text: str) -> str:
    """Field names compare without spaces, `_` or `-`: `Company name` = `company_name`."""
    return _SEPARATORS.sub("", normalized(text))
