"""Forms of the programme's pages (panels, campaigns, draws, laboratory staff).

They parse and check input; ``services`` do the writing and have the last word. A panel's
definition is edited without JSON: one line per initial test group, one line per
"requires" rule and one field per validity threshold (see ``PanelDefinitionForm``).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from probity.accounts.models import User
from probity.accounts.roles import roles_with_permission
from probity.core.forms import DateInput, add_service_errors
from probity.org import selectors as org_selectors
from probity.org.forms import StyledForm
from probity.org.models import Agency, Laboratory, Province, Unit
from probity.org.policies import jurisdiction_q
from probity.testing import policies, rules, selectors, services
from probity.testing.models import Campaign, Panel, SpecimenType

__all__ = [
    "CampaignCancelForm",
    "CampaignFilterForm",
    "CampaignForm",
    "DrawCommitForm",
    "ExcuseForm",
    "LabStaffForm",
    "PanelAssignForm",
    "PanelCreateForm",
    "PanelVersionForm",
    "add_service_errors",
    "definition_as_text",
]


class ProgrammeForm(StyledForm):
    """``StyledForm`` that also styles lists of checkboxes (rendered in a fieldset)."""

    def style_widgets(self) -> None:
        super().style_widgets()
        for field in self.fields.values():
            if isinstance(field.widget, forms.CheckboxSelectMultiple):
                field.widget.attrs["class"] = "form-check-input"


class UnitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.code} — {obj.name}"


class CampaignChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.code} — {obj.name} ({obj.get_state_display()})"


class CodeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.code} — {obj.name}"


class CodeMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} ({obj.code})"


def units_where_user_may_organise(user):
    """Active units where ``user`` may create a campaign (``policies.can_create_campaign_in``)."""
    if not user.has_perm(policies.MANAGE_CAMPAIGN):
        return Unit.objects.none()
    scope = jurisdiction_q(user, roles=roles_with_permission(policies.MANAGE_CAMPAIGN))
    return Unit.objects.filter(scope, active=True).select_related("agency").order_by("path")


_CODES = re.compile(r"[\s,;]+")


def _percent(label, *, required=False, **kwargs):
    return forms.DecimalField(
        label=label,
        required=required,
        max_digits=5,
        decimal_places=2,
        min_value=Decimal("0.01"),
        max_value=Decimal("100"),
        **kwargs,
    )


# --- campaigns ------------------------------------------------------------------------------


class CampaignFilterForm(ProgrammeForm):
    q = forms.CharField(
        label=_("Code or name"), max_length=200, required=False, widget=forms.SearchInput
    )
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[("", _("All states")), *Campaign.State.choices],
    )

    def clean_q(self):
        return self.cleaned_data["q"].strip()


class CampaignForm(ProgrammeForm):
    """Create (with ``code``) or change a draft campaign. The agency follows from the
    organising unit."""

    code = forms.CharField(label=_("Code"), max_length=40, help_text=_("For example NP-2026-R1."))
    name_en = forms.CharField(label=_("Name in English"), max_length=200)
    name_km = forms.CharField(label=_("Name in Khmer"), max_length=200, required=False)
    unit = UnitChoiceField(
        label=_("Organising unit"),
        queryset=Unit.objects.none(),
        to_field_name="code",
        help_text=_("The unit that runs the campaign; its agency is the campaign's agency."),
    )
    scope_units = forms.CharField(
        label=_("Units in scope"),
        required=False,
        max_length=4000,
        help_text=_(
            "Unit codes separated by spaces or commas, each with its whole subtree. "
            "Empty: the whole organising unit."
        ),
    )
    provinces = CodeMultipleChoiceField(
        label=_("Provinces"),
        queryset=Province.objects.none(),
        to_field_name="code",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Only units placed in these provinces. None ticked: every province."),
    )
    starts_on = forms.DateField(label=_("Starts on"), widget=DateInput)
    ends_on = forms.DateField(label=_("Ends on"), widget=DateInput)
    mode = forms.ChoiceField(label=_("Mode"), choices=Campaign.Mode.choices)
    rate_percent = _percent(
        _("Rate per draw (%)"),
        help_text=_("Random campaigns only: the share of the pool selected at each draw."),
    )
    frequency = forms.ChoiceField(label=_("Draws"), choices=Campaign.Frequency.choices)
    target_coverage_percent = _percent(
        _("Target coverage (%)"), required=True, help_text=_("For example 50 for half a year.")
    )
    by_unit = forms.BooleanField(
        label=_("Draw in two stages by unit"),
        required=False,
        help_text=_("Each unit gets its share of the selection; everyone keeps the same chance."),
    )
    alternates = forms.IntegerField(
        label=_("Alternates per draw"),
        min_value=0,
        max_value=10000,
        help_text=_("Drawn after the selection, called in to replace people who are excused."),
    )
    panel = CodeChoiceField(
        label=_("Panel"),
        queryset=Panel.objects.none(),
        to_field_name="code",
        required=False,
        empty_label=_("The agency's current panel"),
    )
    screen_negative_closes = forms.BooleanField(
        label=_("A negative on-site screen closes the test"), required=False
    )
    depends_on = CampaignChoiceField(
        label=_("Starts after"),
        queryset=Campaign.objects.none(),
        to_field_name="code",
        required=False,
        empty_label=_("No other campaign"),
        help_text=_("This campaign may start only once that one is complete."),
    )

    EDITABLE = services.CAMPAIGN_EDITABLE

    def __init__(self, *args, user, campaign: Campaign | None = None, **kwargs):
        self.user = user
        self.campaign = campaign
        if campaign is not None:
            kwargs.setdefault("initial", self.initial_for(campaign))
        else:
            today = timezone.localdate()
            kwargs.setdefault(
                "initial",
                {
                    "starts_on": today,
                    "ends_on": today.replace(month=12, day=31),
                    "mode": Campaign.Mode.RANDOM,
                    "target_coverage_percent": Decimal("50"),
                    "alternates": 0,
                },
            )
        super().__init__(*args, **kwargs)
        if campaign is not None:
            del self.fields["code"]
        self.fields["name_km"].widget.attrs["lang"] = "km"
        units = units_where_user_may_organise(user)
        if campaign is not None and not units.filter(pk=campaign.unit_id).exists():
            units = Unit.objects.filter(pk=campaign.unit_id) | units
        self.fields["unit"].queryset = units
        self.fields["provinces"].queryset = org_selectors.provinces()
        self.fields["panel"].queryset = Panel.objects.order_by("code")
        others = selectors.campaigns_for(user).exclude(state=Campaign.State.CANCELLED)
        if campaign is not None:
            others = others.exclude(pk=campaign.pk)
        self.fields["depends_on"].queryset = others.order_by("code")

    @classmethod
    def initial_for(cls, campaign: Campaign) -> dict:
        initial = {name: getattr(campaign, name) for name in cls.EDITABLE}
        initial["unit"] = campaign.unit.code
        initial["panel"] = campaign.panel.code if campaign.panel_id else None
        initial["depends_on"] = campaign.depends_on.code if campaign.depends_on_id else None
        initial["scope_units"] = " ".join(
            campaign.scope_units.order_by("code").values_list("code", flat=True)
        )
        initial["provinces"] = list(campaign.provinces.values_list("code", flat=True))
        return initial

    def clean_code(self):
        return self.cleaned_data["code"].strip()

    def clean_scope_units(self):
        codes = [c for c in _CODES.split(self.cleaned_data["scope_units"].strip()) if c]
        codes = list(dict.fromkeys(codes))
        if not codes:
            return []
        found = {u.code: u for u in Unit.objects.filter(code__in=codes)}
        missing = [c for c in codes if c not in found]
        if missing:
            raise ValidationError(
                _("No unit with code %(codes)s."), params={"codes": ", ".join(missing)}
            )
        return [found[c] for c in codes]

    def clean(self):
        cleaned = super().clean()
        starts, ends = cleaned.get("starts_on"), cleaned.get("ends_on")
        if starts and ends and ends < starts:
            self.add_error("ends_on", _("The campaign cannot end before it starts."))
        unit = cleaned.get("unit")
        if unit is not None:
            for other in cleaned.get("scope_units") or []:
                if not other.path.startswith(unit.path):
                    self.add_error(
                        "scope_units",
                        _("Unit %(code)s is not under the organising unit.") % {"code": other.code},
                    )
        if cleaned.get("mode") == Campaign.Mode.CENSUS and cleaned.get("rate_percent"):
            self.add_error("rate_percent", _("Only a random campaign has a rate per draw."))
        return cleaned

    def values(self) -> dict:
        """Keyword arguments for ``services.campaign_create``/``campaign_update``."""
        data = self.cleaned_data
        values = {name: data[name] for name in self.EDITABLE}
        values["agency"] = data["unit"].agency
        values["alternates"] = data["alternates"] or 0
        values["scope_units"] = data["scope_units"]
        values["provinces"] = list(data["provinces"])
        if "code" in self.fields:
            values["code"] = data["code"]
        return values


class CampaignCancelForm(ProgrammeForm):
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Why the campaign is cancelled; kept in the audit log."),
    )


# --- draws ----------------------------------------------------------------------------------


class DrawCommitForm(ProgrammeForm):
    seed = forms.CharField(
        label=_("Seed"),
        required=False,
        max_length=128,
        help_text=_(
            "Optional, for a public ceremony: 16 to 128 hexadecimal digits (0-9, a-f), for "
            "example from dice or a lottery. Empty: Probity chooses 64 random digits."
        ),
    )
    rate_percent = _percent(
        _("Rate for this draw (%)"), help_text=_("Empty: the campaign's rate per draw.")
    )
    sample_size = forms.IntegerField(
        label=_("Or a number of people"),
        required=False,
        min_value=1,
        max_value=10_000_000,
        help_text=_("Select exactly this many instead of a rate."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["seed"].widget.attrs.update(
            {"autocomplete": "off", "spellcheck": "false", "class": "form-control mono"}
        )

    def clean_seed(self):
        return self.cleaned_data["seed"].strip().lower()

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("rate_percent") is not None and cleaned.get("sample_size") is not None:
            self.add_error("sample_size", _("Give either a rate or a number of people, not both."))
        return cleaned


class ExcuseForm(ProgrammeForm):
    reason = forms.CharField(label=_("Reason for the excusal"), required=False, max_length=2000)


# --- panels ---------------------------------------------------------------------------------

#: The validity thresholds, in the order of the default panel, with their labels.
VALIDITY_LABELS = {
    "creatinine_substituted_below": _("Substituted: creatinine below (mg/dL)"),
    "sg_substituted_at_or_below": _("Substituted: specific gravity at or below"),
    "sg_substituted_at_or_above": _("Substituted: specific gravity at or above"),
    "creatinine_dilute_below": _("Dilute: creatinine below (mg/dL)"),
    "sg_dilute_below": _("Dilute: specific gravity below"),
    "ph_adulterated_below": _("Adulterated: pH below"),
    "ph_adulterated_at_or_above": _("Adulterated: pH at or above"),
    "ph_invalid_low_below": _("Invalid: pH below"),
    "ph_invalid_high_at_or_above": _("Invalid: pH at or above"),
    "nitrite_adulterated_at_or_above": _("Adulterated: nitrite at or above (µg/mL)"),
    "nitrite_invalid_at_or_above": _("Invalid: nitrite at or above (µg/mL)"),
}
VALIDITY_ORDER = [key for key in rules.HHS_2025_URINE["validity"] if key in VALIDITY_LABELS] + [
    key for key in sorted(rules.VALIDITY_KEYS) if key not in VALIDITY_LABELS
]


def _number_text(value) -> str:
    return str(value)


def _json_number(text: str):
    """A number as typed, for the stored definition: an integer when written without a
    decimal point, otherwise the text itself (so that 1.0010 keeps its four places)."""
    value = Decimal(text)  # raises InvalidOperation
    if not value.is_finite():
        raise InvalidOperation
    if "." not in text and "e" not in text.lower():
        return int(value)
    return text


def definition_as_text(definition: dict) -> dict:
    """The form's initial values for a definition."""
    definition = definition or {}
    groups = []
    for group in definition.get("groups", []):
        analytes = ", ".join(
            f"{a.get('code', '')}={_number_text(a.get('cutoff', ''))}"
            for a in group.get("analytes", [])
        )
        initial = _number_text(group.get("initial_cutoff", ""))
        groups.append(f"{group.get('code', '')} | {initial} | {analytes}")
    requires = [
        f"{r.get('analyte', '')} | {r.get('other', '')} | {_number_text(r.get('minimum', ''))}"
        for r in definition.get("requires") or []
    ]
    initial = {
        "concentration_unit": definition.get("unit", "ng/mL"),
        "groups": "\n".join(groups),
        "requires": "\n".join(requires),
    }
    for key, value in (definition.get("validity") or {}).items():
        initial[f"validity_{key}"] = _number_text(value)
    return initial


