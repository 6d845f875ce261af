"""The task queue with a real worker (`flask queue worker` as a subprocess), on both databases
and on both queue storages (SQLite file, Redis): mail delivered to the real SMTP sink, enqueued
only after the real commit, rows a dead worker left "sending" taken back and sent once, and a
worker killed in the middle of a mail and of a document batch doing the work exactly once after
its restart."""

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from types import SimpleNamespace

import pytest
import redis
from sqlalchemy import func, select

from grantflow.core.extensions import db
from grantflow.core.types import utcnow
from grantflow.documents.models import BatchStatus, Document, DocumentBatch
from grantflow.documents.tasks import enqueue_batch, start_batch
from grantflow.funding import operations as decide_ops
from grantflow.ideas.models import Idea
from grantflow.mail.models import MailStatus, OutboxMail
from grantflow.mail.operations import queue_mail
from grantflow.workflow import engine
from tests.conftest import login
from tests.test_documents import admin, confirm, operator  # noqa: F401 - fixtures

REDIS_URL = os.environ.get("GRANTFLOW_TEST_REDIS", "redis://127.0.0.1:6379/13")
LEASE = 2  # seconds: MAIL_LEASE_SECONDS and BATCH_LEASE_SECONDS of these tests


@pytest.fixture(params=["sqlite-queue", "redis-queue"])
def queue_config(request, tmp_path):
    """Where the queue lives: a SQLite file of this test, or Redis (a db number of the tests'
    own and a queue name of this test alone, emptied afterwards)."""
    name = f"grantflow-test-{uuid.uuid4().hex[:10]}"
    if request.param == "sqlite-queue":
        yield {"QUEUE_NAME": name, "QUEUE_SQLITE_PATH": str(tmp_path / "queue.sqlite3")}
        return
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as error:
        if os.environ.get("GRANTFLOW_REQUIRE_REDIS") == "1":
            raise
        pytest.skip(f"no Redis at {REDIS_URL}: {error}")
    yield {"QUEUE_NAME": name, "REDIS_URL": REDIS_URL}
    keys = list(client.scan_iter(match=f"*{name}*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def queue_app(app, make_app, queue_config, smtp_server, tmp_path):
    """An app that delivers mail through the queue, in its own application context (the
    factory and the test work in it); `.worker_env` configures a worker the same way."""
    config = {
        **queue_config,
        "QUEUE_IMMEDIATE": False,
        "MAIL_DELIVERY": "queue",
        "MAIL_SERVER": smtp_server.host,
        "MAIL_PORT": smtp_server.port,
        "MAIL_LEASE_SECONDS": LEASE,
        "BATCH_LEASE_SECONDS": LEASE,
    }
    qapp = make_app(**config)
    instance = tmp_path / "instance"
    instance.mkdir()
    qapp.worker_env = {
        **os.environ,
        **{key: str(value) for key, value in config.items() if key != "QUEUE_IMMEDIATE"},
        "DATABASE_URL": qapp.config["DATABASE_URL"],
        "SECRET_KEY": qapp.config["SECRET_KEY"],
        "PUBLIC_URL": qapp.config["PUBLIC_URL"],
        "GRANTFLOW_INSTANCE": str(instance),
        "QUEUE_NICE": "0",
    }
    with qapp.app_context():
        yield qapp


class Worker:
    """`flask queue worker` as a real process, started, killed and restarted by the test."""

    def __init__(self, env: dict, log_path):
        self.env, self.log_path, self.process = env, log_path, None

    def start(self) -> "Worker":
        log = open(self.log_path, "a")  # noqa: SIM115 - the process writes to it until it ends
        self.process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "grantflow", "queue", "worker", "--workers", "1"],
            env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )
        log.close()
        return self

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, as a crash or the OOM killer."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""


@pytest.fixture
def worker(queue_app, tmp_path):
    w = Worker(queue_app.worker_env, tmp_path / "worker.log")
    yield w
    w.stop()


def wait_for(condition, timeout=30.0, what="the worker", worker=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.commit()  # a fresh snapshot: see what the worker committed
        db.session.expire_all()
        value = condition()
        if value:
            return value
        if worker is not None and worker.process is not None and worker.process.poll() is not None:
            break  # the worker has ended: no use waiting
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}" + (f"\n--- worker log ---\n{worker.log()}" if worker else ""))


