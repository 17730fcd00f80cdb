"""Forms of the settings pages. Tokens are write-only: inputs never render a value back."""
from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from portal import upstream_check, upstream_url
from portal.models import Environment, Membership, Organization, Role
from portal.providers import ProviderSpec, labels_having, spec_for
from portal.tenancy import registry as tenancy


def parse_agent_ids(raw: str, provider: str | None) -> list:
    """Agent ids from "12, 34" (commas or semicolons), each as `provider` names them (its
    spec's `parse_agent_id`); a clear error otherwise."""
    parse = spec_for(provider or "").parse_agent_id
    ids = []
    for part in raw.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            ids.append(parse(part) if parse is not None else part)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None
    return list(dict.fromkeys(ids))  # a repeated id would be fetched twice


def agent_ids_help() -> str:
    """The agent ids field's help: which providers need them."""
    return _("For %(providers)s only (its agents cannot be listed): the agent ids to mirror, "
             "separated by commas.") % {"providers": labels_having("agent_ids")}


def agent_ids_required(spec: ProviderSpec) -> str:
    return _("%(provider)s environments need at least one agent id.") % {
        "provider": spec.label}


def test_connection(form: forms.Form, provider: str | None, raw_url: str, token: str,
                    agent_ids: list[int]) -> None:
    """Run the connection test for a form about to save an environment.

    A failure lands on the field it is about (token, base URL, agent ids), so nothing is
    saved and the user sees where to look; success is kept for the page's message.
    """
    if form.errors or not provider or not token:
        return
    try:
        url = upstream_url.effective(provider, upstream_url.normalise(provider, raw_url))
    except forms.ValidationError:
        return  # the model's own validation reports the address
    result = upstream_check.run(provider, url, token, agent_ids)
    if not result.ok:
        field = result.field if result.field in form.fields else None
        form.add_error(field, result.message)
    form.connection_message = result.message


