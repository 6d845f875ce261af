"""`flask --app grantflow ...` commands for operations (the top of the layers, beside the app
factory: it reaches into every area)."""

import json
import logging
import os
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from grantflow.accounts.models import ROLES
from grantflow.accounts.operations import create_user, find_user, log_created
from grantflow.competitions.models import Competition
from grantflow.core import catalogues
from grantflow.core import queue as task_queue
from grantflow.core.backup import BackupError
from grantflow.core.backup import backup as backup_database
from grantflow.core.backup import restore as restore_database
from grantflow.core.extensions import db
from grantflow.demo.operations import DEMO_USERS, PASSWORD, load_demo
from grantflow.ideas.states import stranded
from grantflow.mail.operations import send_pending
from grantflow.opendata.operations import grants_package
from grantflow.territory.operations import load_territories
from grantflow.workflow import diagram
from grantflow.workflow.definition import Broken, WorkflowError, load, load_files

workflow_cli = AppGroup("workflow", help="Check and draw workflow files.")
mail_cli = AppGroup("mail", help="The mail outbox.")
demo_cli = AppGroup("demo", help="Demo data.")
territory_cli = AppGroup("territory", help="Municipalities and parishes.")
user_cli = AppGroup("user", help="User accounts.")
export_cli = AppGroup("export", help="Data in open formats.")
queue_cli = AppGroup("queue", help="The task queue: mail, documents, scheduled work.")


@workflow_cli.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--database", is_flag=True, help="Also refuse a file without a state in which ideas of the database are.")
def workflow_check(files, database):
    """Validate workflow FILES (their stages' forms looked up in FORMS_DIR); exit 1 listing every problem."""
    workflows, broken = load_files(
        files, staff_roles=current_app.extensions.get("grantflow.staff_roles", ()), forms_dir=current_app.config["FORMS_DIR"]
    )
    if database:
        for name, problems in stranded(workflows).items():
            broken.append(Broken(workflows.pop(name).source, name, tuple(problems)))
    for workflow, path in ((w, p) for p in files for w in workflows.values() if w.source == str(Path(p))):
        click.echo(f"{path}: ok ({workflow.name}: {len(workflow.states)} states, {len(workflow.transitions)} transitions)")
    for file in broken:
        click.echo(f"{file.source}: {len(file.problems)} problem(s)", err=True)
        for problem in file.problems:
            click.echo(f"  - {problem}", err=True)
    sys.exit(1 if broken else 0)


@workflow_cli.command("diagram")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["mermaid", "svg"]), default="mermaid", show_default=True)
@click.option("--locale", type=click.Choice(["lv", "en"]), default="lv", show_default=True)
def workflow_diagram(file, fmt, locale):
    """Print a diagram of FILE's states and transitions (Mermaid text, or SVG via Graphviz)."""
    try:
        workflow = load(file)
    except WorkflowError as error:
        raise click.ClickException(str(error)) from error
    click.echo(diagram.mermaid(workflow, locale) if fmt == "mermaid" else diagram.svg(workflow, locale))


@mail_cli.command("send")
@click.option("--limit", default=500, show_default=True)
def mail_send(limit):
    """Send the mails that are due; failed ones are retried later with growing pauses."""
    sent, failed = send_pending(limit)
    click.echo(f"sent {sent}, failed {failed}")


@demo_cli.command("load")
@click.option("--if-empty", is_flag=True, help="Only when the database has no competitions yet.")
def demo_load(if_empty):
    """Load the demo data (idempotent) and print the demo logins."""
    if if_empty and db.session.scalar(select(Competition.id).limit(1)) is not None:
        click.echo("The database has data already; demo data not loaded. Demo logins, if it holds them:")
        for email, _, roles, _ in DEMO_USERS:
            click.echo(f"  {email:32} {PASSWORD}  {', '.join(roles)}")
        return
    loaded = load_demo()
    click.echo("Demo data loaded." if loaded.created else "Demo data already present; nothing changed.")
    click.echo("Demo logins (e-mail / password / role):")
    for email, password, roles in loaded.logins:
        click.echo(f"  {email:32} {password}  {roles}")


@territory_cli.command("load")
def territory_load():
    """Add municipalities and parishes from grantflow/territory/territories.csv."""
    municipalities, units = load_territories()
    db.session.commit()
    click.echo(f"added {municipalities} municipalities, {units} parishes and towns")


@user_cli.command("create")
@click.argument("email")
@click.option("--name", required=True)
@click.option("--role", "roles", multiple=True, type=click.Choice(ROLES))
@click.password_option()
def user_create(email, name, roles, password):
    """Create a confirmed user with ROLES (e.g. the first administrator)."""
    if find_user(email):
        raise click.ClickException(f"{email} already exists")
    user = create_user(email, name, password, roles, confirmed=True)
    db.session.flush()
    log_created(user)  # in the administration log, by "a command on the server"
    db.session.commit()
    click.echo(f"created {email}")


