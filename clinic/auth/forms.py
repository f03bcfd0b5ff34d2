"""Login form."""

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from clinic.forms import PlainText


class LoginForm(FlaskForm):
    username = StringField("User name", validators=[
        PlainText(), DataRequired(message="Enter your user name."), Length(max=64)])
    password = PasswordField("Password", validators=[
        PlainText(), DataRequired(message="Enter your password."), Length(max=256)])
