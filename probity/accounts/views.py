from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse
from django.utils.decorators import method_decorator


@method_decorator(login_not_required, name="dispatch")
class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


def two_factor_setup(request):  # replaced by the accounts work
    return HttpResponse("two-factor set-up")


def two_factor_verify(request):  # replaced by the accounts work
    return HttpResponse("two-factor verify")


def users(request):  # replaced by the accounts work
    return HttpResponse("users")


def tokens(request):  # replaced by the accounts work
    return HttpResponse("tokens")
