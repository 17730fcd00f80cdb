"""Settings → Teams: an organisation's teams (agents across its environments, leads), and
which teams restrict each member (owners and admins only).

A team's agents are chosen among the mirrored agents of the organisation's environments,
named by their upstream id (`portal.models.teams`). A member given teams sees only those
teams' agents and calls, everywhere (`portal.tenancy.restriction`); owners and admins are
never restricted.
"""
from __future__ import annotations

from django import forms
from django.contrib import messages
from django.db import transaction
from django.db.models import ProtectedError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal import audit
from portal.models import (
    RESTRICTABLE_ROLES,
    Membership,
    Role,
    Team,
    TeamAgent,
    led_teams,
    restrict_leads,
)
from portal.pages.pages import render_org_page
from portal.tenancy.access import WRITE_METHODS, Tenant, org_page


def _agent_choices(request: HttpRequest) -> list[tuple[str, str]]:
    """`ENV_ID:AGENT_ID` of every mirrored agent of the organisation, labelled."""
    from django.apps import apps

    agent = apps.get_model("sync", "Agent")  # portal imports nothing of sync's at import time
    rows = request.tenant.scoped(agent).select_related("environment").order_by(
        "environment__name", "name")
    return [(f"{a.environment_id}:{a.external_id}",
             f"{a.environment.name} · {a.name or a.external_id} ({a.external_id})") for a in rows]


class TeamForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    agents = forms.MultipleChoiceField(label=gettext_lazy("Agents"), required=False,
                                       widget=forms.CheckboxSelectMultiple)
    leads = forms.MultipleChoiceField(label=gettext_lazy("Leads"), required=False,
                                      widget=forms.CheckboxSelectMultiple,
                                      help_text=gettext_lazy("Leads get the team's alerts."))

    def __init__(self, *args, request: HttpRequest, team: Team | None = None, **kwargs) -> None:
        if team is not None and not args and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": team.name, "leads": [str(u) for u in team.leads.values_list("pk",
                                                                                   flat=True)],
                "agents": [f"{a.environment_id}:{a.agent_external_id}"
                           for a in team.agents.all()]}
        super().__init__(*args, **kwargs)
        self.team, self.request = team, request
        self.fields["agents"].choices = _agent_choices(request)
        self.fields["leads"].choices = [
            (str(m.user_id), m.user.get_username())
            for m in request.tenant.scoped(Membership).select_related("user").order_by(
                "user__username")]
        self.fields["leads"].help_text = gettext_lazy(
            "Leads get the team's alerts; an analyst or viewer who leads it sees only its "
            "agents (as if restricted to it under Members).")

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        taken = self.request.tenant.scoped(Team).filter(name__iexact=name)
        if self.team is not None:
            taken = taken.exclude(pk=self.team.pk)
        if taken.exists():
            raise forms.ValidationError(_("A team named %(name)s exists: change it with its "
                                          "Edit link.") % {"name": name})
        return name

    def save(self, organization) -> tuple[Team, bool]:
        """Create the team, or change the one being edited (name, agents, leads)."""
        data = self.cleaned_data
        with transaction.atomic():
            new = self.team is None
            team = self.team or Team(organization=organization)
            before = set() if new else set(team.leads.values_list("pk", flat=True))
            team.name = data["name"]
            team.save()
            TeamAgent.objects.filter(team=team).delete()
            TeamAgent.objects.bulk_create([
                TeamAgent(team=team, environment_id=int(value.partition(":")[0]),
                          agent_external_id=value.partition(":")[2])
                for value in data["agents"]])
            team.leads.set([int(u) for u in data["leads"]])
            restrict_leads(team, before)
        return team, new


class MemberTeamsForm(forms.Form):
    teams = forms.ModelMultipleChoiceField(queryset=Team.objects.none(), required=False,
                                           label=gettext_lazy("Teams"),
                                           widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, request: HttpRequest, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["teams"].queryset = request.tenant.scoped(Team).order_by("name")


@org_page(Role.ADMIN, WRITE_METHODS)
def team_list(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    org = tenant.organization
    form = TeamForm(request.POST or None, request=request)
    if request.method == "POST" and form.is_valid():
        return _saved(request, form, org)
    teams = tenant.scoped(Team).prefetch_related("agents", "leads", "members__user")
    labels = dict(form.fields["agents"].choices)
    rows = [(t, [labels.get(f"{a.environment_id}:{a.agent_external_id}",
                            f"{a.environment_id}:{a.agent_external_id}") for a in t.agents.all()])
            for t in teams.order_by("name")]
    return render_org_page(request, org, "portal/settings/teams.html",
                           {"rows": rows, "form": form}, status=400 if form.errors else 200)


def _saved(request: HttpRequest, form: TeamForm, org) -> HttpResponse:
    team, new = form.save(org)
    agents = form.cleaned_data["agents"]
    audit.record("team.created" if new else "team.changed", actor=request.user,
                 organization=org, target=team, name=team.name, agents=agents)
    messages.success(request, _("Team %(name)s saved with %(count)d agent(s).")
                     % {"name": team.name, "count": len(agents)})
    return redirect("settings-teams", org.slug)


@org_page(Role.ADMIN, WRITE_METHODS)
def team_edit(request: HttpRequest, tenant: Tenant, team_id: int) -> HttpResponse:
    """One team changed in place: its name, agents and leads."""
    org = tenant.organization
    team = tenant.get(Team, pk=team_id)
    form = TeamForm(request.POST or None, request=request, team=team)
    if request.method == "POST" and form.is_valid():
        return _saved(request, form, org)
    return render_org_page(request, org, "portal/settings/team_edit.html",
                           {"team": team, "form": form}, status=400 if form.errors else 200)


@org_page(Role.ADMIN, ("POST",))
def team_delete(request: HttpRequest, tenant: Tenant, team_id: int) -> HttpResponse:
    org = tenant.organization
    team = tenant.get(Team, pk=team_id)
    try:
        team.delete()
    except ProtectedError:
        messages.error(request, _("A report subscription sends this team's figures: change it "
                                  "first."))
    else:
        audit.record("team.deleted", actor=request.user, organization=org, name=team.name)
        messages.success(request, _("Team %(name)s deleted.") % {"name": team.name})
    return redirect("settings-teams", org.slug)


@org_page(Role.ADMIN, ("POST",))
def member_teams(request: HttpRequest, tenant: Tenant, member_id: int) -> HttpResponse:
    org = tenant.organization
    member = tenant.get(Membership, pk=member_id)
    form = MemberTeamsForm(request.POST, request=request, prefix=f"t{member.pk}")
    if not form.is_valid():
        messages.error(request, _("Choose among the listed teams."))
    elif form.cleaned_data["teams"] and member.role not in RESTRICTABLE_ROLES:
        messages.error(request, _("Only an analyst or a viewer can be restricted to teams."))
    else:
        set_member_teams(request, member, form.cleaned_data["teams"])
    return redirect("settings-members", org.slug)


def set_member_teams(request: HttpRequest, member: Membership, chosen) -> None:
    """Restrict `member` to the chosen teams and those they lead (a restrictable lead is
    restricted to what they lead: `portal.models.teams.restrict_leads`), audited, said."""
    teams = {*chosen, *led_teams(member)}
    before = set(member.teams.all())
    if teams == before:
        return
    member.teams.set(teams)
    names = sorted(t.name for t in teams)
    audit.record("member.teams_changed", actor=request.user, organization=member.organization,
                 target=member, teams=names)
    messages.success(request, _("%(user)s now sees %(scope)s.") % {
        "user": member.user.get_username(),
        "scope": ", ".join(names) if names else _("the whole organisation")})
