"""Password hashing and rules (SPEC §2)."""

from __future__ import annotations

import random
import string

import bcrypt
import pytest

from portal.auth import messages as m
from portal.auth.passwords import check_password, hash_password, password_problems
from tests.conftest import AuthActions, post_form

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


# SPEC §2 allows up to 128 characters; zxcvbn itself refuses more than 72.
LONG = {
    n: "".join(random.Random(n).choices(string.ascii_letters + string.digits + "!#-_", k=n))
    for n in (73, 100, 128)
}


@pytest.mark.parametrize("length", sorted(LONG))
def test_long_passwords_up_to_the_maximum_are_judged(app, length):
    assert len(LONG[length]) == length
    assert password_problems(LONG[length], login_id="hong_gildong") == []


def test_long_password_made_of_a_common_one_is_still_refused(app):
    assert m.PASSWORD_COMMON in password_problems("password123!" * 10)


@pytest.mark.parametrize("length", [100, 128])
def test_long_password_registers_signs_in_and_changes(app, make_customer, auth, client, length):
    customer = make_customer(password=LONG[length])  # registration: account service
    auth.login(customer)
    response = post_form(
        client,
        "/account/password",
        {
            "current_password": LONG[length],
            "new_password": LONG[length][::-1],
            "new_password_confirm": LONG[length][::-1],
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)


def test_first_login_takes_a_128_character_password(client, make_customer):
    newbie = make_customer(login_id="first_timer", activated=False)
    auth = AuthActions(client)
    assert auth.step_one(newbie).headers["Location"] == "/login/activate"
    done = post_form(
        client, "/login/activate", {"password": LONG[128], "password_confirm": LONG[128]}
    )
    assert done.headers["Location"] == "/login/verify"
