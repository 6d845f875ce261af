from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField
from wtforms.validators import Length


class TransitionForm(FlaskForm):
    comment = TextAreaField(_l("Comment"), validators=[Length(max=5000)])
    # The idea's version when the page was drawn: a step chosen on a stale page is refused.
    version = HiddenField()
