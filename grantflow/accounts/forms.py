import re

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from grantflow.core.forms import Form

PASSWORD_MIN = 10


# C0 control characters but tab and newlines: never meant, and PostgreSQL refuses NUL outright.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def strip(value):
    """Trim typed text and drop invisible control characters."""
    return CONTROL.sub("", value).strip() if isinstance(value, str) else value


def at_most(n: int) -> Length:
    """WTForms has no Latvian messages of its own, so every validator gets ours."""
    return Length(max=n, message=_l("At most %(max)d characters, please (now %(length)d)."))


class MailAddress:
    """A deliverable-looking address, stored in its plain ASCII form (the mail server may not
    speak SMTPUTF8); an internationalised domain becomes punycode."""

    def __call__(self, form, field):
        try:
            info = validate_email(field.data or "", check_deliverability=False, allow_smtputf8=False)
        except EmailNotValidError:
            raise ValidationError(_l("Enter an e-mail address like name@example.lv (Latin letters only before the @).")) from None
        field.data = info.ascii_email or info.normalized


def check_password(form, field):
    """At least PASSWORD_MIN characters, and not the e-mail address or its part before the @."""
    password = field.data or ""
    if len(password) < PASSWORD_MIN:
        raise ValidationError(_l("The password must have at least %(n)d characters.", n=PASSWORD_MIN))
    email = (form.email.data if "email" in form else getattr(form, "account_email", "")) or ""
    email = email.strip().lower()
    if email and password.strip().lower() in {email, email.partition("@")[0]}:
        raise ValidationError(_l("The password must not be your e-mail address."))
    if len(set(password)) < 4:
        raise ValidationError(_l("The password is too easy to guess: use more different characters."))


def email_field(label=_l("E-mail")):
    return EmailField(
        label,
        filters=[strip],
        validators=[DataRequired(_l("Enter your e-mail address.")), at_most(254), MailAddress()],
    )


class LoginForm(Form):
    email = EmailField(_l("E-mail"), filters=[strip], validators=[DataRequired(_l("Enter your e-mail address.")), at_most(254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password.")), at_most(200)])
    remember = BooleanField(_l("Keep me logged in on this device"))


class RegisterForm(Form):
    name = StringField(
        _l("Your name"),
        filters=[strip],
        validators=[DataRequired(_l("Enter your name.")), at_most(200)],
    )
    email = email_field()
    password = PasswordField(
        _l("Password"), validators=[DataRequired(_l("Choose a password.")), at_most(200), check_password]
    )
    password_again = PasswordField(
        _l("Password again"),
        validators=[DataRequired(_l("Type the password again.")), EqualTo("password", _l("The two passwords differ."))],
    )


class ForgotPasswordForm(Form):
    email = email_field()


class ResetPasswordForm(Form):
    account_email = ""  # set by the view, for the check that the password is not the address
    password = PasswordField(
        _l("New password"), validators=[DataRequired(_l("Choose a password.")), at_most(200), check_password]
    )
    password_again = PasswordField(
        _l("New password again"),
        validators=[DataRequired(_l("Type the password again.")), EqualTo("password", _l("The two passwords differ."))],
    )


