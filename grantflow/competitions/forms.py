"""The administrator's forms for a competition and its criteria. Times are typed in Riga
time and stored in UTC."""

from datetime import UTC

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import DateField, DateTimeLocalField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from grantflow.core.forms import Form, MoneyField, NumberField, finite_number
from grantflow.core.i18n import RIGA
from grantflow.core.types import CENT

RIGA_TIME = "%Y-%m-%dT%H:%M"


def to_utc(local):
    return None if local is None else local.replace(tzinfo=RIGA).astimezone(UTC)


def to_riga(moment):
    return None if moment is None else moment.astimezone(RIGA).replace(tzinfo=None)


class CompetitionForm(Form):
    code = StringField(
        _l("Code (prefix of reference numbers)"),
        validators=[DataRequired(), Length(max=20), Regexp(r"^[A-Z0-9-]+$", message=_l("Capital letters, digits and hyphens only, e.g. DK-2027."))],
    )
    title_lv = StringField(_l("Title in Latvian"), validators=[DataRequired(), Length(max=300)])
    title_en = StringField(_l("Title in English"), validators=[DataRequired(), Length(max=300)])
    description_lv = TextAreaField(_l("Description in Latvian"), validators=[Length(max=20000)])
    description_en = TextAreaField(_l("Description in English"), validators=[Length(max=20000)])
    opens_at = DateTimeLocalField(_l("Opens (Riga time)"), format=RIGA_TIME, validators=[InputRequired()])
    closes_at = DateTimeLocalField(_l("Closes (Riga time)"), format=RIGA_TIME, validators=[InputRequired()])
    evaluation_closes_at = DateTimeLocalField(_l("Evaluation closes (Riga time)"), format=RIGA_TIME, validators=[Optional()])
    report_due = DateField(_l("Final reports due"), validators=[Optional()])
    budget = MoneyField(_l("Budget (EUR)"), validators=[InputRequired()])
    min_grant = MoneyField(_l("Smallest grant (EUR)"), validators=[InputRequired()])
    max_grant = MoneyField(_l("Largest grant (EUR)"), validators=[InputRequired()])
    workflow = SelectField(_l("Workflow"), validators=[InputRequired()])
    # The form versions it asks (questionnaires area); "": the default form file's current version.
    application_form_id = SelectField(_l("Application form"), default="")
    report_form_id = SelectField(_l("Final report form"), default="")
    evaluators_per_idea = IntegerField(_l("Evaluators per idea"), default=2, validators=[InputRequired(), NumberRange(min=1, max=10)])
    disagreement_threshold = NumberField(
        _l("Flag disagreement above (points of 100)"), places=2, default=15,
        validators=[InputRequired(), finite_number(100), NumberRange(min=0, max=100)],
    )  # fmt: skip

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        for money in (self.budget, self.min_grant, self.max_grant):
            if money.errors or money.data is None:  # refused already (not a number, too large)
                continue
            if money.data != money.data.quantize(CENT):
                money.errors.append(_l("Euros with at most two decimals."))
                ok = False
        if self.opens_at.data and self.closes_at.data and self.closes_at.data <= self.opens_at.data:
            self.closes_at.errors.append(_l("The competition must close after it opens."))
            ok = False
        if self.evaluation_closes_at.data and self.closes_at.data and self.evaluation_closes_at.data <= self.closes_at.data:
            self.evaluation_closes_at.errors.append(_l("The evaluation must close after the competition closes."))
            ok = False
        # Amounts are compared only where both were taken (a refused one may be NaN or huge).
        usable = {f.name for f in (self.budget, self.min_grant, self.max_grant) if not f.errors and f.data is not None}
        if {"min_grant", "max_grant"} <= usable and self.max_grant.data < self.min_grant.data:
            self.max_grant.errors.append(_l("The largest grant cannot be smaller than the smallest."))
            ok = False
        elif {"budget", "max_grant"} <= usable and self.max_grant.data > self.budget.data:
            self.max_grant.errors.append(_l("The largest grant cannot be more than the budget."))
            ok = False
        return ok

    def model_data(self) -> dict:
        data = {name: self[name].data for name in ("code", "title_lv", "title_en", "workflow", "evaluators_per_idea",
                                                    "report_due", "budget", "min_grant", "max_grant", "disagreement_threshold")}  # fmt: skip
        for name in ("application_form_id", "report_form_id"):
            value = self[name].data or ""
            data[name] = int(value) if value.isdecimal() else None
        data["description_lv"] = self.description_lv.data or ""
        data["description_en"] = self.description_en.data or ""
        for name in ("opens_at", "closes_at", "evaluation_closes_at"):
            data[name] = to_utc(self[name].data)
        return data


