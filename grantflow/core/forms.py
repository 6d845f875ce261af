"""Form pieces every area shares."""

from flask_wtf import FlaskForm


class ActionForm(FlaskForm):
    """A button that changes something (remove, withdraw, log out): the form is only its CSRF
    token, so a page elsewhere cannot press it for the user."""