def mail_to(address: str) -> OutboxMail:
    """A confirmation mail to `address` in the outbox (not committed)."""
    return queue_mail(address, "confirm_email", user=SimpleNamespace(name="Anna"), token="t0ken")


def outbox(mail_id: int) -> OutboxMail:
    return db.session.get(OutboxMail, mail_id)


def pending_tasks(app) -> int:
    return app.extensions["grantflow.queue"].huey.pending_count()


def test_a_real_worker_delivers_mail_queued_by_a_commit(queue_app, worker, smtp_server):
    mail = mail_to("anna@example.lv")
    assert pending_tasks(queue_app) == 0, "nothing is enqueued before the commit"
    db.session.commit()
    assert pending_tasks(queue_app) == 1
    worker.start()
    wait_for(lambda: outbox(mail.id).status == MailStatus.SENT, worker=worker)
    assert len(smtp_server.to("anna@example.lv")) == 1
    assert outbox(mail.id).attempts == 1 and outbox(mail.id).claimed_at is None


def test_enqueued_after_the_real_commit_not_the_savepoint(queue_app, worker, factory, smtp_server):
    """The workflow engine runs a transition in a savepoint; releasing it fires SQLAlchemy's
    after_commit before anyone else can see the rows. The worker is told only at the real
    commit, so the last submission's receipt goes out with no other mail after it."""
    idea = factory.idea()
    applicant = factory.member_of(idea.organisation)
    db.session.commit()
    assert pending_tasks(queue_app) == 0
    engine.fire(idea, "submit", applicant)  # the savepoint is released here
    assert pending_tasks(queue_app) == 0, "a savepoint's release told the worker before the commit"
    db.session.commit()
    assert pending_tasks(queue_app) == 1
    worker.start()
    receipts = wait_for(lambda: smtp_server.to(applicant.email), worker=worker)
    assert len(receipts) == 1
    attachments = [part.get_filename() for part in receipts[0].iter_attachments()]
    assert attachments and attachments[0].endswith(".pdf")  # the PDF copy, made on the worker
    assert db.session.scalar(select(func.count(Document.id)).where(Document.idea_id == idea.id, Document.kind == "receipt")) == 1


def test_a_row_left_sending_is_taken_back_once_its_lease_is_over(queue_app, worker, smtp_server):
    """A row a dead worker left "sending" past the lease is sent once by the sweep; a row a live
    worker took a moment ago is left to it."""
    stale = mail_to("stale@example.lv")
    fresh = mail_to("fresh@example.lv")
    stale.status, stale.attempts, stale.claimed_at = MailStatus.SENDING, 1, utcnow() - timedelta(seconds=10 * LEASE)
    fresh.status, fresh.attempts, fresh.claimed_at = MailStatus.SENDING, 1, utcnow() + timedelta(hours=1)
    db.session.commit()
    worker.start()  # sweeps at start
    wait_for(lambda: outbox(stale.id).status == MailStatus.SENT, worker=worker)
    time.sleep(1)  # room for a second copy, were one to come
    assert len(smtp_server.to("stale@example.lv")) == 1 and outbox(stale.id).attempts == 2
    assert outbox(fresh.id).status == MailStatus.SENDING and smtp_server.to("fresh@example.lv") == []


def test_a_worker_killed_while_sending_delivers_once_after_restart(queue_app, worker, smtp_server):
    smtp_server.hold()  # the server stalls before accepting: the worker waits in the middle of the send
    mail = mail_to("kill@example.lv")
    db.session.commit()
    worker.start()
    assert smtp_server.held.wait(30), worker.log()
    assert outbox(mail.id).status == MailStatus.SENDING
    worker.kill()
    smtp_server.release()  # the killed worker never got a 250: the server keeps nothing
    assert outbox(mail.id).status == MailStatus.SENDING  # left behind by the dead worker
    time.sleep(LEASE + 0.5)
    worker.start()
    wait_for(lambda: outbox(mail.id).status == MailStatus.SENT, worker=worker)
    time.sleep(1)
    assert len(smtp_server.to("kill@example.lv")) == 1
    assert outbox(mail.id).attempts == 2


