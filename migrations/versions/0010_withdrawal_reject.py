"""back-office queues: withdrawal requests can be rejected; indexes of the staff queues

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02

Written by hand (checked against portal/withdrawal/models.py and portal/account/models.py).

- withdrawal_requests: status may be 'rejected' (staff close a request with a reason the
  customer reads); rejection_reason holds that reason. The check constraint is replaced
  (SQLite rebuilds the table in batch mode; the rows and the unique open_customer_id stay).
- Indexes for the staff queues, each list served by one: withdrawal_requests (status,
  created_at), inquiries (answered_at, created_at), disclosures (disclosed_on, id).
- The downgrade turns rejected requests into cancelled ones first (the narrower constraint
  would refuse them) and drops the reason.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('withdrawal_requests', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_withdrawal_requests_status'), type_='check')
        batch_op.add_column(sa.Column('rejection_reason', sa.String(length=1000), nullable=True))
        batch_op.create_check_constraint(
            op.f('ck_withdrawal_requests_status'),
            "status IN ('open', 'cancelled', 'completed', 'rejected')",
        )
        batch_op.create_index(
            'ix_withdrawal_requests_status_created', ['status', 'created_at'], unique=False
        )
    with op.batch_alter_table('inquiries', schema=None) as batch_op:
        batch_op.create_index(
            'ix_inquiries_answered_created', ['answered_at', 'created_at'], unique=False
        )
    with op.batch_alter_table('disclosures', schema=None) as batch_op:
        batch_op.create_index('ix_disclosures_disclosed', ['disclosed_on', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('disclosures', schema=None) as batch_op:
        batch_op.drop_index('ix_disclosures_disclosed')
    with op.batch_alter_table('inquiries', schema=None) as batch_op:
        batch_op.drop_index('ix_inquiries_answered_created')
    op.execute("UPDATE withdrawal_requests SET status = 'cancelled' WHERE status = 'rejected'")
    with op.batch_alter_table('withdrawal_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_withdrawal_requests_status_created')
        batch_op.drop_constraint(op.f('ck_withdrawal_requests_status'), type_='check')
        batch_op.drop_column('rejection_reason')
        batch_op.create_check_constraint(
            op.f('ck_withdrawal_requests_status'), "status IN ('open', 'cancelled', 'completed')"
        )
