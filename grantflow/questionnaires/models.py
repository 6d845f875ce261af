"""Form versions: the definition of an application or final-report form as it was given.

A competition points at the version of each form it asks (none: the form file's current
version, see operations.default_version). A version is frozen at the first submission under
it; from then on it never changes, and every answers document keeps the version it was given
under (`form_version_id` beside `answers` on ideas and reports)."""

import copy
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from grantflow.core.extensions import db
from grantflow.core.types import UTCDateTime, utcnow
from grantflow.questionnaires.definition import FormDef, parse

# (name, number) -> (the definition parsed, its FormDef): FormVersion.form's cache, compared by
# content, so a version edited before it froze, or another database's version of the same
# name and number, is parsed again.
_PARSED: dict[tuple[str, int], tuple[dict, FormDef]] = {}
_PARSED_MAX = 64


class FormVersion(db.Model):
    __tablename__ = "form_versions"
    __table_args__ = (UniqueConstraint("name", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))  # the form's name (the file's `name:`)
    number: Mapped[int] = mapped_column(default=1)  # 1, 2, … per name
    kind: Mapped[str] = mapped_column(String(20))  # application | report
    definition: Mapped[dict] = mapped_column(JSON)
    # The file it was read from, or the version it was copied from ("copy of community_idea v1").
    source: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Set at the first submission under this version: from then on it is never edited.
    frozen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def form(self) -> FormDef:
        """The parsed definition (checked again: a stored definition is trusted no more than a
        file). Parsed once per process for each definition: every page and save of an idea
        loads its version afresh, and parsing costs more than comparing the loaded definition
        with the one parsed before (a FormDef never changes, so it is shared)."""
        mine = self.__dict__.get("_form")  # (the definition object compared, its FormDef)
        if mine is not None and mine[0] is self.definition:
            return mine[1]  # asked again in the same request: nothing changed since
        key = (self.name, self.number)
        cached = _PARSED.get(key)
        if cached is None or cached[0] != self.definition:
            cached = (copy.deepcopy(self.definition), parse(self.definition, f"{self.name} v{self.number}"))
            if len(_PARSED) >= _PARSED_MAX:
                _PARSED.pop(next(iter(_PARSED)))
            _PARSED[key] = cached
        self.__dict__["_form"] = (self.definition, cached[1])
        return cached[1]

    @property
    def frozen(self) -> bool:
        return self.frozen_at is not None

    def __repr__(self) -> str:
        return f"<FormVersion {self.name} v{self.number}{' frozen' if self.frozen else ''}>"


class Answer:
    """An answer kept only in its owner's answers document (a question without a meaning),
    read and written like the column it once was: `idea.goals`, `Idea(goals=...)`."""

    def __init__(self, default=""):
        self.default = default
        self.key = ""

    def __set_name__(self, owner, name):
        self.key = name

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        value = (obj.answers or {}).get(self.key)
        return self.default if value is None else value

    def __set__(self, obj, value):
        # A new dict, so the JSON column is seen as changed.
        obj.answers = {**(obj.answers or {}), self.key: value}
