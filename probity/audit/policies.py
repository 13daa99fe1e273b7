"""Who may read the audit log.

The chain spans the whole installation (an entry has no unit), so reading it is given by
the auditor role (``audit.view_auditentry``) wherever the auditor is assigned; see
docs/decisions/0003-audit-log.md.
"""


def can_view_audit(user) -> bool:
    return user.is_authenticated and user.has_perm("audit.view_auditentry")
