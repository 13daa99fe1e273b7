"""The data migration: Cambodia's capital and 24 provinces, and their districts."""

import re

import pytest

from probity.org.models import District, Province

pytestmark = pytest.mark.django_db

KHMER = re.compile(r"^[\u1780-\u17FF\u19E0-\u19FF\u200b ]+$")


def test_the_capital_and_24_provinces():
    provinces = list(Province.objects.order_by("mef_code"))
    assert len(provinces) == 25
    assert [p.code for p in provinces] == [f"KH-{n}" for n in range(1, 26)]
    assert [p.mef_code for p in provinces] == [f"{n:02d}" for n in range(1, 26)]
    for province in provinces:
        assert province.name_en
        assert KHMER.match(province.name_km), province.code
    capital = Province.objects.get(code="KH-12")
    assert (capital.name_en, capital.name_km) == ("Phnom Penh", "រាជធានីភ្នំពេញ")
    assert Province.objects.get(code="KH-17").name_km == "សៀមរាប"


def test_districts_are_loaded_with_khmer_names():
    assert District.objects.count() >= 190
    for province in Province.objects.all():
        assert province.districts.exists(), province.code
    for district in District.objects.select_related("province"):
        assert district.name_en.strip() == district.name_en and district.name_en
        assert KHMER.match(district.name_km), district.code
        assert district.code.startswith(district.province.mef_code)
    assert District.objects.filter(province__code="KH-12").count() == 14
