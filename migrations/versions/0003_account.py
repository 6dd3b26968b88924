"""account: correction requests and their notification tasks, disclosures, inquiries

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28

Reviewed by hand. Written beside 0002 (policy) and chained onto it at the merge.

- Every new table is a child of customers with ON DELETE CASCADE, like 0001's: withdrawal
  destroys the customer's personal data for good (policy §3, §4); the retention package moves
  what the law keeps (complaints: 3 years) to the retention store before the delete.
- correction_requests.open_field is NULL once a request is resolved, so the unique constraint
  (customer_id, open_field) allows one open request per field on SQLite and PostgreSQL alike
  (NULLs never collide) without dialect-specific partial indexes.
- customers.field_sources gets server_default '' so existing rows need no backfill; it holds
  field NAMES only (never old values).
- Timestamps are plain DATETIME holding naive UTC (the models' UTCDateTime adds the zone).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('correction_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('field', sa.String(length=20), nullable=False),
    sa.Column('open_field', sa.String(length=20), nullable=True),
    sa.Column('new_value', sa.String(length=100), nullable=False),
    sa.Column('reason', sa.String(length=1000), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.Column('resolution_note', sa.String(length=1000), nullable=False),
    sa.CheckConstraint("field IN ('name', 'birth_date', 'business_number')", name=op.f('ck_correction_requests_field')),
    sa.CheckConstraint("status IN ('open', 'approved', 'rejected')", name=op.f('ck_correction_requests_status')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_correction_requests_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_correction_requests')),
    sa.UniqueConstraint('customer_id', 'open_field', name=op.f('uq_correction_requests_customer_id_open_field'))
    )
    with op.batch_alter_table('correction_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_correction_requests_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_correction_requests_status_created', ['status', 'created_at'], unique=False)

    op.create_table('disclosures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('disclosed_on', sa.Date(), nullable=False),
    sa.Column('recipient', sa.String(length=200), nullable=False),
    sa.Column('legal_basis', sa.String(length=300), nullable=False),
    sa.Column('items', sa.String(length=300), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_disclosures_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disclosures'))
    )
    with op.batch_alter_table('disclosures', schema=None) as batch_op:
        batch_op.create_index('ix_disclosures_customer_disclosed', ['customer_id', 'disclosed_on'], unique=False)

    op.create_table('inquiries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('answered_at', sa.DateTime(), nullable=True),
    sa.Column('retention_category', sa.String(length=20), nullable=False),
    sa.CheckConstraint("retention_category IN ('complaint')", name=op.f('ck_inquiries_retention_category')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_inquiries_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inquiries'))
    )
    with op.batch_alter_table('inquiries', schema=None) as batch_op:
        batch_op.create_index('ix_inquiries_customer_created', ['customer_id', 'created_at'], unique=False)

    op.create_table('correction_notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('correction_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('recipient', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('notified_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['correction_id'], ['correction_requests.id'], name=op.f('fk_correction_notices_correction_id_correction_requests'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_correction_notices_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_correction_notices'))
    )
    with op.batch_alter_table('correction_notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_correction_notices_correction_id'), ['correction_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_correction_notices_customer_id'), ['customer_id'], unique=False)

    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('field_sources', sa.String(length=300), server_default='', nullable=False))



def downgrade():
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_column('field_sources')

    with op.batch_alter_table('correction_notices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_correction_notices_customer_id'))
        batch_op.drop_index(batch_op.f('ix_correction_notices_correction_id'))

    op.drop_table('correction_notices')
    with op.batch_alter_table('inquiries', schema=None) as batch_op:
        batch_op.drop_index('ix_inquiries_customer_created')

    op.drop_table('inquiries')
    with op.batch_alter_table('disclosures', schema=None) as batch_op:
        batch_op.drop_index('ix_disclosures_customer_disclosed')

    op.drop_table('disclosures')
    with op.batch_alter_table('correction_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_correction_requests_status_created')
        batch_op.drop_index(batch_op.f('ix_correction_requests_customer_id'))

    op.drop_table('correction_requests')
