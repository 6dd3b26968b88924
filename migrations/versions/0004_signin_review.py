"""sign-in review: the first-login password waits on the pending login; step-2 failure
count; OTP enrolment expiry

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30

Reviewed by hand.

- pending_logins.password_replaced (a flag set once the new password had already been
  written to the customer) gives way to new_password_hash: the new hash waits on the pending
  login and reaches customers.password_hash only when the second factor passes. Pending
  logins live five minutes and hold no personal data, so the upgrade and the downgrade both
  simply delete them: whoever was half-way signs in again.
- pending_logins.failed_attempts counts rejected new passwords and wrong recovery codes of
  one sign-in; server_default 0 so the column needs no backfill.
- otp_credentials.pending_created_at dates an enrolment in progress so that it can expire.
  Existing pending secrets get NULL, which the code treats as expired: the customer simply
  sees a fresh QR code.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.execute("DELETE FROM pending_logins")
    with op.batch_alter_table('pending_logins', schema=None) as batch_op:
        batch_op.drop_column('password_replaced')
        batch_op.add_column(sa.Column('new_password_hash', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('failed_attempts', sa.Integer(), nullable=False, server_default='0'))
    with op.batch_alter_table('otp_credentials', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pending_created_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('otp_credentials', schema=None) as batch_op:
        batch_op.drop_column('pending_created_at')
    op.execute("DELETE FROM pending_logins")
    with op.batch_alter_table('pending_logins', schema=None) as batch_op:
        batch_op.drop_column('failed_attempts')
        batch_op.drop_column('new_password_hash')
        batch_op.add_column(sa.Column('password_replaced', sa.Boolean(), nullable=False, server_default=sa.false()))
