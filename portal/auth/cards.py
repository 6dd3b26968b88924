"""Security cards (보안카드): issue, challenge, verify.

The challenge follows the Korean banks' 2+2 rule: the first two digits of code i and the last
two digits of code j (i ≠ j) — four digits, about 13 bits. That is weak on its own, so:
the challenge is pinned server-side until it is answered (a guesser cannot reload until a
pair they know comes up), a pair answered once is never asked again (a shoulder-surfed answer
cannot be replayed), and five consecutive wrong answers lock the card, so a guesser's chance
per card is at most 5 in 10,000. It is the second factor, behind the password.
"""

from __future__ import annotations

import hmac
import json
import secrets
from typing import NoReturn

from flask import current_app
from sqlalchemy import select, update

from portal.auth.attempts import charge, conditional_update
from portal.auth.errors import CardExhausted, CardLocked, StaleChallenge, WrongCardCode
from portal.auth.models import CardUsedPair, SecurityCard
from portal.customers.models import Customer
from portal.database import commit_security_write
from portal.dbtypes import utcnow
from portal.extensions import db
from portal.security import decrypt, encrypt


def _new_serial() -> str:
    # 12 random digits in groups, as printed on the card; unique index guards collisions.
    digits = "".join(str(secrets.randbelow(10)) for _ in range(12))
    return f"{digits[:4]}-{digits[4:8]}-{digits[8:]}"


def issue_card(customer: Customer) -> tuple[SecurityCard, list[str]]:
    """Issue a new card, revoking the old one (and so clearing its lock).

    Returns the card and its codes in order (``codes[0]`` is code number 1); the plain codes
    leave this function only to be printed once.
    """
    now = utcnow()
    db.session.execute(
        update(SecurityCard)
        .where(SecurityCard.customer_id == customer.id, SecurityCard.revoked_at.is_(None))
        .values(revoked_at=now, challenge_first=None, challenge_last=None)
    )
    count = current_app.config["PORTAL_CARD_CODES"]
    codes = [f"{secrets.randbelow(10_000):04d}" for _ in range(count)]
    card = SecurityCard(
        customer_id=customer.id,
        serial=_new_serial(),
        codes_encrypted=encrypt(json.dumps(codes)),
        issued_at=now,
    )
    db.session.add(card)
    db.session.flush()
    return card, codes


# A card's serial on screen: only its last digits, enough to tell the customer's cards
# apart (the full serial is in the data download).
SERIAL_SHOWN = 4


def serial_tail(serial: str | None) -> str | None:
    """The part of a card's serial the pages show: ``1234-5678-9012`` → ``9012``."""
    return serial[-SERIAL_SHOWN:] if serial else None


def active_card(customer_id: int) -> SecurityCard | None:
    """The customer's current (unrevoked) card, if any."""
    stmt = select(SecurityCard).where(
        SecurityCard.customer_id == customer_id, SecurityCard.revoked_at.is_(None)
    )
    return db.session.scalars(stmt).first()


def card_codes(card: SecurityCard) -> list[str]:
    return json.loads(decrypt(card.codes_encrypted))


def current_challenge(card: SecurityCard) -> tuple[int, int]:
    """The pinned challenge (code numbers from 1), drawn once and kept until answered.

    :raises CardLocked: when the card is locked.
    :raises CardExhausted: when every pair has been used.
    """
    if card.locked_at is not None:
        raise CardLocked()
    if card.challenge_first is not None and card.challenge_last is not None:
        return card.challenge_first, card.challenge_last
    count = current_app.config["PORTAL_CARD_CODES"]
    used = {
        (row.first_index, row.last_index)
        for row in db.session.scalars(select(CardUsedPair).where(CardUsedPair.card_id == card.id))
    }
    free = [
        (i, j)
        for i in range(1, count + 1)
        for j in range(1, count + 1)
        if i != j and (i, j) not in used
    ]
    if not free:
        raise CardExhausted()
    first, last = free[secrets.randbelow(len(free))]
    card.challenge_first, card.challenge_last = first, last
    # Stored before it is shown, whatever the response: a reload must find the same pair.
    commit_security_write()
    return first, last


def verify_card(card: SecurityCard, code_first: str, code_last: str) -> None:
    """Check an answer to the pinned challenge; a failure is counted, a success consumed.

    The attempt is charged before the comparison (see :mod:`portal.auth.attempts`) and only
    against the challenge it answers, so parallel guesses are each counted and a card never
    has more than ``PORTAL_CARD_MAX_FAILURES`` answers compared before it locks.

    :raises CardLocked: the card is (or has just become) locked.
    :raises StaleChallenge: a concurrent correct answer consumed this challenge.
    :raises WrongCardCode: the answer is wrong; ``failures`` says how many in a row.
    """
    first, last = current_challenge(card)
    pinned = (
        SecurityCard.id == card.id,
        SecurityCard.locked_at.is_(None),
        SecurityCard.revoked_at.is_(None),
        SecurityCard.challenge_first == first,
        SecurityCard.challenge_last == last,
    )
    failures = charge(SecurityCard.failed_attempts, *pinned)
    if failures is None:
        _raise_why_not(card)
    limit = current_app.config["PORTAL_CARD_MAX_FAILURES"]
    if failures > limit:
        # Charged past the limit while an earlier guess was still being compared.
        raise CardLocked(just_locked=_lock(card))
    codes = card_codes(card)
    expected = codes[first - 1][:2] + codes[last - 1][2:]
    given = (code_first or "") + (code_last or "")
    # compare_digest on equal-type strings: no early exit on the first wrong digit.
    if not hmac.compare_digest(expected.encode(), given.encode()):
        if failures >= limit:
            raise CardLocked(just_locked=_lock(card))
        raise WrongCardCode(failures, limit)
    # Consume the pair: only one of several parallel correct answers wins this update. Not
    # conditional on the lock: this answer was charged within the limit (one of the few ever
    # compared); a lock set meanwhile by answers charged past the limit stops those.
    if not conditional_update(
        SecurityCard,
        SecurityCard.id == card.id,
        SecurityCard.revoked_at.is_(None),
        SecurityCard.challenge_first == first,
        SecurityCard.challenge_last == last,
        failed_attempts=0,
        challenge_first=None,
        challenge_last=None,
    ):
        _raise_why_not(card)
    db.session.add(CardUsedPair(card_id=card.id, first_index=first, last_index=last))
    db.session.flush()


def _lock(card: SecurityCard) -> bool:
    """Lock the card; True for the request that locked it (one event, not forty)."""
    return conditional_update(
        SecurityCard,
        SecurityCard.id == card.id,
        SecurityCard.locked_at.is_(None),
        locked_at=utcnow(),
    )


def _raise_why_not(card: SecurityCard) -> NoReturn:
    """The charge or the consumption matched no row: locked, or another answer won."""
    db.session.refresh(card)
    if card.locked_at is not None:
        raise CardLocked()
    # A reissued card (revoked meanwhile) is stale too: the page shows the new card's pair.
    raise StaleChallenge()
