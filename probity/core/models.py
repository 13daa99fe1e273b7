from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class BilingualNameMixin(models.Model):
    """A name in English (Latin script) and Khmer; ``name`` follows the active language."""

    name_en = models.CharField(_("name (English)"), max_length=200)
    name_km = models.CharField(_("name (Khmer)"), max_length=200, blank=True)

    class Meta:
        abstract = True

    @property
    def name(self) -> str:
        if (get_language() or "").startswith("km") and self.name_km:
            return self.name_km
        return self.name_en


class IdempotencyRecord(models.Model):
    """The first answer to an API ``POST`` made with an ``Idempotency-Key``.

    A repeat of the same key by the same caller with the same body gets this answer again
    and changes nothing; a repeat with another body is refused.
    """

    caller = models.CharField(max_length=100)
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    body_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)
    content_type = models.CharField(max_length=100, blank=True)
    response_body = models.BinaryField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["caller", "key"], name="core_idempotency_unique_key")
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}]"


__all__ = ["BilingualNameMixin", "IdempotencyRecord", "settings"]