@pytest.fixture
def due_documents(factory, admin, operator):
    """A competition with six documents due: five decision letters and one agreement."""
    competition = factory.competition(budget="50000.00")
    funded = [factory.funded(competition=competition) for _ in range(4)]
    rejected = factory.reviewed(competition=competition)
    decide_ops.decide(rejected, admin, "reject", reason="Par vāju.")
    confirm(db.session.get(Idea, funded[0].id), factory)
    db.session.commit()
    return competition


def issued_pairs(competition_id):
    return db.session.execute(
        select(Document.idea_id, Document.kind, func.count(Document.id))
        .join(Idea, Idea.id == Document.idea_id)
        .where(Idea.competition_id == competition_id, Document.kind != "receipt")
        .group_by(Document.idea_id, Document.kind)
    ).all()


@pytest.mark.parametrize("queue_config", ["sqlite-queue"], indirect=True)  # the resume is the database's
def test_a_worker_killed_in_a_batch_issues_each_document_once(queue_app, worker, due_documents, admin):
    batch_id, total = start_batch(due_documents, admin)
    enqueue_batch(batch_id)
    batch = db.session.get(DocumentBatch, batch_id)
    assert (total, batch.total, batch.waiting) == (6, 6, 3)
    worker.start()
    wait_for(lambda: db.session.get(DocumentBatch, batch.id).done >= 2, timeout=60, worker=worker)
    worker.kill()
    done_at_kill = db.session.get(DocumentBatch, batch.id).done
    assert done_at_kill < 6, "the batch ended before the kill: nothing was interrupted"
    assert db.session.get(DocumentBatch, batch.id).status == BatchStatus.RUNNING
    time.sleep(LEASE + 0.5)
    worker.start()  # its sweep finds the batch without a heartbeat and resumes it
    finished = wait_for(lambda: db.session.get(DocumentBatch, batch.id).finished, timeout=60, worker=worker)
    assert finished
    batch = db.session.get(DocumentBatch, batch.id)
    assert (batch.status, batch.done, batch.failed, batch.waiting) == (BatchStatus.DONE, 6, 0, 3)
    pairs = issued_pairs(due_documents.id)
    assert len(pairs) == 6 and all(count == 1 for _, _, count in pairs), pairs


def test_the_competition_page_starts_a_batch_and_shows_its_progress(app, client, due_documents, admin):
    """Through the page (the queue runs tasks at once in this app: QUEUE_IMMEDIATE)."""
    login(client, "admin@example.lv", "parole-123456")
    page = client.get(f"/admin/competitions/{due_documents.id}").get_data(as_text=True)
    assert "Izsniegt visus sagatavojamos dokumentus" in page
    # A batch in the middle, as a worker leaves it between two documents.
    running = DocumentBatch(competition_id=due_documents.id, status=BatchStatus.RUNNING, total=6, done=2,
                            started_by_id=admin.id, heartbeat_at=utcnow())
    db.session.add(running)
    db.session.commit()
    page = client.get(f"/admin/competitions/{due_documents.id}").get_data(as_text=True)
    assert "2 no 6" in page and 'value="2"' in page and "Izsniegt visus" not in page
    response = client.post(f"/documents/competitions/{due_documents.id}/batch")
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "vēl notiek" in page  # refused: one batch at a time
    running.status = BatchStatus.DONE
    db.session.commit()

    response = client.post(f"/documents/competitions/{due_documents.id}/batch")
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "izsniegti 6, neizdevās 0" in page
    assert len(issued_pairs(due_documents.id)) == 6
    response = client.post(f"/documents/competitions/{due_documents.id}/batch")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Nav neviena" in page  # nothing due any more
    assert db.session.scalar(select(func.count(DocumentBatch.id))) == 2


def test_the_worker_says_clearly_when_redis_does_not_answer(make_app):
    app = make_app(QUEUE_IMMEDIATE=False, REDIS_URL="redis://127.0.0.1:1/0")
    result = app.test_cli_runner().invoke(args=["queue", "worker"])
    assert result.exit_code == 1
    assert "REDIS_URL is set but Redis does not answer" in result.output


def test_the_thread_delivery_mode_is_gone(make_app):
    from grantflow import ConfigError

    with pytest.raises(ConfigError, match="MAIL_DELIVERY must be queue, inline or off"):
        make_app(MAIL_DELIVERY="thread")
