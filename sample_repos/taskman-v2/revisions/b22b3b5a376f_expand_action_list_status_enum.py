"""expand action list status enum

Revision ID: b22b3b5a376f
Revises: 84456d47e6aa
Create Date: 2025-10-31 14:07:52.318406

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = 'b22b3b5a376f'
down_revision: Union[str, None] = '84456d47e6aa'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('action_lists') as batch:
        batch.drop_constraint('ck_action_lists_status', type_='check')
        batch.create_check_constraint(
            'ck_action_lists_status',
            "status IN ('active', 'in_progress', 'blocked', 'completed', 'archived')")


def downgrade() -> None:
    op.execute("UPDATE action_lists SET status = 'active' WHERE status IN ('in_progress', 'blocked')")

    with op.batch_alter_table('action_lists') as batch:
        batch.drop_constraint('ck_action_lists_status', type_='check')
        batch.create_check_constraint(
            'ck_action_lists_status', "status IN ('active', 'completed', 'archived')")
