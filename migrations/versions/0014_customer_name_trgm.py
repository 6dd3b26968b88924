"""customer name search: a trigram index (PostgreSQL) for the staff search's "contains"

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03

Written by hand, checked against portal/customers/models.py and portal/customers/search.py.

- The staff search matches names with lower(name) LIKE '%…%', which no B-tree serves: at
  100 k customers bench/explain.py found the phone-or-name search reading the whole customers
  table. On PostgreSQL, ix_customers_name_trgm is a GIN index on lower(name) with the
  pg_trgm operator class: the planner ORs it with ix_customers_phone (a bitmap OR) and reads
  only the matching rows, for names typed with three characters or more.
- pg_trgm ships with PostgreSQL (the contrib package) and is a trusted extension (13+): the
  database owner may create it, no superuser needed. CREATE EXTENSION IF NOT EXISTS leaves a
  database that has it alone; where the role may not create extensions, an administrator runs
  `CREATE EXTENSION pg_trgm;` in the database once, before this upgrade.
- SQLite gets a plain index on lower(name) under the same name, so both schemas match the
  model (SQLite's LIKE '%…%' does not use it).
- The index is built inside the migration's transaction (CREATE INDEX, not CONCURRENTLY):
  writes to customers wait while it builds, about a second per 100 k customers.
- The downgrade drops the index and leaves the extension (other objects may use it).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
        # The operator class named with the schema the extension lives in: an extension is
        # database-wide, and the one installed earlier may sit in a schema (public, or an
        # "extensions" schema some hosts use) that is not on this connection's search_path.
        schema = bind.exec_driver_sql(
            "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'"
        ).scalar_one()
        op.create_index(
            'ix_customers_name_trgm',
            'customers',
            [sa.text(f'lower(name) {schema}.gin_trgm_ops')],
            postgresql_using='gin',
        )
    else:
        op.create_index('ix_customers_name_trgm', 'customers', [sa.text('lower(name)')])


def downgrade():
    op.drop_index('ix_customers_name_trgm', table_name='customers')
