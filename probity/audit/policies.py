"""Who may read the audit log and the access log.

The chain spans the whole installation (an entry has no unit), so reading it is given by
the auditor role (``audit.view_auditentry``) wherever the auditor is assigned; see
docs/decisions/0003-audit-log.md. The access log (who saw which sensitive record) is read
by the same people.
"""


def can_view_audit(user) -> bool:
    return user.is_authenticated and user.has_perm("audit.view_auditentry")


def can_view_access_log(user) -> bool:
    return can_view_audit(user)
