"""The portal's models: organisations, members, roles, API tokens, the audit log and
invitations (`tenants`); upstream environments (`environments`). Import them from here
(`portal.models`): the app's one door, through which Django finds them."""
from portal.models.environments import Environment, EnvironmentStatus
from portal.models.provider_choice import Provider
from portal.models.teams import RESTRICTABLE_ROLES, Team, TeamAgent, led_teams, restrict_leads
from portal.models.tenants import (
    API_TOKEN_PREFIX,
    INVITATION_MAX_AGE,
    INVITATION_SALT,
    ROLE_RANK,
    ApiToken,
    AuditLog,
    CallRetention,
    Invitation,
    Membership,
    Organization,
    Role,
    hash_api_token,
    validate_timezone,
)

__all__ = [
    "API_TOKEN_PREFIX", "INVITATION_MAX_AGE", "INVITATION_SALT", "ROLE_RANK", "ApiToken",
    "AuditLog", "CallRetention", "Environment", "EnvironmentStatus", "Invitation", "Membership",
    "Organization", "Provider", "RESTRICTABLE_ROLES", "Role", "Team", "TeamAgent",
    "hash_api_token", "led_teams", "restrict_leads", "validate_timezone",
]
