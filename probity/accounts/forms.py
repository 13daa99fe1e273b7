"""Forms of the accounts pages. They parse and check input; the services write."""

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from probity.accounts.models import User
from probity.accounts.roles import Role


class BootstrapMixin:
    """Bootstrap 5 classes on every widget, and ``is-invalid`` on fields with errors."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()

    def add_error(self, field, error):
        super().add_error(field, error)
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                if "is-invalid" not in widget.attrs.get("class", ""):
                    widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()


def _password_help() -> str:
    return " ".join(str(text) for text in password_validation.password_validators_help_texts())


class PasswordPairMixin:
    """Two password fields that must match; strength is checked by the service."""

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("The two passwords are not the same."))
        return cleaned


def _password_fields():
    return (
        forms.CharField(
            label=_("Password"),
            strip=False,
            widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
            help_text=lazy(_password_help, str)(),
        ),
        forms.CharField(
            label=_("Password again"),
            strip=False,
            widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
            help_text=_("Type the same password again, to be sure of it."),
        ),
    )


_LANGUAGE_CHOICES = [("", _("As the browser says"))] + list(settings.LANGUAGES)


class UserCreateForm(PasswordPairMixin, BootstrapMixin, forms.Form):
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        help_text=_("A service number makes a good username. Letters, digits and @.+-_ only."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "none"}),
    )
    first_name = forms.CharField(label=_("Given name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Family name"), max_length=150, required=False)
    email = forms.EmailField(label=_("E-mail address"), required=False)
    language = forms.ChoiceField(
        label=_("Preferred language"), choices=_LANGUAGE_CHOICES, required=False
    )
    password1, password2 = _password_fields()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["password1"].label = _("Initial password")
        self.fields["password1"].help_text = (
            _("Give it to the person privately; they can change it later. ") + _password_help()
        )


class UserEditForm(BootstrapMixin, forms.Form):
    first_name = forms.CharField(label=_("Given name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Family name"), max_length=150, required=False)
    email = forms.EmailField(label=_("E-mail address"), required=False)
    language = forms.ChoiceField(
        label=_("Preferred language"), choices=_LANGUAGE_CHOICES, required=False
    )


class SetPasswordForm(PasswordPairMixin, BootstrapMixin, forms.Form):
    password1, password2 = _password_fields()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["password1"].label = _("New password")


class UnitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        indent = "\u2003" * max(obj.depth, 0)
        return f"{indent}{obj.name} ({obj.code})"


class AssignmentGrantForm(BootstrapMixin, forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=[("", "—")] + list(Role.choices))
    unit = UnitChoiceField(
        label=_("Over the unit (and everything under it)"),
        queryset=None,
        empty_label="—",
        error_messages={
            "invalid_choice": _(
                "You can only grant roles over units within your own jurisdiction. "
                "Choose one of the units in the list."
            )
        },
    )

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units


class TwoFactorCodeForm(BootstrapMixin, forms.Form):
    code = forms.CharField(
        label=_("Six-digit code"),
        max_length=12,
        help_text=_("The code your authenticator app shows now. It changes every 30 seconds."),
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": r"[0-9 ]{6,7}",
                "autofocus": True,
                "class": "form-control-lg",
            }
        ),
    )

    def clean_code(self):
        code = "".join(self.cleaned_data["code"].split())
        if not (code.isdigit() and len(code) == 6):
            raise forms.ValidationError(_("Type the six digits your authenticator app shows."))
        return code


class TokenCreateForm(BootstrapMixin, forms.Form):
    user = forms.ModelChoiceField(
        label=_("User the token acts as"),
        queryset=User.objects.none(),
        to_field_name="username",
        empty_label="—",
        help_text=_(
            "The other system will act with this user's roles and jurisdiction. "
            "A dedicated account per system is best."
        ),
        error_messages={
            "invalid_choice": _(
                "You can only create tokens for active users whose every assignment lies "
                "within your own jurisdiction."
            )
        },
    )
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("What uses the token, e.g. “Central laboratory LIMS”."),
    )

    def __init__(self, *args, users, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = users
