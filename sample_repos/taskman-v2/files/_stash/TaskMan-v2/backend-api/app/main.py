"""TaskMan-v2 API entry point."""
from fastapi import Depends, FastAPI, HTTPException
from fastapi.middleware.cors import CORSMiddleware
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.database import get_session
from app.models import Task

app = FastAPI(title="TaskMan-v2 API", version="0.2.0")

app.add_middleware(
    CORSMiddleware,
    allow_origins=[
        "http://localhost:5173",
        "https://taskman-staging.contextforge.example",  # TODO: env var
    ],
    allow_methods=["*"],
    allow_headers=["*"],
)


@app.get("/health")
def health() -> dict:
    return {"status": "ok"}


@app.get("/api/v1/tasks")
def list_tasks(status: str | None = None, session: Session = Depends(get_session)):
    query = select(Task).where(Task.deleted_at.is_(None))
    if status:
        query = query.where(Task.status == status)
    return [_task_out(t) for t in session.scalars(query.order_by(Task.id))]


@app.get("/api/v1/tasks/{task_id}")
def get_task(task_id: str, session: Session = Depends(get_session)):
    task = session.scalar(select(Task).where(Task.task_id == task_id))
    if task is None:
        raise HTTPException(status_code=404, detail=f"task {task_id} not found")
    return _task_out(task)


@app.post("/api/v1/tasks", status_code=201)
def create_task(payload: dict, session: Session = Depends(get_session)):
    task = Task(**payload)
    session.add(task)
    session.commit()
    return _task_out(task)


def _task_out(task: Task) -> dict:
    return {
        "task_id": task.task_id,
        "title": task.title,
        "status": task.status,
        "priority": task.priority,
        "assignee": task.assignee,
        "project_id": task.project_id,
        "due_date": task.due_date.isoformat() if task.due_date else None,
    }
