"""Phone numbers as customers type them, checked and written in E.164 (`+4930123456`).

No numbering-plan library: a small table of the countries we call, each with its calling code,
its national trunk prefix (the `0` in `030 123456`, dropped in international form) and a
pattern for the national significant number (the digits after the calling code). A number
may be typed nationally (`030 1234567` with the country chosen), or internationally
(`+49 30 1234567`, `0049 30 1234567`, from North America also `011 49 …`); spaces, dashes,
dots, slashes and parentheses are ignored, and so is the `(0)` many Europeans write after the
calling code. Anything else (letters, an extension, too few or too many digits, a calling code
we do not call) is refused with a sentence the customer can act on.

To support another country, add a row to COUNTRIES: its ITU calling code, trunk prefix and
the lengths (and first digits) of its national numbers from its national numbering plan.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from onlinesupport.lib.errors import UserError
from onlinesupport.lib.inputs import phone_number


class InvalidPhone(UserError):
    """The number cannot be called as typed; the message says why, for the customer."""


@dataclass(frozen=True)
class Country:
    code: str
    """ISO 3166-1 alpha-2."""
    name: str
    calling: str
    """The ITU country calling code, digits only."""
    trunk: str
    """The national trunk prefix dropped in international form ("" where there is none)."""
    national: re.Pattern[str]
    """The national significant number: what follows the calling code."""


def _c(code: str, name: str, calling: str, trunk: str, national: str) -> Country:
    return Country(code, name, calling, trunk, re.compile(national))


# National significant numbers: first digits and lengths from each country's numbering plan.
# A number given internationally belongs to the first country with its calling code (unless
# the customer chose another that shares it): the United States before Canada.
COUNTRIES: dict[str, Country] = {
    c.code: c
    for c in (
        _c("US", "United States", "1", "1", r"[2-9]\d{2}[2-9]\d{6}"),
        _c("CA", "Canada", "1", "1", r"[2-9]\d{2}[2-9]\d{6}"),
        _c("AT", "Austria", "43", "0", r"[1-9]\d{5,12}"),
        _c("AU", "Australia", "61", "0", r"[2-478]\d{8}"),
        _c("BE", "Belgium", "32", "0", r"[1-9]\d{7,8}"),
        _c("CH", "Switzerland", "41", "0", r"[1-9]\d{8}"),
        _c("CZ", "Czechia", "420", "", r"[2-9]\d{8}"),
        _c("DE", "Germany", "49", "0", r"[1-9]\d{5,12}"),
        _c("DK", "Denmark", "45", "", r"[2-9]\d{7}"),
        _c("ES", "Spain", "34", "", r"[5-9]\d{8}"),
        _c("FI", "Finland", "358", "0", r"[1-9]\d{4,11}"),
        _c("FR", "France", "33", "0", r"[1-9]\d{8}"),
        _c("GB", "United Kingdom", "44", "0", r"[1-9]\d{8,9}"),
        _c("IE", "Ireland", "353", "0", r"[1-9]\d{6,8}"),
        _c("IN", "India", "91", "0", r"[1-9]\d{9}"),
        # Italy keeps the leading 0 of fixed lines in international form; mobiles start with 3.
        _c("IT", "Italy", "39", "", r"0\d{5,10}|3\d{8,9}"),
        _c("JP", "Japan", "81", "0", r"[1-9]\d{8,9}"),
        _c("LU", "Luxembourg", "352", "", r"[1-9]\d{3,10}"),
        _c("NL", "Netherlands", "31", "0", r"[1-9]\d{8}"),
        _c("NO", "Norway", "47", "", r"[2-9]\d{7}"),
        _c("NZ", "New Zealand", "64", "0", r"[2-9]\d{7,9}"),
        _c("PL", "Poland", "48", "", r"[1-9]\d{8}"),
        _c("PT", "Portugal", "351", "", r"[2-9]\d{8}"),
        _c("SE", "Sweden", "46", "0", r"[1-9]\d{6,8}"),
        _c("SG", "Singapore", "65", "", r"[3689]\d{7}"),
        _c("ZA", "South Africa", "27", "0", r"[1-9]\d{8}"),
    )
}
# The time zones of each country above (from tzdata's zone.tab, and Asia/Calcutta, an old
# name still chosen), so a business's zone names the country its callers most likely are in.
_ZONES = {
    "US": "America/New_York America/Detroit America/Kentucky/Louisville"
    " America/Kentucky/Monticello America/Indiana/Indianapolis America/Indiana/Vincennes"
    " America/Indiana/Winamac America/Indiana/Marengo America/Indiana/Petersburg"
    " America/Indiana/Vevay America/Chicago America/Indiana/Tell_City America/Indiana/Knox"
    " America/Menominee America/North_Dakota/Center America/North_Dakota/New_Salem"
    " America/North_Dakota/Beulah America/Denver America/Boise America/Phoenix"
    " America/Los_Angeles America/Anchorage America/Juneau America/Sitka America/Metlakatla"
    " America/Yakutat America/Nome America/Adak Pacific/Honolulu",
    "CA": "America/St_Johns America/Halifax America/Glace_Bay America/Moncton"
    " America/Goose_Bay America/Blanc-Sablon America/Toronto America/Iqaluit America/Atikokan"
    " America/Winnipeg America/Resolute America/Rankin_Inlet America/Regina"
    " America/Swift_Current America/Edmonton America/Cambridge_Bay America/Inuvik"
    " America/Creston America/Dawson_Creek America/Fort_Nelson America/Whitehorse"
    " America/Dawson America/Vancouver",
    "AT": "Europe/Vienna",
    "AU": "Australia/Lord_Howe Antarctica/Macquarie Australia/Hobart Australia/Melbourne"
    " Australia/Sydney Australia/Broken_Hill Australia/Brisbane Australia/Lindeman"
    " Australia/Adelaide Australia/Darwin Australia/Perth Australia/Eucla",
    "BE": "Europe/Brussels",
    "CH": "Europe/Zurich",
    "CZ": "Europe/Prague",
    "DE": "Europe/Berlin Europe/Busingen",
    "DK": "Europe/Copenhagen",
    "ES": "Europe/Madrid Africa/Ceuta Atlantic/Canary",
    "FI": "Europe/Helsinki",
    "FR": "Europe/Paris",
    "GB": "Europe/London",
    "IE": "Europe/Dublin",
    "IN": "Asia/Kolkata Asia/Calcutta",
    "IT": "Europe/Rome",
    "JP": "Asia/Tokyo",
    "LU": "Europe/Luxembourg",
    "NL": "Europe/Amsterdam",
    "NO": "Europe/Oslo",
    "NZ": "Pacific/Auckland Pacific/Chatham",
    "PL": "Europe/Warsaw",
    "PT": "Europe/Lisbon Atlantic/Madeira Atlantic/Azores",
    "SE": "Europe/Stockholm",
    "SG": "Asia/Singapore",
    "ZA": "Africa/Johannesburg",
}
_COUNTRY_OF_ZONE = {zone: code for code, zones in _ZONES.items() for zone in zones.split()}
MAX_TYPED = 40
_ALLOWED = re.compile(r"^\+?[\d\s\-./()]+$")


def country(code: str) -> Country:
    """The country with ISO code `code` (any case); raises InvalidPhone for one we do not call."""
    found = COUNTRIES.get((code or "").strip().upper())
    if found is None:
        raise InvalidPhone("choose the country of the number")
    return found


def _by_calling_code(digits: str, preferred: Country | None) -> tuple[Country, str]:
    """The country whose calling code starts `digits` (the chosen one first, since +1 is both
    the US and Canada), and the digits after the code."""
    if preferred is not None and digits.startswith(preferred.calling):
        return preferred, digits[len(preferred.calling) :]
    for length in (1, 2, 3):
        for candidate in COUNTRIES.values():
            if candidate.calling == digits[:length]:
                return candidate, digits[length:]
    raise InvalidPhone(
        "we can only call numbers in " + ", ".join(sorted(c.name for c in COUNTRIES.values()))
    )


def normalise(typed: str, country_code: str) -> tuple[str, Country]:
    """The number in E.164 and the country it belongs to; raises InvalidPhone.

    `country_code` is the country the customer chose: it reads a national number, and picks
    between countries that share a calling code. A number written internationally needs none
    ("").
    """
    text = (typed or "").strip()
    if not text:
        raise InvalidPhone("give the number we should call")
    if len(text) > MAX_TYPED:
        raise InvalidPhone(f"a phone number has at most {MAX_TYPED} characters")
    if not _ALLOWED.match(text):
        raise InvalidPhone("use only digits, spaces and a leading + (no letters or extensions)")
    written = phone_number(text)
    international = written.startswith("+")
    chosen = None if international and not country_code.strip() else country(country_code)
    digits = written.removeprefix("+")
    if not international and chosen and chosen.calling == "1" and digits.startswith("011"):
        digits, international = digits[3:], True  # North America's international prefix
    if international:
        found, national = _by_calling_code(digits, chosen)
    else:
        assert chosen is not None  # a national number is read with its country
        found, national = chosen, digits
        if (
            found.trunk
            and national.startswith(found.trunk)
            and not found.national.fullmatch(national)
        ):
            national = national[len(found.trunk) :]
    if not found.national.fullmatch(national):
        the = "the " if found.code in ("GB", "NL", "US") else ""
        raise InvalidPhone(
            f"this is not a phone number in {the}{found.name} (+{found.calling}): check the digits"
        )
    return f"+{found.calling}{national}", found


def display(e164: str) -> str:
    """`+4930123456` as `+49 30123456`: the calling code set apart, readable when dialling."""
    for length in (3, 2, 1):
        code = e164[1 : 1 + length]
        if any(c.calling == code for c in COUNTRIES.values()):
            return f"+{code} {e164[1 + length :]}"
    return e164


def country_of_zone(zone: str) -> str:
    """The ISO code of the country we call whose time zone `zone` is ("" for none, or for a
    zone such as UTC that names no country)."""
    return _COUNTRY_OF_ZONE.get(zone, "")


def choices() -> list[tuple[str, str]]:
    """(code, "Germany (+49)") for every country we call, by name."""
    return [
        (c.code, f"{c.name} (+{c.calling})")
        for c in sorted(COUNTRIES.values(), key=lambda c: c.name)
    ]
