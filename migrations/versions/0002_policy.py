"""privacy policy: versions, officers, notice links; seed policy 2023-09-15 and officers

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28

Reviewed by hand. Schema: policy_versions (label unique, KST dates, indexed by effective
date: the version in force is computed from it on every request), privacy_officers (policy
§9 as data), and on notices a link to the policy version an announcement belongs to, an
optional popup end date and updated_at (for ETag / Last-Modified of the board). Existing
notices get updated_at = published_at, then the column becomes NOT NULL; batch mode rebuilds
the table on SQLite. Constraint names follow the MetaData naming convention.

Data: the seed privacy policy (announced 2023-09-15, effective 2023-09-25) and the two
officers of policy §9, so every new database has a policy in force. The text is read from
portal/policy/seed/, which holds frozen, already-published data (a change to the policy is a
new version, never an edit of that file). Inserted with lightweight table definitions, not
the ORM models, so later model changes cannot break this migration.
"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa

from portal.policy.seed import (
    SEED_ANNOUNCED_ON,
    SEED_AUTHOR,
    SEED_EFFECTIVE_ON,
    SEED_LABEL,
    SEED_OFFICERS,
    SEED_TITLE,
    seed_markdown,
)


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('policy_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body_md', sa.Text(), nullable=False),
    sa.Column('announced_on', sa.Date(), nullable=False),
    sa.Column('effective_on', sa.Date(), nullable=False),
    sa.Column('material', sa.Boolean(), nullable=False),
    sa.Column('author', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_policy_versions')),
    sa.UniqueConstraint('label', name=op.f('uq_policy_versions_label'))
    )
    with op.batch_alter_table('policy_versions', schema=None) as batch_op:
        batch_op.create_index('ix_policy_versions_effective_on', ['effective_on'], unique=False)

    op.create_table('privacy_officers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=60), nullable=False),
    sa.Column('title', sa.String(length=60), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('department', sa.String(length=100), nullable=False),
    sa.Column('phone', sa.String(length=30), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_privacy_officers'))
    )

    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('popup_until', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('policy_version_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_notices_policy_version_id'), ['policy_version_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_notices_policy_version_id_policy_versions'), 'policy_versions', ['policy_version_id'], ['id'])
    op.execute("UPDATE notices SET updated_at = published_at")
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.alter_column('updated_at', existing_type=sa.DateTime(), nullable=False)

    # Naive UTC, as the models' UTCDateTime stores it.
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    versions = sa.table('policy_versions',
        sa.column('label', sa.String), sa.column('title', sa.String),
        sa.column('body_md', sa.Text), sa.column('announced_on', sa.Date),
        sa.column('effective_on', sa.Date), sa.column('material', sa.Boolean),
        sa.column('author', sa.String), sa.column('created_at', sa.DateTime),
    )
    op.bulk_insert(versions, [{
        'label': SEED_LABEL, 'title': SEED_TITLE, 'body_md': seed_markdown(),
        'announced_on': SEED_ANNOUNCED_ON, 'effective_on': SEED_EFFECTIVE_ON,
        'material': False, 'author': SEED_AUTHOR, 'created_at': now,
    }])
    officers = sa.table('privacy_officers',
        sa.column('sort_order', sa.Integer), sa.column('role', sa.String),
        sa.column('title', sa.String), sa.column('name', sa.String),
        sa.column('department', sa.String), sa.column('phone', sa.String),
        sa.column('email', sa.String), sa.column('updated_at', sa.DateTime),
    )
    op.bulk_insert(officers, [{**officer, 'updated_at': now} for officer in SEED_OFFICERS])


def downgrade():
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_notices_policy_version_id_policy_versions'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_notices_policy_version_id'))
        batch_op.drop_column('policy_version_id')
        batch_op.drop_column('updated_at')
        batch_op.drop_column('popup_until')

    op.drop_table('privacy_officers')
    with op.batch_alter_table('policy_versions', schema=None) as batch_op:
        batch_op.drop_index('ix_policy_versions_effective_on')

    op.drop_table('policy_versions')
