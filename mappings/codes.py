"""How product codes are compared across systems: POS SKUs and Fulfil codes differ in case, spacing,
separators and leading zeros ("tee-crw 001" vs "TEECRW1") while meaning the same product."""

import re

_SEPARATORS = re.compile(r"[\s\-_./\\:,;|+]+")


def normalize_code(code: str | None) -> str:
    """Upper case, no whitespace or separators, no leading zeros (but "0" stays "0")."""
    if not code:
        return ""
    squashed = _SEPARATORS.sub("", str(code)).upper()
    return squashed.lstrip("0") or ("0" if squashed else "")
