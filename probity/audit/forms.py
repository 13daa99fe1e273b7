"""Search and verification forms for the auditor's pages."""

from datetime import datetime, time, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from probity.audit import chain

_DATE = {"type": "date", "class": "form-control"}


class _BootstrapForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-control")


class _DateRangeForm(_BootstrapForm):
    """``since``/``until`` are days in the installation's time zone, both inclusive."""

    since = forms.DateField(
        label=_("From"),
        required=False,
        widget=forms.DateInput(format="%Y-%m-%d", attrs=_DATE),
    )
    until = forms.DateField(
        label=_("To (inclusive)"),
        required=False,
        widget=forms.DateInput(format="%Y-%m-%d", attrs=_DATE),
    )

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            self.add_error("until", _("The end of the period is before its start."))
        return cleaned

    def time_range(self) -> dict:
        """The period as aware datetimes: ``since`` inclusive, ``until`` exclusive."""
        zone = timezone.get_default_timezone()
        since, until = self.cleaned_data.get("since"), self.cleaned_data.get("until")
        return {
            "since": datetime.combine(since, time.min, tzinfo=zone) if since else None,
            "until": (
                datetime.combine(until + timedelta(days=1), time.min, tzinfo=zone)
                if until
                else None
            ),
        }


class AuditSearchForm(_DateRangeForm):
    actor = forms.CharField(label=_("Actor (username)"), required=False, max_length=150)
    action = forms.CharField(label=_("Action"), required=False, max_length=100)
    object_type = forms.CharField(
        label=_("Object type"),
        required=False,
        max_length=100,
        help_text=_("For example accounts.user or org.unit."),
    )
    object_id = forms.CharField(label=_("Object id"), required=False, max_length=100)

    field_order = ["actor", "action", "object_type", "object_id", "since", "until"]

    def filters(self) -> dict:
        data = self.cleaned_data
        return {
            "actor": data["actor"].strip(),
            "action": data["action"].strip(),
            "object_type": data["object_type"].strip(),
            "object_id": data["object_id"].strip(),
            **self.time_range(),
        }


class AccessSearchForm(_DateRangeForm):
    user = forms.CharField(label=_("User (username)"), required=False, max_length=150)
    object_type = forms.CharField(label=_("Object type"), required=False, max_length=100)
    object_id = forms.CharField(label=_("Object id"), required=False, max_length=100)

    field_order = ["user", "object_type", "object_id", "since", "until"]

    def filters(self) -> dict:
        data = self.cleaned_data
        return {
            "user": data["user"].strip(),
            "object_type": data["object_type"].strip(),
            "object_id": data["object_id"].strip(),
            **self.time_range(),
        }


class VerifyForm(_BootstrapForm):
    expect_head = forms.CharField(
        label=_("Recorded head (optional)"),
        required=False,
        max_length=200,
        help_text=_(
            "A head recorded earlier, as COUNT:HASH. With it, entries removed from the end of "
            "the log are caught too."
        ),
    )

    def clean_expect_head(self):
        text = self.cleaned_data["expect_head"].strip()
        if not text:
            return None
        try:
            return chain.parse_head(text)
        except ValueError:
            raise forms.ValidationError(
                _(
                    "Enter the head as COUNT:HASH: a whole number, a colon and 64 hexadecimal "
                    "digits."
                ),
                code="invalid",
            ) from None
