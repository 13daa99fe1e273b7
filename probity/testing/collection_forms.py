"""Forms of the collectors' and laboratories' pages. They parse and check what a person typed;
the services check the rules and write."""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from probity.accounts.models import User
from probity.accounts.roles import Role, roles_with_permission
from probity.core.forms import DateInput, add_service_errors
from probity.org.forms import StyledForm
from probity.org.models import Laboratory, Unit
from probity.org.policies import jurisdiction_q
from probity.personnel.forms import UnitChoiceField
from probity.personnel.models import Employment
from probity.testing import policies, selectors
from probity.testing.models import (
    Bottle,
    Campaign,
    Collection,
    CustodyEvent,
    Draw,
    Reason,
    SpecimenType,
)

__all__ = [
    "AddDrawForm",
    "AddPeopleForm",
    "CollectionForm",
    "CustodyForm",
    "RefusalForm",
    "SessionForm",
    "SpecimenSearchForm",
    "add_service_errors",
]

#: No specimen bottle holds more: a larger number is a typing slip (and would not fit the
#: database column on PostgreSQL).
MAX_VOLUME_ML = 5000

YES_NO_UNKNOWN = [("", _("Not recorded")), ("yes", _("Yes")), ("no", _("No"))]


def _tri_state(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


def _large(form: forms.Form) -> None:
    """Phone-first: large inputs and a numeric keyboard where a number is expected."""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput | forms.RadioSelect):
            widget.attrs["class"] = "form-check-input flex-shrink-0 m-0"
            widget.attrs["style"] = "width: 1.6rem; height: 1.6rem;"
            continue
        css = widget.attrs.get("class", "")
        size = "form-select-lg" if isinstance(widget, forms.Select) else "form-control-lg"
        if size not in css and not isinstance(widget, forms.SelectMultiple):
            widget.attrs["class"] = f"{css} {size}".strip()
        if isinstance(field, forms.IntegerField | forms.DecimalField):
            widget.attrs.setdefault("inputmode", "decimal")


# --- sessions -------------------------------------------------------------------------------


def units_where_user_may_collect(user):
    """Active units where ``user`` may plan a session (``policies.can_create_session_in``)."""
    if not user.has_perm(policies.COLLECT):
        return Unit.objects.none()
    scope = jurisdiction_q(user, roles=roles_with_permission(policies.COLLECT))
    return Unit.objects.filter(scope, active=True).select_related("agency").order_by("path")


def collectors():
    """Users holding the collector role anywhere: a team may mix agencies."""
    return (
        User.objects.filter(
            is_active=True,
            assignments__role=Role.COLLECTOR,
            assignments__revoked_at__isnull=True,
        )
        .distinct()
        .order_by("username")
    )


class UserChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        name = obj.get_full_name()
        return f"{obj.username} ({name})" if name else obj.username


class CampaignChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.code} — {obj.name}"


class SessionForm(StyledForm):
    campaign = CampaignChoiceField(
        label=_("Campaign"),
        queryset=Campaign.objects.none(),
        required=False,
        empty_label=_("None (census, reasonable suspicion, other)"),
        help_text=_("Only active campaigns."),
    )
    unit = UnitChoiceField(
        label=_("Unit visited"), queryset=Unit.objects.none(), to_field_name="code"
    )
    site = forms.CharField(label=_("Place"), max_length=300)
    date = forms.DateField(label=_("Date"), widget=DateInput)
    team = UserChoiceField(
        label=_("Team"),
        queryset=User.objects.none(),
        required=False,
        help_text=_("Collectors, from any agency. Empty: you alone."),
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, user, **kwargs):
        kwargs.setdefault("initial", {"date": timezone.localdate(), "team": [user.pk]})
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = selectors.campaigns_for(
            user, state=Campaign.State.ACTIVE
        ).order_by("code")
        self.fields["unit"].queryset = units_where_user_may_collect(user)
        self.fields["team"].queryset = User.objects.filter(
            Q(pk=user.pk) | Q(pk__in=collectors().values("pk"))
        ).order_by("username")
        self.fields["team"].widget.attrs["size"] = 6
        _large(self)

    def clean_site(self):
        return self.cleaned_data["site"].strip()


class DrawChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        when = timezone.localtime(obj.drawn_at).strftime("%Y-%m-%d") if obj.drawn_at else ""
        return _("Draw %(number)s of %(date)s") % {"number": obj.number, "date": when}


class AddDrawForm(StyledForm):
    """Only the draw's number and date are shown: who was drawn appears on the list."""

    draw = DrawChoiceField(label=_("Draw"), queryset=Draw.objects.none())

    def __init__(self, *args, session, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["draw"].queryset = (
            Draw.objects.filter(campaign_id=session.campaign_id, state=Draw.State.DRAWN).order_by(
                "number"
            )
            if session.campaign_id
            else Draw.objects.none()
        )
        _large(self)


class AddPeopleForm(StyledForm):
    service_numbers = forms.CharField(
        label=_("Service numbers"),
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 4, "autocomplete": "off"}),
        help_text=_("One or more, separated by spaces, commas or new lines."),
    )
    reason = forms.ChoiceField(
        label=_("Reason"),
        choices=[(v, label) for v, label in Reason.choices if v != Reason.RANDOM],
    )

    def __init__(self, *args, session, **kwargs):
        self.session = session
        super().__init__(*args, **kwargs)
        _large(self)

    def clean_service_numbers(self):
        numbers = [n for n in re.split(r"[\s,;]+", self.cleaned_data["service_numbers"]) if n]
        numbers = list(dict.fromkeys(numbers))
        if not numbers:
            raise ValidationError(_("Give at least one service number."))
        unit = self.session.unit
        found = {
            e.service_number: e
            for e in Employment.objects.filter(
                agency_id=unit.agency_id,
                service_number__in=numbers,
                unit__path__startswith=unit.path,
            ).select_related("unit")
        }
        missing = [n for n in numbers if n not in found]
        if missing:
            raise ValidationError(
                _("Nobody in %(unit)s has service number %(numbers)s."),
                params={"unit": unit.code, "numbers": ", ".join(missing)},
            )
        return [found[n] for n in numbers]


# --- collection and refusal ----------------------------------------------------------------


class SpecimenTypeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class CollectionForm(StyledForm):
    identity_checked = forms.BooleanField(label=_("I checked the donor's identity"), required=False)
    identity_method = forms.ChoiceField(
        label=_("How the identity was checked"),
        required=False,
        choices=[("", _("Choose how")), *Collection.IdentityMethod.choices],
    )
    specimen_type = SpecimenTypeChoiceField(
        label=_("Specimen type"), queryset=SpecimenType.objects.none(), empty_label=None
    )
    temperature_c = forms.DecimalField(
        label=_("Temperature (°C)"),
        required=False,
        max_digits=4,
        decimal_places=1,
        min_value=0,
        max_value=60,
        help_text=_("Urine only, read within 4 minutes. In range: 32 to 38 °C."),
    )
    temperature_in_range = forms.ChoiceField(
        label=_("Temperature in range"),
        required=False,
        choices=YES_NO_UNKNOWN,
        help_text=_("When only a strip was read. It must agree with the temperature measured."),
    )
    split = forms.BooleanField(label=_("Split into bottles A and B"), required=False, initial=True)
    volume_a_ml = forms.IntegerField(
        label=_("Volume in bottle A (mL)"), required=False, max_value=MAX_VOLUME_ML
    )
    volume_b_ml = forms.IntegerField(
        label=_("Volume in bottle B (mL)"), required=False, max_value=MAX_VOLUME_ML
    )
    seal_a = forms.CharField(label=_("Seal number of bottle A"), max_length=40, required=False)
    seal_b = forms.CharField(label=_("Seal number of bottle B"), max_length=40, required=False)
    observed = forms.BooleanField(label=_("Directly observed collection"), required=False)
    screen_result = forms.ChoiceField(
        label=_("On-site screen (optional)"),
        required=False,
        choices=[("", _("No screen done")), *Collection.Screen.choices],
    )
    donor_confirmed = forms.BooleanField(
        label=_(
            "The donor confirms the specimen is theirs and the bottles were sealed in front of them"
        ),
        required=False,
    )
    collector_confirmed = forms.BooleanField(
        label=_("I confirm the collection was done as recorded"), required=False
    )
    remarks = forms.CharField(
        label=_("Remarks"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        types = SpecimenType.objects.filter(active=True).order_by("code")
        self.fields["specimen_type"].queryset = types
        urine = types.filter(code="urine").first()
        if urine is not None:
            self.fields["specimen_type"].initial = urine.pk
        for name in ("volume_a_ml", "volume_b_ml"):
            self.fields[name].widget.attrs.update({"min": 0, "inputmode": "numeric"})
        self.fields["temperature_c"].widget.attrs["step"] = "0.1"
        for name in ("seal_a", "seal_b"):
            self.fields[name].widget.attrs["autocomplete"] = "off"
        _large(self)

    def clean(self):
        cleaned = super().clean()
        specimen_type = cleaned.get("specimen_type")
        if cleaned.get("identity_checked") and not cleaned.get("identity_method"):
            self.add_error("identity_method", _("Say how the donor's identity was checked."))
        if specimen_type is None:
            return cleaned
        temperature = cleaned.get("temperature_c")
        in_range = cleaned.get("temperature_in_range")
        if specimen_type.temperature_check:
            if temperature is None and not in_range and "temperature_c" not in self.errors:
                self.add_error(
                    "temperature_c",
                    _("Record the temperature, or at least whether it was in range."),
                )
        elif temperature is not None or in_range:
            self.add_error(
                "temperature_c",
                _("The temperature is checked only for urine, not for %(type)s.")
                % {"type": specimen_type.name},
            )
        split = cleaned.get("split")
        if specimen_type.minimum_volume_ml and cleaned.get("volume_a_ml") is None:
            if "volume_a_ml" not in self.errors:
                self.add_error("volume_a_ml", _("Record the volume in bottle A."))
        if not cleaned.get("seal_a", "").strip():
            self.add_error("seal_a", _("Record the seal number of bottle A."))
        if split:
            if specimen_type.minimum_volume_ml and cleaned.get("volume_b_ml") is None:
                if "volume_b_ml" not in self.errors:
                    self.add_error("volume_b_ml", _("Record the volume in bottle B."))
            if not cleaned.get("seal_b", "").strip():
                self.add_error("seal_b", _("Record the seal number of bottle B."))
        elif cleaned.get("seal_b", "").strip():
            self.add_error("seal_b", _("There is no bottle B when the specimen is not split."))
        return cleaned

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "specimen_type": data["specimen_type"],
            "split": data["split"],
            "observed": data["observed"],
            "temperature_c": data["temperature_c"],
            "temperature_in_range": _tri_state(data["temperature_in_range"]),
            "identity_checked": data["identity_checked"],
            "identity_method": data["identity_method"],
            "donor_confirmed": data["donor_confirmed"],
            "collector_confirmed": data["collector_confirmed"],
            "seal_a": data["seal_a"],
            "seal_b": data["seal_b"] if data["split"] else "",
            "volume_a_ml": data["volume_a_ml"],
            "volume_b_ml": data["volume_b_ml"] if data["split"] else None,
            "screen_result": data["screen_result"],
            "remarks": data["remarks"],
        }


class RefusalForm(StyledForm):
    refusal_reason = forms.ChoiceField(
        label=_("Refusal"), choices=Collection.Refusal.choices, widget=forms.RadioSelect
    )
    remarks = forms.CharField(
        label=_("What happened"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Required: who saw it, at what time, what was said."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _large(self)

    def clean_remarks(self):
        remarks = self.cleaned_data["remarks"].strip()
        if not remarks:
            raise ValidationError(_("Describe what happened: a refusal must be explained."))
        return remarks


# --- specimens and custody -----------------------------------------------------------------


class SpecimenSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Specimen ID"),
        max_length=40,
        required=False,
        widget=forms.TextInput(
            attrs={
                "class": "form-control form-control-lg mono",
                "autocomplete": "off",
                "autocapitalize": "characters",
                "spellcheck": "false",
                "placeholder": "PB-XXXX-XXXX-X",
            }
        ),
        help_text=_("Type it or scan the barcode on the bottle or the form."),
    )


class LaboratoryChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.code} — {obj.name}"


class CustodyForm(StyledForm):
    bottle = forms.ModelChoiceField(label=_("Bottle"), queryset=Bottle.objects.none())
    event = forms.ChoiceField(label=_("Event"))
    at = forms.DateTimeField(label=_("Date and time"), widget=DateTimeLocalInput)
    laboratory = LaboratoryChoiceField(
        label=_("Laboratory"), queryset=Laboratory.objects.none(), required=False
    )
    seal_intact = forms.ChoiceField(
        label=_("Seal intact"),
        choices=YES_NO_UNKNOWN,
        required=False,
        help_text=_("On receipt a broken seal rejects the specimen."),
    )
    specimen_id_on_bottle = forms.CharField(
        label=_("Specimen ID read on the bottle"),
        max_length=40,
        required=False,
        help_text=_("Type it or scan it. One that differs from the form rejects the specimen."),
    )
    volume_ml = forms.IntegerField(
        label=_("Volume found (mL)"), required=False, min_value=0, max_value=MAX_VOLUME_ML
    )
    counter_signer = forms.CharField(
        label=_("Counter-signer's user name"),
        max_length=150,
        required=False,
        help_text=_("When the person who takes or gives the bottle uses Probity."),
    )
    counter_signer_name = forms.CharField(
        label=_("Or the counter-signer's name"),
        max_length=200,
        required=False,
        help_text=_("A courier or anyone outside Probity."),
    )
    location = forms.CharField(label=_("Where"), max_length=300, required=False)
    remarks = forms.CharField(
        label=_("Remarks"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, collection, events, laboratories, **kwargs):
        kwargs.setdefault("initial", {"at": timezone.localtime().replace(second=0, microsecond=0)})
        super().__init__(*args, **kwargs)
        self.fields["bottle"].queryset = collection.bottles.order_by("label")
        self.fields["bottle"].label_from_instance = lambda b: (
            _("Bottle %(label)s") % {"label": b.label}
        )
        self.fields["bottle"].empty_label = None
        labels = dict(CustodyEvent.Event.choices)
        self.fields["event"].choices = [(e, labels[e]) for e in events]
        self.fields["laboratory"].queryset = laboratories
        attrs = self.fields["specimen_id_on_bottle"].widget.attrs
        attrs.update(
            {
                "autocomplete": "off",
                "autocapitalize": "characters",
                "class": (attrs.get("class", "") + " mono").strip(),
            }
        )
        _large(self)

    def clean_counter_signer(self):
        username = self.cleaned_data["counter_signer"].strip()
        if not username:
            return None
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise ValidationError(
                _("No active user is called %(name)s."), params={"name": username}
            )
        return user

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "bottle": data["bottle"],
            "event": data["event"],
            "at": data["at"],
            "laboratory": data["laboratory"],
            "seal_intact": _tri_state(data["seal_intact"]),
            "specimen_id_on_bottle": data["specimen_id_on_bottle"],
            "volume_ml": data["volume_ml"],
            "counter_signer": data["counter_signer"],
            "counter_signer_name": data["counter_signer_name"],
            "location": data["location"],
            "remarks": data["remarks"],
        }
