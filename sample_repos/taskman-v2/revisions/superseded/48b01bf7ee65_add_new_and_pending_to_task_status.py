"""add new and pending to task status

Revision ID: 48b01bf7ee65
Revises: 20251015_baseline
Create Date: 2025-10-18 16:41:09.772615

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '48b01bf7ee65'
down_revision: Union[str, None] = '20251015_baseline'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # Task intake now distinguishes freshly created tasks ('new') from
    # tasks waiting on an external party ('pending').
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_constraint('ck_tasks_status', type_='check')
        batch_op.create_check_constraint(
            'ck_tasks_status',
            "status IN ('new', 'todo', 'pending', 'in_progress', 'review', 'done', 'cancelled')",
        )


def downgrade() -> None:
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_constraint('ck_tasks_status', type_='check')
        batch_op.create_check_constraint(
            'ck_tasks_status',
            "status IN ('todo', 'in_progress', 'review', 'done', 'cancelled')",
        )
