"""Forms of the personnel pages. They parse and check input; services do the writing."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from probity.accounts.roles import roles_with_permission
from probity.core.forms import DateInput, add_service_errors
from probity.org import selectors as org_selectors
from probity.org.forms import StyledForm
from probity.org.models import Rank, Unit
from probity.org.policies import jurisdiction_q
from probity.personnel import selectors
from probity.personnel.models import Sex, Status

__all__ = [
    "EmploymentChangeForm",
    "PeopleFilterForm",
    "PersonAddForm",
    "PersonForm",
    "StatusForm",
    "add_service_errors",
]


def units_where_user_may_add(user):
    """Active units where ``user`` may create or change people (for the unit choosers)."""
    if not user.has_perm("personnel.change_person"):
        return Unit.objects.none()
    scope = jurisdiction_q(user, roles=roles_with_permission("personnel.change_person"))
    return (
        Unit.objects.filter(scope, active=True)
        .select_related("agency")
        .order_by("agency__code", "path")
    )


class UnitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.code} — {obj.name}"


class RankChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} ({obj.agency.code})"


def _not_in_the_future(value):
    if value is not None and value > timezone.localdate():
        raise ValidationError(_("The date of birth cannot be in the future."))


# --- the list ---------------------------------------------------------------------------


class PeopleFilterForm(StyledForm):
    SORT_CHOICES = [(key, key) for key in selectors.SORTS]

    q = forms.CharField(
        label=_("Name or service number"),
        max_length=200,
        required=False,
        widget=forms.SearchInput,
        help_text=_("In Latin or Khmer script."),
    )
    unit = forms.CharField(
        label=_("Unit code"),
        max_length=40,
        required=False,
        help_text=_("Includes its sub-units."),
    )
    rank = forms.ChoiceField(label=_("Rank"), required=False)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All statuses")), *Status.choices],
    )
    sort = forms.ChoiceField(required=False, choices=SORT_CHOICES, widget=forms.HiddenInput)

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs["autocomplete"] = "off"
        self.fields["sort"].widget.attrs.pop("class", None)
        ranks: dict[str, list[str]] = {}
        for rank in org_selectors.ranks_for(user):
            label = f"{rank.name} ({rank.agency.code})"
            ranks.setdefault(rank.code, []).append(label)
        self.fields["rank"].choices = [
            ("", _("All ranks")),
            *((code, " / ".join(labels)) for code, labels in ranks.items()),
        ]

    def clean_q(self):
        return self.cleaned_data["q"].strip()

    def clean_unit(self):
        code = self.cleaned_data["unit"].strip()
        if not code:
            return None
        unit = org_selectors.unit_get(self.user, code)
        if unit is None:
            raise ValidationError(
                _("No unit with code %(code)s within your jurisdiction."), params={"code": code}
            )
        return unit

    def clean_sort(self):
        return self.cleaned_data["sort"] or "name"

    def filters(self) -> dict:
        """Keyword arguments for ``selectors.employments_for`` (the form must be valid)."""
        data = self.cleaned_data
        return {
            "q": data["q"],
            "unit": data["unit"],
            "rank": data["rank"],
            "status": data["status"],
            "sort": data["sort"],
        }

    def described(self) -> dict:
        """The filters as plain values, for the audit log."""
        data = self.filters()
        return {**data, "unit": data["unit"].code if data["unit"] else ""}


# --- identity ---------------------------------------------------------------------------


class PersonForm(StyledForm):
    family_name = forms.CharField(label=_("Family name"), max_length=100)
    given_name = forms.CharField(label=_("Given name"), max_length=100)
    name_km = forms.CharField(label=_("Name in Khmer"), max_length=200, required=False)
    sex = forms.ChoiceField(
        label=_("Sex"), required=False, choices=[("", _("Not recorded")), *Sex.choices]
    )
    date_of_birth = forms.DateField(
        label=_("Date of birth"),
        required=False,
        widget=DateInput,
        validators=[_not_in_the_future],
    )
    national_id = forms.CharField(label=_("National ID"), max_length=30, required=False)

    IDENTITY = ["family_name", "given_name", "name_km", "sex", "date_of_birth", "national_id"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name_km"].widget.attrs["lang"] = "km"
        self.fields["family_name"].widget.attrs["autocomplete"] = "off"
        self.fields["given_name"].widget.attrs["autocomplete"] = "off"

    @classmethod
    def initial_for(cls, person) -> dict:
        return {name: getattr(person, name) for name in cls.IDENTITY}

    def identity(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.IDENTITY}


class PersonAddForm(PersonForm):
    service_number = forms.CharField(label=_("Service number"), max_length=30)
    unit = UnitChoiceField(label=_("Unit"), queryset=Unit.objects.none(), to_field_name="code")
    rank = RankChoiceField(label=_("Rank"), queryset=Rank.objects.none(), required=False)
    position = forms.CharField(label=_("Position"), max_length=200, required=False)
    start_date = forms.DateField(
        label=_("Start of employment"),
        required=False,
        widget=DateInput,
        help_text=_("The person is active from this day (today when left empty)."),
    )

    field_order = [
        "service_number",
        "unit",
        "rank",
        "position",
        "start_date",
        *PersonForm.IDENTITY,
    ]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        units = units_where_user_may_add(user)
        self.fields["unit"].queryset = units
        self.fields["rank"].queryset = (
            Rank.objects.filter(agency__in=units.values("agency"))
            .select_related("agency")
            .order_by("agency__code", "-order", "code")
        )

    def clean_service_number(self):
        return self.cleaned_data["service_number"].strip()

    def clean(self):
        cleaned = super().clean()
        unit, rank = cleaned.get("unit"), cleaned.get("rank")
        if unit is not None and rank is not None and rank.agency_id != unit.agency_id:
            self.add_error("rank", _("This rank belongs to another agency than the unit."))
        return cleaned


# --- employment and status ---------------------------------------------------------------


class EmploymentChangeForm(StyledForm):
    unit = UnitChoiceField(label=_("Unit"), queryset=Unit.objects.none(), to_field_name="code")
    rank = RankChoiceField(label=_("Rank"), queryset=Rank.objects.none(), required=False)
    position = forms.CharField(label=_("Position"), max_length=200, required=False)
    effective_date = forms.DateField(label=_("Effective date"), widget=DateInput)
    reference = forms.CharField(
        label=_("Order or document"),
        max_length=200,
        required=False,
        help_text=_("The number and date of the order, for example."),
    )

    def __init__(self, *args, employment, user, **kwargs):
        self.employment = employment
        initial = {
            "unit": employment.unit.code,
            "rank": employment.rank_id,
            "position": employment.position,
            "effective_date": timezone.localdate(),
        }
        super().__init__(*args, initial=initial, **kwargs)
        self.fields["unit"].queryset = units_where_user_may_add(user).filter(
            agency_id=employment.agency_id
        )
        self.fields["rank"].queryset = Rank.objects.filter(
            agency_id=employment.agency_id
        ).select_related("agency")
        if employment.rank_id:
            self.fields["rank"].required = True  # a rank can be changed, not erased

    def changes(self) -> dict:
        """Only what differs from the employment as it is."""
        data = self.cleaned_data
        changes = {}
        if data["unit"].pk != self.employment.unit_id:
            changes["unit"] = data["unit"]
        if data["rank"] is not None and data["rank"].pk != self.employment.rank_id:
            changes["rank"] = data["rank"]
        if data["position"].strip() != self.employment.position:
            changes["position"] = data["position"]
        return changes


class StatusForm(StyledForm):
    status = forms.ChoiceField(
        label=_("New status"), choices=[("", _("Choose a status")), *Status.choices]
    )
    effective_date = forms.DateField(label=_("Effective date"), widget=DateInput)
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required, except for a plain return to active."),
    )
    reference = forms.CharField(
        label=_("Order or document"),
        max_length=200,
        required=False,
        help_text=_("The number and date of the order, for example."),
    )
    reinstatement = forms.BooleanField(
        label=_("This is a reinstatement"),
        required=False,
        help_text=_(
            "Only a recorded reinstatement makes a dismissed, resigned or retired person "
            "active again."
        ),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"effective_date": timezone.localdate()})
        super().__init__(*args, **kwargs)
