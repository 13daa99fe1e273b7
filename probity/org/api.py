"""The organisation API: units, laboratories, agencies, ranks, provinces; always scoped."""

from ninja import Router, Schema
from ninja.pagination import paginate

from probity.core.api import ApiError, LimitOffsetPagination
from probity.org import policies, selectors

router = Router(tags=["organisation"])


class UnitOut(Schema):
    code: str
    name: str
    name_en: str
    name_km: str
    agency: str
    parent: str | None
    province: str | None
    district: str | None
    depth: int
    active: bool
    child_count: int | None = None

    @staticmethod
    def resolve_agency(obj):
        return obj.agency.code

    @staticmethod
    def resolve_parent(obj):
        return obj.parent.code if obj.parent_id else None

    @staticmethod
    def resolve_province(obj):
        return obj.province.code if obj.province_id else None

    @staticmethod
    def resolve_district(obj):
        return obj.district.code if obj.district_id else None


class LaboratoryOut(Schema):
    code: str
    name: str
    name_en: str
    name_km: str
    accreditation: str
    contact: str
    province: str | None
    active: bool

    @staticmethod
    def resolve_province(obj):
        return obj.province.code if obj.province_id else None


class AgencyOut(Schema):
    code: str
    name: str
    name_en: str
    name_km: str
    kind: str


class RankOut(Schema):
    code: str
    name: str
    name_en: str
    name_km: str
    agency: str
    order: int

    @staticmethod
    def resolve_agency(obj):
        return obj.agency.code


class ProvinceOut(Schema):
    code: str
    mef_code: str
    name: str
    name_en: str
    name_km: str


@router.get("/units", response=list[UnitOut], summary="Units within the caller's jurisdiction")
@paginate(LimitOffsetPagination)
def list_units(request, agency: str = "", parent: str = "", q: str = "", province: str = ""):
    return selectors.units_for(request.user, agency=agency, parent=parent, q=q, province=province)


@router.get("/units/{code}", response=UnitOut, summary="One unit")
def get_unit(request, code: str):
    unit = selectors.unit_get(request.user, code)
    if unit is None:
        raise ApiError(404, f"No unit with code {code!r} within your jurisdiction.")
    return unit


@router.get(
    "/units/{code}/children",
    response=list[UnitOut],
    summary="The direct sub-units of one unit",
)
@paginate(LimitOffsetPagination)
def list_unit_children(request, code: str):
    unit = selectors.unit_get(request.user, code)
    if unit is None:
        raise ApiError(404, f"No unit with code {code!r} within your jurisdiction.")
    return selectors.unit_children(request.user, unit)


@router.get("/laboratories", response=list[LaboratoryOut], summary="Laboratories")
@paginate(LimitOffsetPagination)
def list_laboratories(request):
    if not policies.can_view_laboratories(request.user):
        raise ApiError(403, "Your roles do not include viewing laboratories.")
    return selectors.laboratories_for(request.user)


@router.get("/agencies", response=list[AgencyOut], summary="Agencies with units you can see")
@paginate(LimitOffsetPagination)
def list_agencies(request):
    return selectors.agencies_for(request.user)


@router.get("/ranks", response=list[RankOut], summary="Ranks of the agencies you can see")
@paginate(LimitOffsetPagination)
def list_ranks(request, agency: str = ""):
    return selectors.ranks_for(request.user, agency=agency)


@router.get("/provinces", response=list[ProvinceOut], summary="Cambodia's capital and provinces")
@paginate(LimitOffsetPagination)
def list_provinces(request):
    return selectors.provinces()
