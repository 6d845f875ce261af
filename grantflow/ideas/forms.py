from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import Length


class TransitionForm(FlaskForm):
    comment = TextAreaField(_l("Comment"), validators=[Length(max=5000)])
