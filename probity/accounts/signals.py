"""Audit events that Django and django-axes announce by signal.

Successful log-ins and log-outs are recorded by the log-in and log-out views (so that the
test client's ``force_login`` writes nothing); refused log-ins can come from any caller of
``authenticate()``, so they are recorded here.
"""

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver

from probity.accounts import services


@receiver(user_login_failed, dispatch_uid="probity.accounts.login_failed")
def record_login_failed(sender, credentials=None, request=None, **kwargs):
    # ``credentials`` has the password already masked; only the username is kept.
    username = str((credentials or {}).get("username") or "")
    services.login_failure_record(username=username)


@receiver(user_locked_out, dispatch_uid="probity.accounts.locked_out")
def record_locked_out(sender, request=None, username=None, ip_address=None, **kwargs):
    services.lockout_record(username=str(username or ""))
