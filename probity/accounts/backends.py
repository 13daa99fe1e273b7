from django.contrib.auth.backends import ModelBackend

from probity.accounts.roles import permissions_for_roles


class RoleBackend(ModelBackend):
    """Username and password log-in; permissions come from the roles a user is assigned.

    Row-level jurisdiction is not decided here: each app's ``policies.py`` applies it.
    """

    def get_user_permissions(self, user_obj, obj=None):
        return set()

    def get_group_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        return permissions_for_roles(user_obj.roles())

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_probity_perm_cache"):
            user_obj._probity_perm_cache = permissions_for_roles(user_obj.roles())
        return user_obj._probity_perm_cache
