"""Legal Entity Identifiers (ISO 17442): 18 alphanumeric characters followed by two check digits
computed with ISO/IEC 7064 MOD 97-10 (as IBANs are): letters count as 10..35 and the whole number
taken mod 97 must equal 1."""
from __future__ import annotations

import re

LEI_PATTERN = re.compile(r"^[0-9A-Z]{18}[0-9]{2}$")


def _as_number(text: str) -> int:
    return int("".join(str(int(ch, 36)) for ch in text))


def lei_check_digits(base18: str) -> str:
    """The two check digits of an 18-character LEI prefix."""
    base18 = base18.upper()
    if not re.fullmatch(r"[0-9A-Z]{18}", base18):
        raise ValueError("An LEI prefix is 18 characters of 0-9 and A-Z.")
    return f"{98 - _as_number(base18 + '00') % 97:02d}"


def lei_is_valid(value: str) -> bool:
    if not isinstance(value, str) or not LEI_PATTERN.match(value):
        return False
    return _as_number(value) % 97 == 1
