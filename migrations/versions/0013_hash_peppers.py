"""keys: recovery codes and retained records record the pepper that keyed their hash

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30

Written by hand, checked against portal/auth/models.py (RecoveryCode),
portal/retention/models.py (RetainedRecord) and portal/security.py (peppered_hash).

- recovery_codes.pepper_id names the entry of PORTAL_HASH_PEPPERS whose secret keyed
  code_hash. New codes are hashed under the newest pepper; a typed code is checked under
  the pepper its row records, so adding a pepper (or changing SECRET_KEY) no longer voids
  codes already handed out.
- Existing rows are left as they are, pepper_id NULL: their hashes were keyed with
  SECRET_KEY, and a NULL row is still checked with SECRET_KEY (or, once SECRET_KEY has been
  changed, with the old one listed in PORTAL_HASH_PEPPERS under the id "legacy"), so every
  code keeps working through the upgrade. They cannot be rehashed here: only their hashes are
  stored. They leave the NULL state when the customer renews the codes.
- retained_records.subject_pepper_id: the same for the pseudonymous subject key of the
  retention store (kept for years, longer than any SECRET_KEY should live). Existing rows
  stay NULL and are found as above (portal.retention.store.of_subject).
- The downgrade drops the columns; rows made under a pepper then no longer verify (the code
  before this revision keys with SECRET_KEY only): customers renew their recovery codes.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('recovery_codes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pepper_id', sa.String(length=16), nullable=True))
    with op.batch_alter_table('retained_records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('subject_pepper_id', sa.String(length=16), nullable=True))


def downgrade():
    with op.batch_alter_table('retained_records', schema=None) as batch_op:
        batch_op.drop_column('subject_pepper_id')
    with op.batch_alter_table('recovery_codes', schema=None) as batch_op:
        batch_op.drop_column('pepper_id')
