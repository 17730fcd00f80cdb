"""The admin: its site (`site`), the tenancy-scoped base classes (`base`), actions, the
paginator and local times; portal's own models are registered in `organizations`.

This `__init__` registers nothing: Django imports `portal.admin.site` (`default_site`) while it
builds `admin.site`, which runs this file first, and a registration made then would land on a
site Django throws away. `portal.apps.PortalAdminConfig.ready` imports `organizations` once
every app's admin module has been discovered.
"""
