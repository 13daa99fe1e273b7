"""The API at /api/v1/: one NinjaAPI; each app contributes a router."""

from ninja import NinjaAPI

from probity.accounts.api import router as accounts_router
from probity.accounts.api_auth import TokenAuth, VerifiedSessionAuth
from probity.audit.api import router as audit_router
from probity.core.api import install_error_handlers
from probity.org.api import router as org_router
from probity.personnel.api import router as personnel_router
from probity.personnel.import_api import router as personnel_import_router
from probity.testing.api import router as testing_router

api = NinjaAPI(
    title="Probity API",
    version="1",
    description=(
        "Drug testing and integrity cases. Authenticate with `Authorization: Bearer <token>` "
        "or the browser session. Errors are `{detail, errors[]}`; lists are `{items, count}`; "
        "every POST accepts an `Idempotency-Key` header."
    ),
    auth=[TokenAuth(), VerifiedSessionAuth()],
    urls_namespace="api-v1",
)
install_error_handlers(api)

api.add_router("", accounts_router)
api.add_router("", org_router)
api.add_router("", audit_router)
api.add_router("", personnel_import_router)  # before /people/{id}
api.add_router("", personnel_router)
api.add_router("", testing_router)
