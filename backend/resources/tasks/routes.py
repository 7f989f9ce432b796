"""Patrol tasks (排班): leaders plan, officers see today's tasks with their progress."""
from __future__ import annotations

from flask.views import MethodView
from sqlalchemy import select

from ...context import client_addr, current_user
from ...extensions.api import Blueprint, link, links, page_of
from ...extensions.database import get_session
from ...models import PatrolTask
from ...policies import scoped_tasks
from ...services.patrol import tasks
from ...services.patrol.coverage_days import today_local
from .schemas import MyTasksQuerySchema, TaskCreateSchema, TaskListSchema, TaskQuerySchema, TaskSchema

blp = Blueprint("tasks", __name__, url_prefix="/api/v1", description="Patrol tasks (排班)")


@blp.route("/tasks")
class Tasks(MethodView):
    @blp.arguments(TaskQuerySchema, location="query")
    @blp.response(200, TaskSchema(many=True))
    @blp.paginate(page_size=100, max_page_size=500)
    def get(self, query, pagination_parameters):
        """Tasks the caller may see (own, squad's, or all), by date, with progress."""
        session = get_session()
        stmt = scoped_tasks(select(PatrolTask), current_user())
        if "date" in query:
            stmt = stmt.where(PatrolTask.date == query["date"])
        if "date_from" in query:
            stmt = stmt.where(PatrolTask.date >= query["date_from"])
        if "date_to" in query:
            stmt = stmt.where(PatrolTask.date <= query["date_to"])
        if "officer" in query:
            stmt = stmt.where(PatrolTask.officer_id == query["officer"])
        if "squad" in query:
            stmt = stmt.where(PatrolTask.squad_id == query["squad"])
        page = page_of(session, stmt, pagination_parameters, PatrolTask.date, PatrolTask.starts_at, PatrolTask.id)
        return tasks.with_progress(session, page)

    @blp.arguments(TaskCreateSchema)
    @blp.doc(**links(201, get=link("/api/v1/tasks/{task_id}", "get", "The task", task_id="$response.body#/id"),
                     delete=link("/api/v1/tasks/{task_id}", "delete", "Delete it", task_id="$response.body#/id")))
    @blp.response(201, TaskSchema)
    @blp.alt_response(200, schema=TaskSchema, description="A retry: the task this client id created")
    def post(self, data):
        """Plan a shift for an officer of your squad (leaders; commanders and admins for anyone)."""
        session, actor = get_session(), current_user()
        task, created = tasks.create_task(session, actor, data, client_addr())
        session.commit()
        return tasks.with_progress(session, [task])[0], 201 if created else 200


@blp.route("/tasks/<int:task_id>")
class TaskById(MethodView):
    @blp.response(200, TaskSchema)
    def get(self, task_id):
        """One task with its progress."""
        session = get_session()
        return tasks.with_progress(session, [tasks.visible_task(session, current_user(), task_id)])[0]

    @blp.response(204)
    def delete(self, task_id):
        """Delete a task no patrol was started from."""
        session, actor = get_session(), current_user()
        tasks.delete_task(session, actor, tasks.visible_task(session, actor, task_id), client_addr())
        session.commit()


@blp.route("/me/tasks")
@blp.arguments(MyTasksQuerySchema, location="query")
@blp.response(200, TaskListSchema)
def my_tasks(query):
    """The caller's tasks for a date (default today), in shift order, with progress."""
    session, user = get_session(), current_user()
    day = query.get("date") or today_local()
    rows = session.scalars(select(PatrolTask).where(PatrolTask.officer_id == user.id, PatrolTask.date == day)
                           .order_by(PatrolTask.starts_at, PatrolTask.id)).all()
    return {"items": tasks.with_progress(session, list(rows))}
