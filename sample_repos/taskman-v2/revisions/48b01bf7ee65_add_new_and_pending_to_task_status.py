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

OLD_STATUSES = ('todo', 'in_progress', 'review', 'done', 'cancelled')
NEW_STATUSES = (
    'new', 'todo', 'pending', 'in_progress', 'blocked', 'review', 'done', 'cancelled',
)


def _status_check(statuses: Sequence[str]) -> str:
    return "status IN (%s)" % ", ".join("'%s'" % s for s in statuses)


def upgrade() -> None:
    # Task intake now distinguishes freshly created tasks ('new') from
    # tasks waiting on an external party ('pending'); 'blocked' was
    # requested by the sprint board at the same time.
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_constraint('ck_tasks_status', type_='check')
        batch_op.create_check_constraint('ck_tasks_status', _status_check(NEW_STATUSES))


def downgrade() -> None:
    # Fold the new statuses back into the old ones first, otherwise the
    # narrower CHECK constraint cannot be created on a populated table.
    op.execute(
        "UPDATE tasks SET status = 'todo' WHERE status IN ('new', 'pending')"
    )
    op.execute(
        "UPDATE tasks SET status = 'in_progress' WHERE status = 'blocked'"
    )
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_constraint('ck_tasks_status', type_='check')
        batch_op.create_check_constraint('ck_tasks_status', _status_check(OLD_STATUSES))