translations_cli = AppGroup("translations", help="Translation catalogues (one per area).")


@translations_cli.command("update")
def translations_update():
    """Extract messages from the code and merge them into each area's catalogue."""
    for area in catalogues.areas():
        counts = catalogues.update(area)
        if counts:
            click.echo(f"{area:14} " + ", ".join(f"{lang}: {n} untranslated" for lang, n in counts.items()))
    click.echo("Now fill in the empty msgstr lines, then run `make translations` to compile.")


@translations_cli.command("check")
def translations_check():
    """Exit 1 listing messages without a Latvian translation."""
    missing = {area: catalogues.untranslated(area) for area in catalogues.areas()}
    missing = {area: ids for area, ids in missing.items() if ids}
    for area, ids in missing.items():
        click.echo(f"{area}: {len(ids)} untranslated", err=True)
        for message in ids[:20]:
            click.echo(f"  - {message}", err=True)
    sys.exit(1 if missing else 0)


@click.command("backup")
@click.argument("out", type=click.Path(dir_okay=False))
@with_appcontext
def backup_command(out):
    """Back up the whole database into OUT while the app runs: a consistent snapshot, with the
    issued documents and uploaded attachments (they are stored in the database) and the
    migrations' revision. SQLite: a SQLite file made with the online backup API; PostgreSQL: a
    `pg_dump -Fc` archive (of the URL's schema only, when it selects one with search_path)."""
    try:
        summary = backup_database(db.engine, out)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"backed up into {summary.lines()[0]}")
    for line in summary.lines()[1:]:
        click.echo(line)


@click.command("restore")
@click.argument("source", metavar="IN", type=click.Path(exists=True, dir_okay=False))
@click.option("--force", is_flag=True, help="Replace the contents of a database that is not empty.")
@with_appcontext
def restore_command(source, force):
    """Restore the backup IN (made by `flask backup`, documents and attachments included) into
    an empty database; the migrations end at the backup's revision. A database with tables is
    refused unless --force. Stop the app first."""
    try:
        summary = restore_database(db.engine, source, force=force)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"restored from {summary.lines()[0]}")
    for line in summary.lines()[1:]:
        click.echo(line)


@export_cli.command("360giving")
@click.option("--competition", "competition_id", type=int, help="Only this competition's grants (its number).")
@click.option("--out", type=click.Path(dir_okay=False, writable=True), help="Write to this file instead of the screen.")
def export_360giving(competition_id, out):
    """The funded grants as a 360Giving Data Standard JSON package (also public at
    /open-data/360giving.json)."""
    package = grants_package(competition_id)
    if package is None:
        raise click.ClickException("no funded grants to publish" + (f" in competition {competition_id}" if competition_id else ""))
    text = json.dumps(package, ensure_ascii=False, indent=1)
    if out:
        Path(out).write_text(text + "\n", encoding="utf-8")
        click.echo(f"{len(package['grants'])} grants written to {out}", err=True)
    else:
        click.echo(text)


@queue_cli.command("worker")
@click.option("--workers", type=int, help="Worker threads (default QUEUE_WORKERS).")
def queue_worker(workers):
    """Run the task queue's worker (Huey's consumer, periodic tasks on) until Ctrl+C or SIGTERM.
    At a lower CPU priority (QUEUE_NICE), so web requests come first on a small machine. At
    start it sweeps once: work a stopped worker left (mail "sending", batches) is taken up."""
    config = current_app.config
    queue = task_queue.current_queue()
    if queue.huey.immediate:
        raise click.ClickException("QUEUE_IMMEDIATE is set: tasks run where they are enqueued, there is no worker.")
    try:
        task_queue.check_reachable(queue)
    except task_queue.QueueUnavailable as error:
        raise click.ClickException(str(error)) from error
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s: %(message)s")
    if config["QUEUE_NICE"]:
        os.nice(int(config["QUEUE_NICE"]))
    for name in task_queue.periodic_names():
        queue.enqueue(name)
    count = workers or int(config["QUEUE_WORKERS"])
    click.echo(f"GrantFlow worker: {count} thread(s), queue {task_queue.describe(queue)}")
    queue.huey.create_consumer(workers=count, worker_type="thread", periodic=True).run()


def register(app) -> None:
    for group in (workflow_cli, mail_cli, demo_cli, territory_cli, user_cli, translations_cli, export_cli, queue_cli):
        app.cli.add_command(group)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
