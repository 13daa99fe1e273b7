from ninja import Router, Schema

router = Router(tags=["accounts"])


class AssignmentOut(Schema):
    role: str
    role_name: str
    unit: str
    unit_name: str


class MeOut(Schema):
    username: str
    name: str
    is_superuser: bool
    roles: list[str]
    assignments: list[AssignmentOut]


@router.get("/me", response=MeOut, summary="Who am I: the caller's roles and assignments")
def me(request):
    user = request.user
    return {
        "username": user.get_username(),
        "name": user.get_full_name(),
        "is_superuser": user.is_superuser,
        "roles": sorted(user.roles()),
        "assignments": [
            {
                "role": a.role,
                "role_name": str(a.get_role_display()),
                "unit": a.unit.code,
                "unit_name": a.unit.name,
            }
            for a in user.active_assignments()
        ],
    }
