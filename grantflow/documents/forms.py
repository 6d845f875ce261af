"""Checking a copy of a document: upload the PDF or enter its SHA-256."""

import re

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import SelectField, StringField, SubmitField
from wtforms.validators import Optional, ValidationError

from grantflow.core.forms import Form

SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")


class VerifyForm(Form):
    pdf = FileField(_l("The PDF file you hold"))
    sha256 = StringField(_l("…or its SHA-256 fingerprint (64 characters)"), validators=[Optional()])
    check = SubmitField(_l("Check"))

    def validate_sha256(self, field):
        if field.data and not SHA256.match(field.data.strip()):
            raise ValidationError(_l("A SHA-256 fingerprint is 64 characters 0–9 and a–f."))

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if ok and not self.pdf.data and not (self.sha256.data or "").strip():
            self.pdf.errors.append(_l("Choose the PDF file, or enter its fingerprint."))
            return False
        return ok


class SignedCopyForm(Form):
    """Upload a signed copy of an agreement for one of the parties the person may sign for."""

    party = SelectField(_l("Signed for"), choices=[])
    pdf = FileField(_l("The signed PDF"))
    upload = SubmitField(_l("Upload the signed copy"))
