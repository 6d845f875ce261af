"""The hourly run that sends the reminders due (operations.send_due)."""

from grantflow.core import queue
from grantflow.core.types import utcnow
from grantflow.reminders.operations import send_due


@queue.periodic("reminders.send", minute="15")
def send_reminders() -> None:
    send_due(utcnow())
