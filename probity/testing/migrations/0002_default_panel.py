"""Specimen types and the default panel: HHS 2025 urine (DOMAIN.md §1), as data.

The definition is copied here, not imported from ``rules``, so that this migration means
the same thing forever even if the module's constant changes later.
"""

import datetime

from django.db import migrations

HHS_2025_URINE = {
    "unit": "ng/mL",
    "groups": [
        {"code": "THC", "initial_cutoff": 50, "analytes": [{"code": "THCC", "cutoff": 15}]},
        {"code": "BZE", "initial_cutoff": 150, "analytes": [{"code": "BZE", "cutoff": 100}]},
        {
            "code": "COD/MOR",
            "initial_cutoff": 2000,
            "analytes": [{"code": "COD", "cutoff": 2000}, {"code": "MOR", "cutoff": 4000}],
        },
        {
            "code": "HYC/HYM",
            "initial_cutoff": 300,
            "analytes": [{"code": "HYC", "cutoff": 100}, {"code": "HYM", "cutoff": 100}],
        },
        {
            "code": "OXYC/OXYM",
            "initial_cutoff": 100,
            "analytes": [{"code": "OXYC", "cutoff": 100}, {"code": "OXYM", "cutoff": 100}],
        },
        {"code": "6-AM", "initial_cutoff": 10, "analytes": [{"code": "6-AM", "cutoff": 10}]},
        {"code": "PCP", "initial_cutoff": 25, "analytes": [{"code": "PCP", "cutoff": 25}]},
        {
            "code": "FENT",
            "initial_cutoff": 1,
            "analytes": [{"code": "FENT", "cutoff": 1}, {"code": "NFENT", "cutoff": 1}],
        },
        {
            "code": "AMP/MAMP",
            "initial_cutoff": 500,
            "analytes": [{"code": "AMP", "cutoff": 250}, {"code": "MAMP", "cutoff": 250}],
        },
        {
            "code": "MDMA/MDA",
            "initial_cutoff": 500,
            "analytes": [{"code": "MDMA", "cutoff": 250}, {"code": "MDA", "cutoff": 250}],
        },
    ],
    "requires": [{"analyte": "MAMP", "other": "AMP", "minimum": 100}],
    "validity": {
        "creatinine_substituted_below": 2,
        "sg_substituted_at_or_below": "1.0010",
        "sg_substituted_at_or_above": "1.0200",
        "creatinine_dilute_below": 20,
        "sg_dilute_below": "1.0030",
        "ph_adulterated_below": 4,
        "ph_adulterated_at_or_above": 11,
        "ph_invalid_low_below": "4.5",
        "ph_invalid_high_at_or_above": 9,
        "nitrite_adulterated_at_or_above": 500,
        "nitrite_invalid_at_or_above": 200,
    },
}

SPECIMEN_TYPES = [
    # code, English, Khmer, minimum mL, temperature checked, splittable, in use
    ("urine", "Urine", "ទឹកនោម", 45, True, True, True),
    ("oral_fluid", "Oral fluid", "ទឹកមាត់", None, False, True, False),
    ("hair", "Hair", "សក់", None, False, True, False),
]


def load(apps, schema_editor):
    SpecimenType = apps.get_model("testing", "SpecimenType")
    Panel = apps.get_model("testing", "Panel")
    PanelVersion = apps.get_model("testing", "PanelVersion")
    for code, name_en, name_km, minimum, temperature, splittable, active in SPECIMEN_TYPES:
        SpecimenType.objects.update_or_create(
            code=code,
            defaults={
                "name_en": name_en,
                "name_km": name_km,
                "minimum_volume_ml": minimum,
                "temperature_check": temperature,
                "splittable": splittable,
                "active": active,
            },
        )
    urine = SpecimenType.objects.get(code="urine")
    panel, _ = Panel.objects.get_or_create(
        code="HHS-2025-URINE",
        defaults={
            "name_en": "HHS 2025 urine panel",
            "name_km": "បន្ទះតេស្តទឹកនោម HHS ២០២៥",
            "specimen_type": urine,
            "is_default": True,
        },
    )
    PanelVersion.objects.get_or_create(
        panel=panel,
        version=1,
        defaults={
            "effective_from": datetime.date(2025, 7, 7),
            "definition": HHS_2025_URINE,
            "source": "HHS Mandatory Guidelines for Federal Workplace Drug Testing (urine), "
            "effective 7 July 2025, 90 FR 4662",
        },
    )


class Migration(migrations.Migration):
    dependencies = [("testing", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
