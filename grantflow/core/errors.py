"""The one exception for "this may not happen": every operation raises it, every view shows it
the same way (core.web.flash_refused, or beside the form's fields)."""


class Refused(Exception):
    """Something a person asked for may not happen now; nothing of it was stored.

    `messages` are for the person who tried (lazy strings are made text in their language);
    `fields` ties messages to form fields by name, to stand beside them. `reasons` keeps the
    messages as given (e.g. i18n.Translatable, whose English text says what it is about)."""

    def __init__(self, messages=(), fields: dict | None = None):
        if isinstance(messages, str) or not isinstance(messages, list | tuple):
            messages = [messages]
        self.reasons = list(messages)
        self.messages = [str(m) for m in messages]
        self.fields = {name: str(message) for name, message in (fields or {}).items()}
        super().__init__("; ".join(self.messages + list(self.fields.values())))