class PanelDefinitionForm(ProgrammeForm):
    """A panel definition without JSON: groups and rules as lines, thresholds as fields."""

    concentration_unit = forms.CharField(
        label=_("Concentration unit"), max_length=20, initial="ng/mL"
    )
    groups = forms.CharField(
        label=_("Initial tests and confirmatory analytes"),
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 10, "spellcheck": "false"}),
        help_text=_(
            "One initial test group a line: group code | initial test cutoff | each "
            "confirmatory analyte with its cutoff. For example: KET | 1000 | KET=500, NKET=500"
        ),
    )
    requires = forms.CharField(
        label=_("Analytes reported only with another"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false"}),
        help_text=_(
            "One rule a line: analyte | other analyte | minimum of the other. For example "
            "MAMP | AMP | 100: methamphetamine is positive only with amphetamine at 100 or more."
        ),
    )

    def __init__(self, *args, base_definition: dict | None = None, **kwargs):
        self.base_definition = base_definition or rules.HHS_2025_URINE
        kwargs.setdefault("initial", definition_as_text(self.base_definition))
        super().__init__(*args, **kwargs)
        for key in VALIDITY_ORDER:
            self.fields[f"validity_{key}"] = forms.CharField(
                label=VALIDITY_LABELS.get(key, key), max_length=20
            )
        self.style_widgets()
        for name in ("groups", "requires"):
            self.fields[name].widget.attrs["class"] += " mono"

    heading_fields = ()
    assignment_fields = ()

    @property
    def validity_fields(self):
        return [self[f"validity_{key}"] for key in VALIDITY_ORDER]

    @property
    def definition_fields(self):
        return [self["concentration_unit"], self["groups"], self["requires"]]

    def clean_groups(self):
        text = self.cleaned_data["groups"]
        errors = []
        groups = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            parts = [p.strip() for p in line.split("|")]
            if len(parts) != 3:
                errors.append(
                    _(
                        "Line %(n)s: write group code | initial cutoff | ANALYTE=cutoff, "
                        "ANALYTE=cutoff."
                    )
                    % {"n": number}
                )
                continue
            code, cutoff, analytes_text = parts
            group = {"code": code}
            try:
                group["initial_cutoff"] = _json_number(cutoff)
            except (InvalidOperation, ValueError):
                errors.append(
                    _("Line %(n)s: the initial cutoff %(value)s is not a number.")
                    % {"n": number, "value": cutoff or "—"}
                )
                continue
            analytes = []
            for item in [a.strip() for a in analytes_text.split(",") if a.strip()]:
                a_code, sep, a_cutoff = (p.strip() for p in item.partition("="))
                try:
                    if not sep:
                        raise InvalidOperation
                    analytes.append({"code": a_code, "cutoff": _json_number(a_cutoff)})
                except (InvalidOperation, ValueError):
                    errors.append(
                        _("Line %(n)s: write each analyte as CODE=cutoff, not %(item)s.")
                        % {"n": number, "item": item}
                    )
            group["analytes"] = analytes
            groups.append(group)
        if errors:
            raise ValidationError(errors)
        return groups

    def clean_requires(self):
        text = self.cleaned_data["requires"]
        errors = []
        rules_ = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            parts = [p.strip() for p in line.split("|")]
            try:
                if len(parts) != 3:
                    raise InvalidOperation
                rules_.append(
                    {"analyte": parts[0], "other": parts[1], "minimum": _json_number(parts[2])}
                )
            except (InvalidOperation, ValueError):
                errors.append(
                    _("Line %(n)s: write analyte | other analyte | minimum.") % {"n": number}
                )
        if errors:
            raise ValidationError(errors)
        return rules_

    def clean(self):
        cleaned = super().clean()
        for key in VALIDITY_ORDER:
            name = f"validity_{key}"
            if name in cleaned:
                try:
                    cleaned[name] = _json_number(cleaned[name].strip())
                except (InvalidOperation, ValueError):
                    self.add_error(name, _("Enter a number."))
        return cleaned

    def definition(self) -> dict:
        """The definition as the services take it (the form must be valid)."""
        data = self.cleaned_data
        definition = {
            key: value
            for key, value in self.base_definition.items()
            if key not in {"unit", "groups", "requires", "validity"}
        }
        definition["unit"] = data["concentration_unit"].strip()
        definition["groups"] = data["groups"]
        if data["requires"]:
            definition["requires"] = data["requires"]
        definition["validity"] = {key: data[f"validity_{key}"] for key in VALIDITY_ORDER}
        return definition


class PanelVersionForm(PanelDefinitionForm):
    effective_from = forms.DateField(label=_("Effective from"), widget=DateInput)
    source = forms.CharField(
        label=_("Source"),
        max_length=300,
        required=False,
        help_text=_("The regulation or decision this version follows."),
    )

    field_order = ["effective_from", "source"]

    @property
    def heading_fields(self):
        return [self["effective_from"], self["source"]]


class PanelCreateForm(PanelVersionForm):
    code = forms.CharField(label=_("Code"), max_length=40, help_text=_("For example NP-URINE-KET."))
    name_en = forms.CharField(label=_("Name in English"), max_length=200)
    name_km = forms.CharField(label=_("Name in Khmer"), max_length=200, required=False)
    specimen_type = CodeChoiceField(
        label=_("Specimen type"),
        queryset=SpecimenType.objects.filter(active=True).order_by("code"),
        to_field_name="code",
    )
    is_default = forms.BooleanField(label=_("Installation default"), required=False)
    agencies = CodeMultipleChoiceField(
        label=_("Current panel of these agencies"),
        queryset=Agency.objects.order_by("code"),
        to_field_name="code",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    field_order = ["code", "name_en", "name_km", "specimen_type", "effective_from", "source"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name_km"].widget.attrs["lang"] = "km"

    @property
    def heading_fields(self):
        return [
            self[name]
            for name in ("code", "name_en", "name_km", "specimen_type", "effective_from", "source")
        ]

    @property
    def assignment_fields(self):
        return [self["is_default"], self["agencies"]]

    def clean_code(self):
        return self.cleaned_data["code"].strip()


class PanelAssignForm(ProgrammeForm):
    agencies = CodeMultipleChoiceField(
        label=_("Agencies whose current panel this is"),
        queryset=Agency.objects.order_by("code"),
        to_field_name="code",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("An agency ticked here leaves the panel it used before."),
    )
    is_default = forms.BooleanField(
        label=_("Installation default"),
        required=False,
        help_text=_("Used by every agency that has not chosen a panel."),
    )


# --- laboratory staff -----------------------------------------------------------------------


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        full = obj.get_full_name()
        return f"{obj.username} — {full}" if full else obj.username


class LabStaffForm(ProgrammeForm):
    user = UserChoiceField(
        label=_("User"),
        queryset=User.objects.none(),
        to_field_name="username",
        help_text=_("Users who hold a laboratory role."),
    )
    laboratory = CodeChoiceField(
        label=_("Laboratory"), queryset=Laboratory.objects.none(), to_field_name="code"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        lab_roles = roles_with_permission(policies.RECEIVE)
        self.fields["user"].queryset = (
            User.objects.filter(
                is_active=True, assignments__role__in=lab_roles, assignments__revoked_at=None
            )
            .distinct()
            .order_by("username")
        )
        self.fields["laboratory"].queryset = Laboratory.objects.filter(active=True).order_by("code")
