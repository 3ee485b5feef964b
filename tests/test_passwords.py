"""Password hashes: production's scrypt cost, and hashes that carry their own parameters."""

from __future__ import annotations

import pytest

from conftest import PRODUCTION_SCRYPT, TEST_SCRYPT_N
from onlinesupport.accounts import passwords
from onlinesupport.accounts.passwords import hash_password, verify_password


def test_production_hashes_with_scrypt_at_n_2_15_r_8_p_1(monkeypatch: pytest.MonkeyPatch) -> None:
    """The suite lowers the cost (tests/conftest.py); what it lowers must be production's."""
    assert PRODUCTION_SCRYPT == (2**15, 8, 1)
    monkeypatch.setattr(passwords, "_N", PRODUCTION_SCRYPT[0])
    stored = hash_password("correct horse battery")
    scheme, n, r, p, _salt, _digest = stored.split("$")
    assert (scheme, int(n), int(r), int(p)) == ("scrypt", 2**15, 8, 1)
    assert verify_password("correct horse battery", stored)
    assert not verify_password("correct horse batterz", stored)


def test_a_hash_is_verified_with_the_parameters_it_was_made_with() -> None:
    """Why the suite may hash cheaply: verifying reads the cost from the stored hash."""
    cheap = hash_password("correct horse battery")
    assert cheap.startswith(f"scrypt${TEST_SCRYPT_N}$8$1$")
    assert verify_password("correct horse battery", cheap)
    assert not verify_password("wrong password", cheap)
    assert not verify_password("correct horse battery", cheap.replace("scrypt$", "bcrypt$"))