class CriterionForm(Form):
    name_lv = StringField(_l("Name in Latvian"), validators=[DataRequired(), Length(max=200)])
    name_en = StringField(_l("Name in English"), validators=[DataRequired(), Length(max=200)])
    guidance_lv = TextAreaField(_l("Guidance for evaluators in Latvian"), validators=[Length(max=5000)])
    guidance_en = TextAreaField(_l("Guidance for evaluators in English"), validators=[Length(max=5000)])
    max_points = IntegerField(_l("Maximum points"), default=10, validators=[InputRequired(), NumberRange(min=1, max=100)])
    weight = NumberField(_l("Weight"), places=2, default=1, validators=[InputRequired(), finite_number(10), NumberRange(min=0.1, max=10)])

    def model_data(self) -> dict:
        data = {name: self[name].data for name in ("name_lv", "name_en", "max_points", "weight")}
        data["guidance_lv"] = self.guidance_lv.data or ""
        data["guidance_en"] = self.guidance_en.data or ""
        return data


DOCUMENT_KINDS = {"rules": _l("Rules"), "template": _l("Application template"), "other": _l("Other document")}


class DocumentForm(Form):
    """A competition's document: what it is, its title in both languages, the file. On the
    replace page the file is required again (the new version)."""

    kind = SelectField(_l("What is it?"), choices=[SelectChoice(k, v) for k, v in DOCUMENT_KINDS.items()],
                       validators=[InputRequired()])  # fmt: skip
    title_lv = StringField(_l("Title in Latvian"), validators=[DataRequired(), Length(max=200)])
    title_en = StringField(_l("Title in English"), validators=[DataRequired(), Length(max=200)])
    file = FileField(_l("File (PDF, DOCX, ODT, XLSX or ODS, at most 10 MB)"))


class RoundForm(Form):
    """A review round's names and evaluation deadline (its key comes from the workflow)."""

    label_lv = StringField(_l("Name in Latvian"), validators=[DataRequired(), Length(max=200)])
    label_en = StringField(_l("Name in English"), validators=[DataRequired(), Length(max=200)])
    evaluation_closes_at = DateTimeLocalField(_l("Evaluation closes (Riga time)"), format=RIGA_TIME, validators=[Optional()])

    def model_data(self) -> dict:
        return {
            "label_lv": self.label_lv.data.strip(),
            "label_en": self.label_en.data.strip(),
            "evaluation_closes_at": to_utc(self.evaluation_closes_at.data),
        }


def stages_form(stages, data: dict | None = None) -> Form:
    """The submission windows of a competition's stages: an opening and a closing moment (Riga
    time) per stage, fields named opens_<id> and closes_<id>."""

    class StagesForm(Form):
        def validate(self, extra_validators=None) -> bool:
            valid = super().validate(extra_validators)
            for stage in stages:
                opens, closes = self[f"opens_{stage.id}"], self[f"closes_{stage.id}"]
                if opens.data and closes.data and closes.data <= opens.data:
                    closes.errors.append(_l("A stage must close after it opens."))
                    valid = False
            return valid

        def windows(self) -> dict:
            """{stage id: (opens, closes)} in UTC."""
            return {
                stage.id: (to_utc(self[f"opens_{stage.id}"].data), to_utc(self[f"closes_{stage.id}"].data))
                for stage in stages
            }

    for stage in stages:
        setattr(StagesForm, f"opens_{stage.id}",
                DateTimeLocalField(_l("Opens (Riga time)"), format=RIGA_TIME, validators=[InputRequired()]))  # fmt: skip
        setattr(StagesForm, f"closes_{stage.id}",
                DateTimeLocalField(_l("Closes (Riga time)"), format=RIGA_TIME, validators=[InputRequired()]))  # fmt: skip
    return StagesForm(data=data or {})
