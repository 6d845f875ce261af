"""Forms of the evaluation: screening, assignment, conflicts and scoring. The operations
check everything again; these parse the request and tie messages to fields."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from grantflow.core.forms import Form
from grantflow.review.models import Recommendation

CHECKLIST_LABELS = {
    "complete": _l("The application is complete"),
    "legal_form": _l("The applicant's legal form is eligible"),
    "territory": _l("The idea takes place inside the programme's territory"),
    "grant_limits": _l("The grant requested is within the competition's limits"),
    "deadline": _l("The idea was submitted before the deadline"),
}
RECOMMENDATION_LABELS = {
    Recommendation.FUND: _l("Fund"),
    Recommendation.FUND_PARTLY: _l("Fund partly"),
    Recommendation.REJECT: _l("Reject"),
}
SCOPE_LABELS = {
    "idea": _l("This idea only"),
    "organisation": _l("The applicant organisation (all its ideas)"),
    "municipality": _l("The municipality (all ideas there)"),
}


class ScreeningForm(Form):
    complete = BooleanField(CHECKLIST_LABELS["complete"])
    legal_form = BooleanField(CHECKLIST_LABELS["legal_form"])
    territory = BooleanField(CHECKLIST_LABELS["territory"])
    grant_limits = BooleanField(CHECKLIST_LABELS["grant_limits"])
    deadline = BooleanField(CHECKLIST_LABELS["deadline"])
    outcome = RadioField(
        _l("Outcome"),
        choices=[SelectChoice("eligible", _l("Eligible: goes on to scoring")), SelectChoice("ineligible", _l("Not eligible"))],
        validators=[InputRequired(_l("Choose the outcome."))],
    )
    reason = TextAreaField(_l("Reason (shown to the applicant)"), validators=[Length(max=5000)])


def _id_or_none(value):
    """A chosen id, or None for the list's "choose" line (nothing is preselected)."""
    return None if value in ("", None) else int(value)


class AssignForm(Form):
    evaluator_id = SelectField(_l("Evaluator"), coerce=_id_or_none, validators=[InputRequired()])


class RemoveForm(Form):
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=500)])




class ConflictForm(Form):
    scope = RadioField(
        _l("The conflict concerns"),
        choices=[SelectChoice(value, label) for value, label in SCOPE_LABELS.items()],
        default="idea",
        validators=[InputRequired(_l("Choose what the conflict concerns."))],
    )
    reason = TextAreaField(_l("Describe the conflict of interest"), validators=[Length(max=2000)])


def score_form(criteria, review=None):
    """A form with points and a comment per criterion (`points_<id>`, `comment_<id>`),
    filled from the evaluator's draft when there is one."""

    class ScoreForm(Form):
        recommendation = SelectField(
            _l("Your recommendation"),
            choices=[SelectChoice("", _l("— choose —"))]
            + [SelectChoice(value, label) for value, label in RECOMMENDATION_LABELS.items()],
            validators=[Optional()],
        )
        comment = TextAreaField(_l("Overall comment"), validators=[Length(max=10000)])

    for criterion in criteria:
        setattr(ScoreForm, f"points_{criterion.id}", StringField(_l("Points"), validators=[Length(max=10)]))
        setattr(ScoreForm, f"comment_{criterion.id}", TextAreaField(_l("Comment"), validators=[Length(max=5000)]))
    data = {}
    if review is not None:
        data = {"recommendation": review.recommendation, "comment": review.comment}
        for score in review.scores:
            data[f"points_{score.criterion_id}"] = _points_text(score.points)
            data[f"comment_{score.criterion_id}"] = score.comment
    return ScoreForm(data=data)


def _points_text(points) -> str:
    return f"{points:f}".rstrip("0").rstrip(".") if "." in f"{points:f}" else f"{points:f}"
