"""SQLAlchemy models for TaskMan-v2.

The tasks table follows the 64-field TaskMan/ContextForge specification
(identity, planning, estimation, Sacred Geometry, COF dimensions, UCL
compliance and audit fields).  Schema changes are applied with Alembic.
"""
import sqlalchemy as sa
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class Project(Base):
    __tablename__ = "projects"

    id = Column(String(50), primary_key=True)
    name = Column(String(255), nullable=False)
    description = Column(Text)
    status = Column(String(50), nullable=False, server_default='active')
    owner = Column(String(100))
    priority = Column(String(20))
    start_date = Column(DateTime(timezone=True))
    target_end_date = Column(DateTime(timezone=True))
    created_at = Column(DateTime(timezone=True), nullable=False, server_default=sa.text('CURRENT_TIMESTAMP'))
    updated_at = Column(DateTime(timezone=True))


class Sprint(Base):
    __tablename__ = "sprints"

    id = Column(String(50), primary_key=True)
    name = Column(String(255), nullable=False)
    project_id = Column(String(50), ForeignKey("projects.id"))
    goal = Column(Text)
    status = Column(String(50), nullable=False, server_default='planned')
    start_date = Column(DateTime(timezone=True))
    end_date = Column(DateTime(timezone=True))
    velocity = Column(Float)
    created_at = Column(DateTime(timezone=True), nullable=False, server_default=sa.text('CURRENT_TIMESTAMP'))
    updated_at = Column(DateTime(timezone=True))


class ActionList(Base):
    __tablename__ = "action_lists"
    __table_args__ = (
        CheckConstraint(
            "status IN ('active', 'completed', 'archived')",
            name="ck_action_lists_status",
        ),
    )

    id = Column(Integer, primary_key=True)
    title = Column(String(255), nullable=False)
    description = Column(Text)
    status = Column(String(50), nullable=False, server_default='active')
    owner = Column(String(100))
    project_id = Column(String(50), ForeignKey("projects.id"))
    items = Column(JSON)
    parent_deleted_at = Column(DateTime(timezone=True))
    parent_deletion_note = Column(JSON)
    created_at = Column(DateTime(timezone=True), nullable=False, server_default=sa.text('CURRENT_TIMESTAMP'))
    updated_at = Column(DateTime(timezone=True))


class Task(Base):
    __tablename__ = "tasks"
    __table_args__ = (
        CheckConstraint(
            "status IN ('todo', 'in_progress', 'review', 'done', 'cancelled')",
            name="ck_tasks_status",
        ),
    )

    id = Column(Integer, primary_key=True)
    task_id = Column(String(50), nullable=False, unique=True)
    title = Column(String(500), nullable=False)
    description = Column(Text)
    status = Column(String(50), nullable=False, server_default='todo')
    priority = Column(String(20), server_default='medium')
    assignee = Column(String(100))
    reporter = Column(String(100))
    project_id = Column(String(50), ForeignKey("projects.id"))
    sprint_id = Column(String(50), ForeignKey("sprints.id"))
    parent_task_id = Column(String(50))
    epic_id = Column(String(50))
    due_date = Column(DateTime(timezone=True))
    start_date = Column(DateTime(timezone=True))
    completed_at = Column(DateTime(timezone=True))
    estimated_hours = Column(Float)
    actual_hours = Column(Float)
    story_points = Column(Integer)
    business_value = Column(Integer)
    risk_level = Column(String(20))
    severity = Column(String(20))
    work_type = Column(String(30))
    category = Column(String(100))
    component = Column(String(100))
    tags = Column(Text)
    labels = Column(Text)
    dependencies = Column(Text)
    blockers = Column(Text)
    acceptance_criteria = Column(Text)
    definition_of_done = Column(Text)
    notes = Column(Text)
    geometry_shape = Column(String(20))
    shape_stage = Column(String(30))
    sacred_geometry_alignment = Column(Float)
    golden_ratio_score = Column(Float)
    fractal_depth = Column(Integer)
    cof_motivational_context = Column(Text)
    cof_relational_context = Column(Text)
    cof_situational_context = Column(Text)
    cof_resource_context = Column(Text)
    cof_narrative_context = Column(Text)
    cof_recursive_context = Column(Text)
    cof_computational_context = Column(Text)
    cof_emergent_context = Column(Text)
    cof_temporal_context = Column(Text)
    cof_spatial_context = Column(Text)
    cof_holistic_context = Column(Text)
    cof_validation_context = Column(Text)
    cof_integration_context = Column(Text)
    ucl_compliant = Column(Boolean, nullable=False, server_default=sa.text('false'))
    ucl_anchor_ids = Column(Text)
    evidence_required = Column(Boolean, nullable=False, server_default=sa.text('true'))
    evidence_bundle_hash = Column(String(64))
    quality_gate_status = Column(String(30))
    reviewer = Column(String(100))
    external_ref = Column(String(100))
    correlation_id = Column(String(64))
    is_archived = Column(Boolean, nullable=False, server_default=sa.text('false'))
    created_by = Column(String(100))
    updated_by = Column(String(100))
    created_at = Column(DateTime(timezone=True), nullable=False, server_default=sa.text('CURRENT_TIMESTAMP'))
    updated_at = Column(DateTime(timezone=True))
    deleted_at = Column(DateTime(timezone=True))
    version = Column(Integer, nullable=False, server_default='1')
