"""unknown login IDs: password failures counted and locked like an account's

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30

Written by hand, checked against portal/auth/models.py (UnknownLogin).

- Five wrong passwords lock a real account and the page says so; a login ID nobody has
  never locked, so five guesses told whether an ID exists. unknown_logins counts failures
  per typed ID (kept only as a keyed hash, with its scope, customer or staff) with the same
  limit and lock as accounts (portal.auth.lockout.unknown_login_check).
- key_hash is unique: the first failure inserts the row with ON CONFLICT DO NOTHING, so
  parallel first failures share one row; failures are then charged with the atomic UPDATE
  every counter uses.
- last_failure_at is indexed: rows untouched for 90 days are deleted as new ones come.
- Starts empty; the downgrade drops it (nothing else refers to it).
"""
from alembic import op
import sqlalchemy as sa



# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'unknown_logins',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key_hash', sa.String(length=64), nullable=False),
        sa.Column('failed_logins', sa.Integer(), nullable=False),
        sa.Column('locked_until', sa.DateTime(), nullable=True),
        sa.Column('last_failure_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_unknown_logins')),
        sa.UniqueConstraint('key_hash', name=op.f('uq_unknown_logins_key_hash')),
    )
    op.create_index(
        op.f('ix_unknown_logins_last_failure_at'), 'unknown_logins', ['last_failure_at']
    )


def downgrade():
    op.drop_index(op.f('ix_unknown_logins_last_failure_at'), table_name='unknown_logins')
    op.drop_table('unknown_logins')
