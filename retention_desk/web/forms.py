"""Flask-WTF forms; they validate input and are never bound to a table class."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, PasswordField, SearchField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from retention_desk.services.staff.users import MIN_PASSWORD_LENGTH

try:  # WTForms 3.3 deprecates (value, label) tuples
    from wtforms.fields.choices import SelectChoice

    def _choices(pairs: list[tuple[str, object]]) -> list:
        return [SelectChoice(value, label) for value, label in pairs]

except ImportError:  # pragma: no cover - older WTForms

    def _choices(pairs: list[tuple[str, object]]) -> list:
        return list(pairs)


LOCALES = [("en", "English"), ("nb", "Norsk bokmål"), ("sv", "Svenska"), ("fi", "Suomi")]


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=80)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    next = HiddenField()


class LogoutForm(FlaskForm):
    """Only a CSRF token: signing out is a POST so another site cannot sign an agent out."""


class SearchForm(FlaskForm):
    """A GET form: nothing changes, so no CSRF token."""

    class Meta:
        csrf = False

    q = SearchField(_l("Find an account"), validators=[Optional(), Length(max=200)])


class UserAddForm(FlaskForm):
    username = StringField(
        _l("Username"),
        validators=[
            DataRequired(),
            Length(max=80),
            Regexp(r"^[A-Za-z0-9._@-]+$", message=_l("Use letters, digits or . _ - @ only.")),
        ],
    )
    display_name = StringField(_l("Name shown on screens"), validators=[Optional(), Length(max=120)])
    password = PasswordField(
        _l("Password"),
        validators=[
            DataRequired(),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=200,
                message=_l("A password needs at least %(min)d characters.", min=MIN_PASSWORD_LENGTH),
            ),
        ],
    )
    role = SelectField(
        _l("Role"),
        choices=_choices([("agent", _l("Agent")), ("supervisor", _l("Supervisor")), ("admin", _l("Admin"))]),
        default="agent",
    )
    authority_tier = IntegerField(_l("Authority tier"), default=1, validators=[DataRequired(), NumberRange(1, 3)])
    team = StringField(_l("Team"), validators=[Optional(), Length(max=80)])
    locale = SelectField(_l("Language"), choices=_choices(LOCALES), default="en")
