"""terms of use beside the privacy policy; 상세주소 and 대표자 of customers

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08

Written by hand, checked against portal/policy/models.py and portal/customers/models.py.

- policy_versions gains `document` ('privacy' | 'terms'; every existing row is the privacy
  policy, hence the server default). Labels become unique per document (the terms' first
  version shares the policy's 2023-09-15 label), and the version-in-force lookups
  (document, effective_on) get their index in place of the one on effective_on alone.
- The first terms of use (이용약관) are inserted, as 0002 inserted the first policy.
- customers gains `address_detail` (상세주소: building, floor, unit), kept apart from the
  road address so the postcode-and-road part can be checked and printed on its own, and
  `representative` (대표자) for business customers, whose `name` is the 상호.
- The downgrade deletes the terms versions (and their notices' links) before it drops the
  column, since labels could otherwise collide under the old single-column unique key.
"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa

from portal.policy.seed import (
    SEED_ANNOUNCED_ON,
    SEED_AUTHOR,
    SEED_EFFECTIVE_ON,
    TERMS_SEED_LABEL,
    TERMS_SEED_TITLE,
    terms_seed_markdown,
)


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('policy_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('document', sa.String(length=10), server_default='privacy', nullable=False))
        batch_op.drop_constraint(batch_op.f('uq_policy_versions_label'), type_='unique')
        batch_op.create_unique_constraint('uq_policy_versions_document_label', ['document', 'label'])
        batch_op.drop_index('ix_policy_versions_effective_on')
        batch_op.create_index('ix_policy_versions_document_effective_on', ['document', 'effective_on'], unique=False)

    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('address_detail', sa.String(length=200), server_default='', nullable=False))
        batch_op.add_column(sa.Column('representative', sa.String(length=100), server_default='', nullable=False))

    # Naive UTC, as the models' UTCDateTime stores it.
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    versions = sa.table('policy_versions',
        sa.column('document', sa.String), sa.column('label', sa.String),
        sa.column('title', sa.String), sa.column('body_md', sa.Text),
        sa.column('announced_on', sa.Date), sa.column('effective_on', sa.Date),
        sa.column('material', sa.Boolean), sa.column('author', sa.String),
        sa.column('created_at', sa.DateTime),
    )
    op.bulk_insert(versions, [{
        'document': 'terms', 'label': TERMS_SEED_LABEL, 'title': TERMS_SEED_TITLE,
        'body_md': terms_seed_markdown(), 'announced_on': SEED_ANNOUNCED_ON,
        'effective_on': SEED_EFFECTIVE_ON, 'material': False, 'author': SEED_AUTHOR,
        'created_at': now,
    }])


def downgrade():
    op.execute(
        "UPDATE notices SET policy_version_id = NULL WHERE policy_version_id IN "
        "(SELECT id FROM policy_versions WHERE document = 'terms')"
    )
    op.execute("DELETE FROM policy_versions WHERE document = 'terms'")
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_column('representative')
        batch_op.drop_column('address_detail')

    with op.batch_alter_table('policy_versions', schema=None) as batch_op:
        batch_op.drop_index('ix_policy_versions_document_effective_on')
        batch_op.create_index('ix_policy_versions_effective_on', ['effective_on'], unique=False)
        batch_op.drop_constraint('uq_policy_versions_document_label', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_policy_versions_label'), ['label'])
        batch_op.drop_column('document')
