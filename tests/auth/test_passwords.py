"""Password hashing and rules (SPEC §2)."""

from __future__ import annotations

import bcrypt
import pytest

from portal.auth import messages as m
from portal.auth.passwords import check_password, hash_password, password_problems

KOREAN_100 = ("가나다라마바사아자차카타파하" * 8)[:97] + "7!Q"


def test_long_korean_password_works_and_its_prefix_does_not(app):
    assert len(KOREAN_100) == 100
    encoded = KOREAN_100.encode("utf-8")
    assert len(encoded) > 72  # bcrypt alone would only read the first 72 bytes
    stored = hash_password(KOREAN_100)
    assert check_password(KOREAN_100, stored)
    prefix = encoded[:72].decode("utf-8", errors="ignore")
    assert not check_password(prefix, stored)
    assert not check_password(KOREAN_100[:-1], stored)


def test_bcrypt_itself_would_refuse_or_truncate(app):
    # The reason for the pre-hash: bcrypt 5 raises on more than 72 bytes.
    with pytest.raises(ValueError):
        bcrypt.hashpw(KOREAN_100.encode(), bcrypt.gensalt(4))


def test_same_text_in_other_unicode_form_matches(app):
    import unicodedata

    password = "한글비밀번호-Spot-2026"
    stored = hash_password(unicodedata.normalize("NFC", password))
    assert check_password(unicodedata.normalize("NFD", password), stored)


def test_cost_comes_from_config(app):
    app.config["BCRYPT_ROUNDS"] = 5
    assert hash_password("Trk-Portal-7731!").startswith("$2b$05$")


def test_over_long_password_is_refused(app):
    stored = hash_password("Trk-Portal-7731!")
    assert not check_password("x" * 129, stored)
    assert password_problems("Aa1!" * 33) == [m.PASSWORD_TOO_LONG]


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("Sh0rt!", m.PASSWORD_TOO_SHORT),
        ("abcdefghij", m.PASSWORD_CLASSES),  # 10 chars, 1 class
        ("abcdefg1", m.PASSWORD_CLASSES),  # 8 chars, 2 classes
        ("password123!", m.PASSWORD_COMMON),
        ("Qwerty1234", m.PASSWORD_COMMON),
        ("hong_gildong-X9!", m.PASSWORD_CONTAINS_ID),
    ],
)
def test_password_rules(app, password, problem):
    assert problem in password_problems(password, login_id="hong_gildong")


@pytest.mark.parametrize(
    "password", ["tiger-moon-7-river", "Zq8#vL2m", "초록바다위흰구름아래9", "Trk-Portal-7731!"]
)
def test_acceptable_passwords(app, password):
    assert password_problems(password, login_id="hong_gildong") == []
