from django.urls import path

from probity.accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("2fa/setup/", views.two_factor_setup, name="2fa_setup"),
    path("2fa/verify/", views.two_factor_verify, name="2fa_verify"),
    path("users/", views.users, name="users"),
    path("users/new/", views.user_create, name="user_create"),
    # One segment under "user/", so that no username can collide with "users/new/".
    path("user/<str:username>/", views.user_detail, name="user_detail"),
    path("user/<str:username>/edit/", views.user_edit, name="user_edit"),
    path("user/<str:username>/password/", views.user_password, name="user_password"),
    path("user/<str:username>/active/", views.user_set_active, name="user_set_active"),
    path(
        "user/<str:username>/two-factor-reset/",
        views.user_two_factor_reset,
        name="user_2fa_reset",
    ),
    path("user/<str:username>/grant/", views.assignment_grant, name="assignment_grant"),
    path(
        "user/<str:username>/assignments/<int:pk>/revoke/",
        views.assignment_revoke,
        name="assignment_revoke",
    ),
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/new/", views.token_create, name="token_create"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
]
