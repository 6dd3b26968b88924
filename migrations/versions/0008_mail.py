"""mail: the outbox and password-reset links

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01

Written by hand, checked against portal/mail/models.py and portal/auth/models.py.

- mail_outbox holds every email the portal sends, written in the transaction of the change
  that causes it. Its content (recipient, subject, text, HTML) is one Fernet-encrypted
  column, re-encrypted by `flask keys rotate`. customer_id cascades (a withdrawn customer's
  mail goes with the account); the withdrawal notice has none. ix_mail_outbox_due serves the
  deliverer's query (status, priority, next_attempt_at), ix_mail_outbox_created_at the purge.
- password_resets keeps only the keyed hash of each reset token, its expiry and when it was
  used (single use by conditional UPDATE); a child of customers (CASCADE).
- New tables only: the downgrade drops them (and whatever they hold).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('mail_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('language', sa.String(length=5), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('content_encrypted', sa.LargeBinary(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'sent', 'failed')", name=op.f('ck_mail_outbox_status')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_mail_outbox_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_outbox'))
    )
    with op.batch_alter_table('mail_outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mail_outbox_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_mail_outbox_due', ['status', 'priority', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_mail_outbox_created_at', ['created_at'], unique=False)

    op.create_table('password_resets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_password_resets_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_password_resets')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_password_resets_token_hash'))
    )
    with op.batch_alter_table('password_resets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_password_resets_customer_id'), ['customer_id'], unique=False)


def downgrade():
    with op.batch_alter_table('password_resets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_password_resets_customer_id'))

    op.drop_table('password_resets')
    with op.batch_alter_table('mail_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_mail_outbox_created_at')
        batch_op.drop_index('ix_mail_outbox_due')
        batch_op.drop_index(batch_op.f('ix_mail_outbox_customer_id'))

    op.drop_table('mail_outbox')
