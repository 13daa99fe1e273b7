"""Agencies, their organisation trees, ranks, laboratories, provinces and districts."""

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from probity.core.models import BilingualNameMixin

code_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
    _("Use letters, digits, dots, dashes and underscores only."),
)


class Province(BilingualNameMixin):
    """Cambodia's capital and 24 provinces (ISO 3166-2:KH)."""

    code = models.CharField(_("ISO 3166-2 code"), max_length=10, unique=True)
    mef_code = models.CharField(_("finance-ministry code"), max_length=4, unique=True)

    class Meta:
        ordering = ["mef_code"]
        verbose_name = _("province")

    def __str__(self) -> str:
        return self.name


class District(BilingualNameMixin):
    code = models.CharField(_("code"), max_length=10, unique=True)
    province = models.ForeignKey(Province, on_delete=models.PROTECT, related_name="districts")

    class Meta:
        ordering = ["code"]
        verbose_name = _("district")

    def __str__(self) -> str:
        return self.name


class Agency(BilingualNameMixin):
    class Kind(models.TextChoices):
        POLICE = "police", _("Police")
        MILITARY_POLICE = "military_police", _("Military police")
        ARMED_FORCES = "armed_forces", _("Armed forces")
        PRISONS = "prisons", _("Prisons")
        CIVIL_SERVICE = "civil_service", _("Civil service")

    code = models.CharField(_("code"), max_length=20, unique=True, validators=[code_validator])
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)

    class Meta:
        ordering = ["code"]
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")

    def __str__(self) -> str:
        return self.name


class Unit(BilingualNameMixin):
    """A node of an agency's organisation tree.

    ``path`` is the materialised path of primary keys from the root (``/1/5/23/``), so that a
    subtree is one indexed ``startswith`` filter. It is maintained by ``org.services``.
    """

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="units")
    code = models.CharField(_("code"), max_length=40, unique=True, validators=[code_validator])
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent unit"),
    )
    path = models.CharField(max_length=255, db_index=True, editable=False, default="")
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    province = models.ForeignKey(
        Province, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("province")
    )
    district = models.ForeignKey(
        District, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("district")
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["path"]
        verbose_name = _("unit")

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def clean(self):
        errors = {}
        if self.parent_id and self.parent.agency_id != self.agency_id:
            errors["parent"] = _("A unit's parent must belong to the same agency.")
        if self.district_id and self.province_id and self.district.province_id != self.province_id:
            errors["district"] = _("The district is not in the unit's province.")
        if self.pk and self.parent_id and f"/{self.pk}/" in (self.parent.path or ""):
            errors["parent"] = _("A unit cannot be placed under itself or its own sub-units.")
        if errors:
            raise ValidationError(errors)

    def is_within(self, other: "Unit") -> bool:
        return self.path.startswith(other.path)

    def ancestors(self):
        ids = [int(part) for part in self.path.strip("/").split("/") if part]
        return Unit.objects.filter(pk__in=ids).order_by("depth")

    def descendants(self, include_self: bool = True):
        qs = Unit.objects.filter(path__startswith=self.path)
        return qs if include_self else qs.exclude(pk=self.pk)


class Rank(BilingualNameMixin):
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="ranks")
    code = models.CharField(_("code"), max_length=20, validators=[code_validator])
    order = models.PositiveSmallIntegerField(_("order"), default=0, help_text=_("Higher is senior"))

    class Meta:
        ordering = ["agency", "-order"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "code"], name="org_rank_unique_code")
        ]

    def __str__(self) -> str:
        return self.name


class Laboratory(BilingualNameMixin):
    code = models.CharField(_("code"), max_length=20, unique=True, validators=[code_validator])
    accreditation = models.CharField(_("accreditation"), max_length=200, blank=True)
    contact = models.CharField(_("contact"), max_length=300, blank=True)
    province = models.ForeignKey(Province, on_delete=models.PROTECT, null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("laboratory")
        verbose_name_plural = _("laboratories")

    def __str__(self) -> str:
        return self.name
