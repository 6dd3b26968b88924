"""Re-encrypt every encrypted column with the newest data key, in batches.

Safe to stop and rerun: a value already under the newest key is left alone, each batch is
committed by the command, and each UPDATE carries the old ciphertext in its WHERE clause so
a value rewritten meanwhile (a card reissued, an OTP enrolled) is never overwritten.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update

from portal.admin.models import Staff
from portal.auth.models import OtpCredential, SecurityCard
from portal.billing.models import PaymentMethod
from portal.extensions import db
from portal.mail.models import OutboxMessage
from portal.retention.models import RetainedRecord
from portal.security import is_current, rotate

# Every column written by portal.security.encrypt. tests/keys checks that no column named
# *_encrypted in the metadata is missing from this list.
ENCRYPTED_COLUMNS = (
    SecurityCard.codes_encrypted,
    OtpCredential.secret_encrypted,
    OtpCredential.pending_secret_encrypted,
    Staff.otp_secret_encrypted,
    PaymentMethod.account_number_encrypted,
    PaymentMethod.holder_birth_date_encrypted,
    PaymentMethod.holder_business_number_encrypted,
    RetainedRecord.payload_encrypted,
    OutboxMessage.content_encrypted,
)
BATCH_SIZE = 500


def column_name(column) -> str:
    return f"{column.class_.__tablename__}.{column.key}"


@dataclass
class BatchResult:
    seen: int  # rows read in this batch (0: the column is done)
    stale: int  # values not under the newest key
    last_id: int


def rotate_batch(column, *, after_id: int, dry_run: bool, size: int = BATCH_SIZE) -> BatchResult:
    """Rotate the next ``size`` values of ``column`` with ids above ``after_id`` (flush only)."""
    model = column.class_
    rows = db.session.execute(
        select(model.id, column)
        .where(model.id > after_id, column.is_not(None))
        .order_by(model.id)
        .limit(size)
    ).all()
    stale = 0
    for row_id, token in rows:
        token = bytes(token)
        if is_current(token):
            continue
        stale += 1
        if not dry_run:
            db.session.execute(
                update(model)
                .where(model.id == row_id, column == token)
                .values({column.key: rotate(token)})
                .execution_options(synchronize_session=False)
            )
    return BatchResult(seen=len(rows), stale=stale, last_id=rows[-1][0] if rows else after_id)
