"""customer search: indexes for the staff search by phone and by login-ID prefix

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01

Reviewed by hand (checked against portal/customers/models.py and portal/customers/search.py).

- ix_customers_phone: the search compares the typed number, normalised to E.164, with the
  stored E.164 (equality).
- ix_login_ids_login_id_pattern: the search matches login IDs by prefix (LIKE 'abc%'). On
  PostgreSQL the index uses varchar_pattern_ops, so the prefix match uses it whatever the
  database collation (the unique index serves LIKE only under the C collation). SQLite
  ignores the operator class: there it is a plain index.
- No data changes; the downgrade drops both indexes.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.create_index('ix_customers_phone', ['phone'], unique=False)
    with op.batch_alter_table('login_ids', schema=None) as batch_op:
        batch_op.create_index(
            'ix_login_ids_login_id_pattern',
            ['login_id'],
            unique=False,
            postgresql_ops={'login_id': 'varchar_pattern_ops'},
        )


def downgrade():
    with op.batch_alter_table('login_ids', schema=None) as batch_op:
        batch_op.drop_index('ix_login_ids_login_id_pattern')
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_index('ix_customers_phone')
