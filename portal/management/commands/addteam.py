"""addteam SLUG NAME --agent ENV_ID:AGENT_ID … [--lead USERNAME …]"""
from __future__ import annotations

from django.core.management.base import CommandError
from django.db import transaction
from django.utils.translation import gettext as _

from portal import audit
from portal.management.organization_command import OrganizationCommand
from portal.models import Environment, Membership, Team, TeamAgent, restrict_leads


def parse_agent(text: str) -> tuple[int, str]:
    """`ENV_ID:AGENT_ID` (the agent's upstream id, as the Talkover-compatible API shows it)."""
    env, sep, agent = text.partition(":")
    if not sep or not env.strip().isdigit() or not agent.strip():
        raise CommandError(_("--agent takes ENV_ID:AGENT_ID, not %(value)r.") % {"value": text})
    return int(env), agent.strip()


class Command(OrganizationCommand):
    help = _("Create or update a team: a set of agents across an organisation's environments, "
             "and its leads.")

    def add_arguments(self, parser) -> None:
        super().add_arguments(parser)
        parser.add_argument("name", help=_("The team's name."))
        parser.add_argument("--agent", action="append", default=[], metavar="ENV_ID:AGENT_ID",
                            help=_("An agent of the team (repeatable): our environment id and "
                                   "the upstream agent id."))
        parser.add_argument("--lead", action="append", default=[], metavar="USERNAME",
                            help=_("A lead of the team, a member of the organisation "
                                   "(repeatable)."))

    @transaction.atomic
    def handle(self, slug: str, name: str, agent: list[str], lead: list[str], **options) -> None:
        org = self.organization(slug)
        name = name.strip()
        if not name or len(name) > 100:
            raise CommandError(_("A team's name has 1 to 100 characters."))
        pairs = [parse_agent(a) for a in agent]
        envs = set(Environment.objects.for_organization(org).values_list("pk", flat=True))
        for env, _agent in pairs:
            if env not in envs:
                raise CommandError(_("Environment %(env)s is not one of %(org)s's.")
                                   % {"env": env, "org": org.slug})
        members = {m.user.username: m.user for m in Membership.objects.for_organization(org)
                   .select_related("user").filter(user__username__in=lead)}
        unknown = [u for u in lead if u not in members]
        if unknown:
            raise CommandError(_("Not members of %(org)s: %(users)s.")
                               % {"org": org.slug, "users": ", ".join(unknown)})
        team, new = Team.objects.get_or_create(organization=org, name=name)
        if pairs:
            TeamAgent.objects.filter(team=team).delete()
            TeamAgent.objects.bulk_create([TeamAgent(team=team, environment_id=env,
                                                     agent_external_id=a)
                                           for env, a in dict.fromkeys(pairs)])
        if lead:
            before = set(team.leads.values_list("pk", flat=True))
            team.leads.set(members.values())
            restrict_leads(team, before)  # an analyst or viewer who leads it sees only it
        audit.record("team.created" if new else "team.changed", organization=org, target=team,
                     name=name, agents=[f"{e}:{a}" for e, a in pairs], leads=lead)
        message = _("Created team %(name)s in %(org)s with %(agents)d agent(s).") if new else \
            _("Updated team %(name)s in %(org)s: %(agents)d agent(s).")
        self.stdout.write(message % {"name": name, "org": org.slug,
                                     "agents": team.agents.count()})
