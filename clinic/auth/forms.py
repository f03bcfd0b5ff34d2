"""Login form."""

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from clinic.forms import PlainText


class LoginForm(FlaskForm):
    username = StringField("User name", validators=[PlainText(), DataRequired(), Length(max=64)])
    password = PasswordField("Password", validators=[PlainText(), DataRequired(), Length(max=256)])
