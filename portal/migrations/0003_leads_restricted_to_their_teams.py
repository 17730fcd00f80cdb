"""A lead who is an analyst or a viewer is restricted to the teams they lead
(`portal.models.teams.restrict_leads`, from now on at every save of a team's leads): the
teams led so far are given to those leads' memberships. Reversed: nothing (a membership's
teams cannot tell which were ticked and which came from leading)."""
from django.db import migrations

RESTRICTABLE = ("analyst", "viewer")


def restrict_existing_leads(apps, schema_editor) -> None:
    team_model = apps.get_model("portal", "Team")
    membership = apps.get_model("portal", "Membership")
    for team in team_model.objects.prefetch_related("leads"):
        leads = [u.pk for u in team.leads.all()]
        for member in membership.objects.filter(organization_id=team.organization_id,
                                                user_id__in=leads, role__in=RESTRICTABLE):
            member.teams.add(team)


class Migration(migrations.Migration):

    dependencies = [
        ('portal', '0002_organization_resolution_window'),
    ]

    operations = [
        migrations.RunPython(restrict_existing_leads, migrations.RunPython.noop),
    ]
