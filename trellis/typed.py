"""What a person typed, as the number parsers read it.

Chinese input methods type full-width characters: ``１２５００．００`` is what a vendor
means by 12500.00. Every parser of a typed number (the forms' yuan amounts and whole
days, the importer's amount cells) reads its text through :func:`number_text` first, so
full-width digits, points and separators are accepted the same everywhere (reader 13,
J12: ``１２５００`` passed while ``１２５００．００`` was refused).
"""

from __future__ import annotations

import unicodedata

#: separators and currency signs a typed amount may carry (after NFKC: ``，`` is ``,``
#: and ``￥`` is ``¥``)
_DROPPED = str.maketrans("", "", ",¥ ")


def number_text(raw: object) -> str:
    """*raw* as text in NFKC (full-width digits, ``．`` and ``，`` become ASCII), stripped,
    with thousands separators, spaces and the yuan sign removed; ``""`` for None."""
    if raw is None:
        return ""
    return unicodedata.normalize("NFKC", str(raw)).strip().translate(_DROPPED)
