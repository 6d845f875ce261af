"""The task queue (Huey): slow or scheduled work runs on a worker, never in a request nor in a
thread of the web process.

The database stays the record of what is owed (outbox rows, batches); the queue only says "look
now". A task that is lost (an enqueue that never happened, a worker killed in the middle) is
found again by a periodic sweep that looks at the database, so nothing owed is ever lost.

Areas declare their tasks at import time with `@queue.task()` / `@queue.periodic(...)`, as
plain functions; `init_app` builds one Huey per app from its configuration (RedisHuey when
REDIS_URL is set, else SqliteHuey in the instance folder) and registers every declared task on
it, each wrapped to run inside an application context whose database session is removed
afterwards. `enqueue(name, ...)` puts a task on the current app's queue: call it only after the
commit that made the work visible (a worker must find the rows)."""

import functools
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app
from huey import MemoryHuey, RedisHuey, SqliteHuey, crontab
from huey.api import Huey
from huey.storage import RedisStorage

from grantflow.core.extensions import db

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Declared:
    func: Callable
    schedule: dict | None  # crontab(**schedule) for a periodic task
    retries: int
    retry_delay: int


# name -> what an area declared; registered on each app's Huey in init_app.
DECLARED: dict[str, Declared] = {}


def task(name: str, retries: int = 0, retry_delay: int = 0):
    """Declare `func(*args)` as the task `name` (e.g. "mail.deliver"). The function runs in an
    application context of the app whose worker picked it up; arguments must be plain values
    (ids, not ORM objects), pickled into the queue."""

    def decorate(func):
        DECLARED[name] = Declared(func, None, retries, retry_delay)
        return func

    return decorate


def periodic(name: str, **schedule):
    """Declare `func()` as a periodic task run by the worker on a crontab schedule
    (`minute="*"` for every minute; keyword arguments of huey.crontab)."""

    def decorate(func):
        DECLARED[name] = Declared(func, schedule, 0, 0)
        return func

    return decorate


def periodic_names() -> list[str]:
    return [name for name, declared in DECLARED.items() if declared.schedule is not None]


class QueueUnavailable(RuntimeError):
    """REDIS_URL is set and Redis does not answer."""


def build_huey(config, instance_path: str) -> Huey:
    """The Huey of this configuration. QUEUE_IMMEDIATE runs each task at once in the process
    that enqueues it (tests that are not about the queue); REDIS_URL selects Redis; else a
    SQLite file (QUEUE_SQLITE_PATH, default instance/queue.sqlite3) needs no server."""
    name = config["QUEUE_NAME"]
    if config["QUEUE_IMMEDIATE"]:
        return MemoryHuey(name, immediate=True, results=False)
    if config.get("REDIS_URL"):
        return RedisHuey(name, url=config["REDIS_URL"], results=False)
    path = config.get("QUEUE_SQLITE_PATH") or os.path.join(instance_path, "queue.sqlite3")
    return SqliteHuey(name, filename=path, results=False)


def _in_app_context(app: Flask, func: Callable) -> Callable:
    @functools.wraps(func)
    def run(*args, **kwargs):
        with app.app_context():
            try:
                return func(*args, **kwargs)
            except Exception:
                db.session.rollback()
                log.exception("task %s failed", func.__qualname__)
                raise
            finally:
                db.session.remove()

    return run


class Queue:
    """One app's Huey with its registered tasks, in app.extensions["grantflow.queue"]."""

    def __init__(self, app: Flask):
        self.huey = build_huey(app.config, app.instance_path)
        self.tasks = {}
        for name, declared in DECLARED.items():
            wrapped = _in_app_context(app, declared.func)
            if declared.schedule is not None:
                self.tasks[name] = self.huey.periodic_task(crontab(**declared.schedule), name=name)(wrapped)
            else:
                self.tasks[name] = self.huey.task(
                    name=name, retries=declared.retries, retry_delay=declared.retry_delay
                )(wrapped)

    def enqueue(self, name: str, *args, **kwargs):
        return self.tasks[name](*args, **kwargs)


def init_app(app: Flask) -> None:
    app.extensions["grantflow.queue"] = Queue(app)


def current_queue() -> Queue:
    return current_app.extensions["grantflow.queue"]


def enqueue(name: str, *args, **kwargs) -> None:
    """Put task `name` on the current app's queue. Only after the commit that made its work
    visible. A queue that cannot be reached is logged, not raised: the work is recorded in the
    database and the worker's sweep finds it."""
    try:
        current_queue().enqueue(name, *args, **kwargs)
    except Exception:  # Redis down, the queue file locked: the sweep picks the work up later
        log.exception("could not enqueue %s; the periodic sweep will pick the work up", name)


def describe(queue: Queue) -> str:
    """Where the queue is, for messages (the password of a Redis URL left out)."""
    storage = queue.huey.storage
    if isinstance(storage, RedisStorage):
        kwargs = storage.conn.connection_pool.connection_kwargs
        return f"Redis at {kwargs.get('host')}:{kwargs.get('port')}/{kwargs.get('db', 0)}"
    return f"SQLite {getattr(storage, 'filename', type(storage).__name__)}"


def check_reachable(queue: Queue) -> None:
    """Raise QueueUnavailable with a clear message when Redis does not answer."""
    storage = queue.huey.storage
    if not isinstance(storage, RedisStorage):
        return
    try:
        storage.conn.ping()
    except Exception as error:  # redis raises its own ConnectionError / TimeoutError
        raise QueueUnavailable(
            f"REDIS_URL is set but Redis does not answer ({type(error).__name__}: {error}). "
            "Start Redis (e.g. `sudo systemctl start redis-server`), correct REDIS_URL, or unset it "
            "to keep the queue in the instance folder's SQLite file."
        ) from error
