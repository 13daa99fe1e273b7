"""Forms for the organisation pages. They parse and check input; services do the writing."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from probity.core.forms import mark_invalid
from probity.core.forms import show_service_errors as add_service_errors
from probity.org import selectors
from probity.org.models import Agency, District, Province, code_validator

__all__ = [
    "AgencyForm",
    "LaboratoryForm",
    "RankForm",
    "StyledForm",
    "UnitCreateForm",
    "UnitEditForm",
    "UnitSearchForm",
    "add_service_errors",
    "district_choices",
]


def district_choices() -> list:
    """Districts grouped by province: an ``<optgroup>`` per province, in the provinces' order."""
    groups: dict[str, list] = {}
    for district in selectors.districts_by_province():
        groups.setdefault(district.province.name, []).append((district.pk, district.name))
    return [("", "---------"), *groups.items()]


class StyledForm(forms.Form):
    """Bootstrap classes on every widget, and ``is-invalid`` on the fields with errors
    (Django adds ``aria-invalid`` and links the help text with ``aria-describedby``)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.style_widgets()

    def style_widgets(self) -> None:
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            classes = set(widget.attrs.get("class", "").split())
            if css not in classes:
                widget.attrs["class"] = " ".join([*sorted(classes), css]).strip()

    def full_clean(self):
        super().full_clean()
        mark_invalid(self)


class _UnitPlaceMixin:
    """Province and district of a unit: the district must lie in the province."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["district"].choices = district_choices()

    def clean(self):
        cleaned = super().clean()
        province = cleaned.get("province")
        district = cleaned.get("district")
        if district is not None:
            if province is None:
                cleaned["province"] = district.province
            elif district.province_id != province.pk:
                self.add_error("district", _("The district is not in the unit's province."))
        return cleaned


class UnitCreateForm(_UnitPlaceMixin, StyledForm):
    code = forms.CharField(
        label=_("Code"),
        max_length=40,
        validators=[code_validator],
        help_text=_("Unique across the installation, e.g. NP-KH-17-03."),
    )
    name_en = forms.CharField(label=_("Name (English)"), max_length=200)
    name_km = forms.CharField(label=_("Name (Khmer)"), max_length=200, required=False)
    province = forms.ModelChoiceField(
        label=_("Province"),
        queryset=Province.objects.order_by("mef_code"),
        required=False,
        help_text=_("Left empty, the unit takes its parent's province."),
    )
    district = forms.ModelChoiceField(
        label=_("District"), queryset=District.objects.select_related("province"), required=False
    )

    def __init__(self, *args, agency_choices=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name_km"].widget.attrs["lang"] = "km"
        if agency_choices is not None:
            # A new root unit: the agency is chosen here.
            self.fields = {
                "agency": forms.ModelChoiceField(label=_("Agency"), queryset=agency_choices),
                **self.fields,
            }
            self.style_widgets()


class UnitEditForm(_UnitPlaceMixin, StyledForm):
    name_en = forms.CharField(label=_("Name (English)"), max_length=200)
    name_km = forms.CharField(label=_("Name (Khmer)"), max_length=200, required=False)
    parent = forms.CharField(
        label=_("Parent unit code"),
        max_length=40,
        required=False,
        help_text=_("Change it to move the unit; everything under it moves too."),
    )
    province = forms.ModelChoiceField(
        label=_("Province"), queryset=Province.objects.order_by("mef_code"), required=False
    )
    district = forms.ModelChoiceField(
        label=_("District"), queryset=District.objects.select_related("province"), required=False
    )
    active = forms.BooleanField(label=_("Active"), required=False)

    def __init__(self, *args, unit, user, may_be_root: bool, **kwargs):
        self.unit = unit
        self.user = user
        self.may_be_root = may_be_root
        initial = {
            "name_en": unit.name_en,
            "name_km": unit.name_km,
            "parent": unit.parent.code if unit.parent_id else "",
            "province": unit.province_id,
            "district": unit.district_id,
            "active": unit.active,
        }
        super().__init__(*args, initial=initial, **kwargs)
        self.fields["name_km"].widget.attrs["lang"] = "km"
        self.fields["parent"].required = unit.parent_id is not None and not may_be_root

    def clean_parent(self):
        code = self.cleaned_data["parent"].strip()
        current = self.unit.parent
        if not code:
            if current is not None and not self.may_be_root:
                raise ValidationError(_("Only the installation's administrators create roots."))
            return None
        if current is not None and code == current.code:
            return current
        parent = selectors.unit_changeable(self.user, code, agency=self.unit.agency)
        if parent is None:
            raise ValidationError(
                _("No unit of this agency with code %(code)s that you may change."),
                params={"code": code},
            )
        if parent.path.startswith(self.unit.path):
            raise ValidationError(_("A unit cannot be placed under itself or its own sub-units."))
        return parent

    def changes(self) -> dict:
        """Only what differs from the unit as it is."""
        data = self.cleaned_data
        current = {
            "name_en": self.unit.name_en,
            "name_km": self.unit.name_km,
            "parent": self.unit.parent,
            "province": self.unit.province,
            "district": self.unit.district,
            "active": self.unit.active,
        }
        return {name: data[name] for name, value in current.items() if data[name] != value}


class UnitSearchForm(StyledForm):
    q = forms.CharField(label=_("Code or name"), max_length=100, required=False)
    province = forms.ModelChoiceField(
        label=_("Province"),
        queryset=Province.objects.order_by("mef_code"),
        to_field_name="code",
        required=False,
    )

    def is_search(self) -> bool:
        return self.is_valid() and bool(self.cleaned_data["q"] or self.cleaned_data["province"])


class LaboratoryForm(StyledForm):
    code = forms.CharField(label=_("Code"), max_length=20, validators=[code_validator])
    name_en = forms.CharField(label=_("Name (English)"), max_length=200)
    name_km = forms.CharField(label=_("Name (Khmer)"), max_length=200, required=False)
    accreditation = forms.CharField(label=_("Accreditation"), max_length=200, required=False)
    contact = forms.CharField(label=_("Contact"), max_length=300, required=False)
    province = forms.ModelChoiceField(
        label=_("Province"), queryset=Province.objects.order_by("mef_code"), required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name_km"].widget.attrs["lang"] = "km"


class AgencyForm(StyledForm):
    code = forms.CharField(label=_("Code"), max_length=20, validators=[code_validator])
    name_en = forms.CharField(label=_("Name (English)"), max_length=200)
    name_km = forms.CharField(label=_("Name (Khmer)"), max_length=200, required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=Agency.Kind.choices)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name_km"].widget.attrs["lang"] = "km"


class RankForm(StyledForm):
    agency = forms.ModelChoiceField(label=_("Agency"), queryset=Agency.objects.order_by("code"))
    code = forms.CharField(label=_("Code"), max_length=20, validators=[code_validator])
    name_en = forms.CharField(label=_("Name (English)"), max_length=200)
    name_km = forms.CharField(label=_("Name (Khmer)"), max_length=200, required=False)
    order = forms.IntegerField(
        label=_("Seniority"),
        min_value=0,
        max_value=32767,
        initial=0,
        help_text=_("Higher is more senior."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name_km"].widget.attrs["lang"] = "km"
