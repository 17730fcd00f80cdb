"""Login forms whose username is checked for length before anyone is asked to authenticate.

Django's AuthenticationForm only puts `maxlength` on the HTML input: a longer username
reached `authenticate()`, and django-axes then wrote the failed attempt into its
255-character column, a 500. A username longer than the user model allows is
an invalid login like any other, answered by the form.
"""
from __future__ import annotations

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm
from django.core.validators import MaxLengthValidator


class BoundedUsernameMixin:
    """Validate the username field's length (the user model's) as a real validator."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        limit = get_user_model()._meta.get_field(get_user_model().USERNAME_FIELD).max_length
        self.fields["username"].validators.append(MaxLengthValidator(limit or 150))


class LoginForm(BoundedUsernameMixin, AuthenticationForm):
    """The portal's login form (`/accounts/login/`)."""


class AdminLoginForm(BoundedUsernameMixin, AdminAuthenticationForm):
    """The admin's login form (`/admin/login/`)."""
