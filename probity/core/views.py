from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader


def _error_page(request, status: int, template: str):
    if request.path_info.startswith("/api/"):
        messages = {
            400: "Bad request.",
            403: "You are not allowed to do this.",
            404: "Not found.",
            500: "Internal error; the request id identifies it in the server log.",
        }
        return JsonResponse({"detail": messages[status], "errors": []}, status=status)
    return render(request, template, status=status)


@login_not_required
def bad_request(request, exception=None):
    return _error_page(request, 400, "errors/400.html")


@login_not_required
def permission_denied(request, exception=None):
    return _error_page(request, 403, "errors/403.html")


@login_not_required
def page_not_found(request, exception=None):
    return _error_page(request, 404, "errors/404.html")


@login_not_required
def server_error(request):
    """Rendered without context processors: the database may be what failed."""
    if request.path_info.startswith("/api/"):
        return _error_page(request, 500, "errors/500.html")
    html = loader.get_template("errors/500.html").render(
        {"request_id": getattr(request, "request_id", "")}
    )
    return HttpResponseServerError(html)
