"""Password hashing and rules (PRODUCT.md §2)."""

from __future__ import annotations

import random
import re
import string

import bcrypt
import pytest

from portal.auth import messages as m
from portal.auth.passwords import check_password, hash_password, password_problems
from tests.conftest import ROOT, AuthActions, post_form

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
    "password",
    [
        "tiger-moon-7-river",
        "Zq8#vL2m",
        "초록바다위흰구름아래9",
        "Trk-Portal-7731!",
        "Sarang-Haneul-Bada-42",  # romanised words in a passphrase, not a keyboard pattern
        "Spot-Tracker-Family-2026",  # a listed word inside a longer passphrase
        "tkfkdgo-Moon-River-77",
    ],
)
def test_acceptable_passwords(app, password):
    assert password_problems(password, login_id="hong_gildong") == []


# PRODUCT.md §2 allows up to 128 characters; zxcvbn itself refuses more than 72.
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


# --- passwords common in Korea (common_passwords_ko.txt) ---------------------------------


@pytest.mark.parametrize(
    "password",
    [
        # keyboard walks, digits and symbols around or between them
        "Qwer1234!@#$",
        "qwer1234!",
        "asdf1234!@",
        "1q2w3e4r!",
        "zxcv1234!@#$",
        "Qwer!234",
        "1q2w3e!@#",
        "Qwerasdf12!",
        "Qweasdzxc123!",
        "!Qaz2wsx3edc",
        # Korean words typed in English mode (안녕하세요, 가나다라, 사랑해, 비밀번호, 패스워드,
        # 대한민국) and typed in Hangul
        "Dkssudgktpdy1!",
        "Rkskekfk12!",
        "Tkfkdgo1234!",
        "Qlalfqjsgh1!",
        "Votmdnjem12!",
        "Eogksalsrnr1!",
        "사랑해요1234!@",
        "안녕하세요!!1234",
        # the service's own name
        "Anytrack2026!",
    ],
)
def test_common_korean_passwords_are_refused(app, password):
    assert password_problems(password, login_id="hong_gildong") == [m.PASSWORD_COMMON]


# Hangul 2-beolsik: the keys typed for each jamo (compound vowels and finals: two keys).
_INITIAL = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
_MEDIAL = "ㅏㅐㅑㅒㅓㅔㅕㅖㅗㅘㅙㅚㅛㅜㅝㅞㅟㅠㅡㅢㅣ"
_FINAL = ["", *"ㄱㄲㄳㄴㄵㄶㄷㄹㄺㄻㄼㄽㄾㄿㅀㅁㅂㅄㅅㅆㅇㅈㅊㅋㅌㅍㅎ"]
_KEYS = dict(
    re.findall(
        r"(\S)(\w+)",
        "ㄱr ㄲR ㄴs ㄷe ㄸE ㄹf ㅁa ㅂq ㅃQ ㅅt ㅆT ㅇd ㅈw ㅉW ㅊc ㅋz ㅌx ㅍv ㅎg "
        "ㅏk ㅐo ㅑi ㅒO ㅓj ㅔp ㅕu ㅖP ㅗh ㅘhk ㅙho ㅚhl ㅛy "
        "ㅜn ㅝnj ㅞnp ㅟnl ㅠb ㅡm ㅢml ㅣl "
        "ㄳrt ㄵsw ㄶsg ㄺfr ㄻfa ㄼfq ㄽft ㄾfx ㄿfv ㅀfg ㅄqt",
    )
)


def _typed_in_english_mode(word: str) -> str:
    keys = []
    for syllable in word:
        index = ord(syllable) - 0xAC00
        initial, medial, final = index // 588, index % 588 // 28, index % 28
        keys.append(_KEYS[_INITIAL[initial]] + _KEYS[_MEDIAL[medial]])
        keys.append(_KEYS[_FINAL[final]] if final else "")
    return "".join(keys).lower()


def test_each_korean_entry_is_its_word_typed_in_english_mode():
    lines = (ROOT / "portal" / "auth" / "common_passwords_ko.txt").read_text("utf-8")
    pairs = [
        line.split()
        for line in lines.splitlines()
        if line.strip() and not line.startswith("#") and not line.split()[-1].isascii()
    ]
    assert len(pairs) >= 20
    for typed, word in pairs:
        assert typed == _typed_in_english_mode(word), word