class TokenField(forms.CharField):
    """A secret input that is never rendered back to the browser."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("widget", forms.PasswordInput(render_value=False,
                                                        attrs={"autocomplete": "off"}))
        kwargs.setdefault("strip", True)
        super().__init__(**kwargs)


# Ten years: more than any upstream keeps, and a bound on a back-fill's plan.
MAX_BACKFILL_DAYS = 3650


class EnvironmentForm(forms.ModelForm):
    """Add an environment: its token is entered once and only its hint is shown afterwards."""

    token = TokenField(label=_("API token"),
                       help_text=_("Stored encrypted; it will not be shown again."))
    agent_ids = forms.CharField(label=_("Agent ids"), required=False)

    class Meta:
        model = Environment
        fields = ["name", "provider", "base_url", "sync_interval_minutes", "backfill_days"]
        labels = {"name": _("Name"), "provider": _("Provider"), "base_url": _("Base URL"),
                  "sync_interval_minutes": _("Sync every (minutes)"),
                  "backfill_days": _("Back-fill (days)")}
        help_texts = {"base_url": _("Leave empty for the provider's default API address."),
                      "backfill_days": _("How many days of history the mirror keeps reading "
                                         "back to. A back-fill of another number of days "
                                         "makes it that number.")}

    def __init__(self, *args, organization: Organization, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.instance.organization = organization
        self.fields["backfill_days"].required = False
        self.fields["agent_ids"].help_text = agent_ids_help()

    def clean_backfill_days(self) -> int:
        days = self.cleaned_data.get("backfill_days")
        if days is None:  # left empty: the default
            return Environment._meta.get_field("backfill_days").get_default()
        if not 1 <= days <= MAX_BACKFILL_DAYS:
            raise forms.ValidationError(
                _("Give a number of days from 1 to %(max)s.") % {"max": MAX_BACKFILL_DAYS})
        return days

    def clean_agent_ids(self) -> list:
        return parse_agent_ids(self.cleaned_data.get("agent_ids", ""),
                               self.cleaned_data.get("provider"))

    def clean(self) -> dict:
        data = super().clean()
        spec = spec_for(data.get("provider") or "")
        if spec.agent_ids and not data.get("agent_ids") and "agent_ids" not in self.errors:
            self.add_error("agent_ids", agent_ids_required(spec))
        name = data.get("name")
        org = self.instance.organization
        if name and Environment.objects.for_organization(org).filter(name=name).exists():
            self.add_error("name", _("This organisation already has an environment named so."))
        test_connection(self, data.get("provider"), data.get("base_url") or "",
                        data.get("token") or "", data.get("agent_ids") or [])
        return data

    def save(self, commit: bool = True) -> Environment:
        env = super().save(commit=False)
        env.set_token(self.cleaned_data["token"])
        if self.cleaned_data.get("agent_ids"):
            env.provider_settings = {"agent_ids": self.cleaned_data["agent_ids"]}
        if commit:
            env.save()
        return env


class AgentIdsForm(forms.Form):
    """Edit the agent ids an environment mirrors (a provider whose agents cannot be listed)."""

    agent_ids = forms.CharField(
        label=_("Agent ids"), help_text=_("The agent ids to mirror, separated by commas."))

    def __init__(self, *args, provider: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.provider = provider

    def clean_agent_ids(self) -> list:
        ids = parse_agent_ids(self.cleaned_data.get("agent_ids", ""), self.provider)
        if not ids:
            raise forms.ValidationError(_("Give at least one agent id."))
        return ids


class ReplaceTokenForm(forms.Form):
    token = TokenField(label=_("New API token"),
                       help_text=_("Replaces the current token; the sync resumes with it."))


class DeleteEnvironmentForm(forms.Form):
    KEEP, ERASE = "keep", "erase"
    mirrored_data = forms.ChoiceField(
        label=_("Mirrored calls and statistics"),
        widget=forms.RadioSelect,
        choices=[
            (KEEP, _("Keep them for reports: disconnect the environment and erase its token")),
            (ERASE, _("Delete them too: remove the environment and everything mirrored")),
        ],
    )
    confirm_name = forms.CharField(label=_("Type the environment's name to confirm"))

    def __init__(self, *args, environment: Environment, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.environment = environment

    def clean_confirm_name(self) -> str:
        value = self.cleaned_data["confirm_name"].strip()
        if value != self.environment.name:
            raise forms.ValidationError(_("The name does not match “%(name)s”."),
                                        params={"name": self.environment.name})
        return value


def assignable_roles(actor: Membership) -> list[tuple[str, str]]:
    """Owners may grant any role; admins every role below owner."""
    is_owner = actor.has_role(Role.OWNER)
    return [(v, label) for v, label in Role.choices if is_owner or v != Role.OWNER]


def choices_of(form: forms.Form, organization: Organization) -> None:
    """A form's `environments` and `members` choices: the organisation's own (the tenancy
    registry's door), members shown with their address."""
    form.fields["environments"].queryset = Environment.objects.for_organization(
        organization).order_by("name")
    form.fields["members"].queryset = tenancy.scope(
        get_user_model().objects.all(), organization).order_by("username")
    form.fields["members"].label_from_instance = lambda u: f"{u.get_username()} <{u.email}>"


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("Email address"))
    role = forms.ChoiceField(label=_("Role"))

    def __init__(self, *args, actor: Membership, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.fields["role"].choices = assignable_roles(actor)
        self.fields["role"].initial = Role.VIEWER

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        user = get_user_model().objects.filter(email__iexact=email).first()
        org = self.actor.organization
        if user and Membership.objects.for_organization(org).filter(user=user).exists():
            raise forms.ValidationError(_("%(email)s is already a member."),
                                        params={"email": email})
        return email


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"))

    def __init__(self, *args, actor: Membership, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = assignable_roles(actor)


class ApiTokenForm(forms.Form):
    name = forms.CharField(label=_("Token name"), max_length=100,
                           help_text=_("What uses it, e.g. “BI export”."))
    expires_in_days = forms.IntegerField(
        label=_("Expires after (days)"), required=False, min_value=1, max_value=3650,
        help_text=_("Leave empty for a token that does not expire."),
    )
