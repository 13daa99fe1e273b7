"""Form helpers the apps' pages share: a service's errors on a form, Bootstrap's
``is-invalid`` on the fields in error, and a date input the browsers render as a date picker."""

from django import forms
from django.core.exceptions import ValidationError


def mark_invalid(form: forms.Form) -> None:
    """``is-invalid`` on the widget of every field with an error (once)."""
    for name in form.errors:
        if name in form.fields:
            widget = form.fields[name].widget
            if "is-invalid" not in widget.attrs.get("class", ""):
                widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()


def show_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Show a service's ``ValidationError`` on the form: on its field when the form has it."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            target = field if field in form.fields else None
            for error in errors:
                form.add_error(target, error)
    else:
        for message in exc.messages:
            form.add_error(None, message)


def add_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """A service's ``ValidationError`` on the form (on its field when the form has it),
    styled as invalid like the form's own errors."""
    show_service_errors(form, exc)
    mark_invalid(form)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")
