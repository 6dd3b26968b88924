"""perf: the shared content version and the indexes of the hot list queries

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02

Written by hand, checked against portal/pagecache.py, portal/policy/models.py and
portal/auth/models.py.

- content_version holds one row (id 1): its version changes in the transaction of every change
  to notices, policy versions or officers, so each worker knows with one primary-key read
  whether its in-memory public pages are still current. next_change_at is the publication
  time of the next scheduled notice. The row is created here, at version 0.
- ix_notices_popup_published serves the home page's popups (popup = true, newest first);
  ix_notices_pinned_until the board's pinned-first page; ix_user_sessions_customer_seen the
  security page's device list (a customer's sessions, last used first).
- The downgrade drops the indexes and the table.
"""
from alembic import op
import sqlalchemy as sa



# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    content_version = op.create_table('content_version',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.Column('changed_at', sa.DateTime(), nullable=True),
    sa.Column('next_change_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_content_version'))
    )
    op.bulk_insert(content_version, [{'id': 1, 'version': 0}])
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.create_index('ix_notices_popup_published', ['popup', 'published_at'], unique=False)
        batch_op.create_index('ix_notices_pinned_until', ['pinned_until'], unique=False)
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_user_sessions_customer_seen', ['customer_id', 'last_seen_at'], unique=False)


def downgrade():
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_user_sessions_customer_seen')
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.drop_index('ix_notices_pinned_until')
        batch_op.drop_index('ix_notices_popup_published')
    op.drop_table('content_version')
