"""The rule form of the settings pages (scoped to one organisation).

Every field is labelled here (the model's fields have no translated names), the agent is
picked from the agents mirrored for the organisation's environments (an upstream id typed by
hand was a guess), and a new rule speaks the language of the member creating it.
"""
from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from portal.models import Organization
from portal.pages.forms import choices_of
from reports.alerts.models import (
    CHANGE_CONDITIONS,
    AlertRule,
    Condition,
    Window,
    default_min_calls,
)
from reports.alerts.validation import rule_errors
from reports.alerts.webhook_fields import WebhookFieldsMixin
from reports.languages import member_language
from reports.summaries.forms import parse_addresses
from sync.models import Agent

IGNORED_HELP = _lazy("Not used by the health metrics (minutes since the last sync, rejected "
                     "token).")


def agent_choices(organization: Organization, current: str) -> list:
    """Agents grouped by environment (value: the upstream id), a name that more than one
    environment has followed by its environment (a closed list shows the option, not its
    group: two "Callback Desk"s must differ there); a saved id that is no longer mirrored
    stays choosable, marked, so editing a rule never drops it silently."""
    choices: list = [("", _("Every agent"))]
    agents = list(Agent.objects.for_organization(organization)
                  .select_related("environment").order_by("environment__name", "name", "pk"))
    names = [Agent.shown_name(a.name, a.external_id) for a in agents]
    environments_of: dict[str, set[int]] = {}
    for agent, name in zip(agents, names, strict=True):
        environments_of.setdefault(name, set()).add(agent.environment_id)
    groups: dict[str, list[tuple[str, str]]] = {}
    for agent, name in zip(agents, names, strict=True):
        if len(environments_of[name]) > 1:
            name = f"{name} ({agent.environment.name})"
        groups.setdefault(agent.environment.name, []).append((agent.external_id, name))
    choices += list(groups.items())
    known = {a.external_id for a in agents}
    if current and current not in known:
        choices.append((current, _("%(id)s (not mirrored)") % {"id": current}))
    return choices


class AlertRuleForm(WebhookFieldsMixin, forms.ModelForm):
    emails = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}),
        label=_lazy("Other addresses"),
        help_text=_lazy("People without an account; separate with commas or new lines."))

    class Meta:
        model = AlertRule
        fields = ["name", "environments", "agent_id", "metric", "window", "condition",
                  "threshold", "compare_to", "sensitivity", "anomaly_direction", "min_calls",
                  "severity", "members", "emails",
                  "webhook_url", "remove_webhook", "new_webhook_secret", "webhook_format",
                  "language", "enabled", "snoozed_until"]
        help_texts = {
            "threshold": _lazy("What the figure is compared with (for a change: the percent)."),
            "min_calls": _lazy("Rates are not judged over fewer calls. “Is unusual” on calls "
                               "judges an hour usually quieter than this within its run of "
                               "up to 6 hours (5 unless changed)."),
        }
        widgets = {"environments": forms.CheckboxSelectMultiple,
                   "members": forms.CheckboxSelectMultiple,
                   "snoozed_until": forms.DateTimeInput(attrs={"type": "datetime-local"})}
        labels = {"name": _lazy("Name"), "environments": _lazy("Environments"),
                  "agent_id": _lazy("Agent"), "metric": _lazy("Metric"),
                  "window": _lazy("Window"), "condition": _lazy("Condition"),
                  "threshold": _lazy("Threshold"), "compare_to": _lazy("Compare with"),
                  "sensitivity": _lazy("Sensitivity (anomaly)"),
                  "anomaly_direction": _lazy("Fire when the hour is (anomaly)"),
                  "min_calls": _lazy("Minimum calls"), "severity": _lazy("Severity"),
                  "members": _lazy("Members"), "webhook_url": _lazy("Webhook URL"),
                  "webhook_format": _lazy("Webhook format"), "language": _lazy("Language"),
                  "enabled": _lazy("Enabled"), "snoozed_until": _lazy("Snoozed until")}

    def __init__(self, *args, organization: Organization, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.organization = organization
        choices_of(self, organization)
        self.fields["agent_id"] = forms.ChoiceField(
            required=False, label=_lazy("Agent"),
            choices=agent_choices(organization, self.instance.agent_id),
            help_text=_lazy("Optional: judge the calls of one agent only."))
        if not self.instance.pk and "language" not in self.initial:
            self.initial["language"] = member_language()
        if self.instance.pk:
            self.initial["emails"] = "\n".join(self.instance.emails)
        if not self.instance.webhook_url:
            del self.fields["remove_webhook"]  # nothing to remove
            del self.fields["new_webhook_secret"]  # a new webhook gets its secret anyway
        for name in ("sensitivity", "anomaly_direction"):  # only the anomaly reads them
            self.fields[name].required = False
        # Every condition but the anomaly needs it (`rule_errors`): not required in the
        # browser, where an anomaly rule would otherwise be refused for an empty box.
        self.fields["threshold"].required = False
        self.fields["snoozed_until"].help_text = _(
            "In the organisation's time (%(zone)s).") % {"zone": organization.timezone}
        if self.instance.pk and self.instance.is_health:
            for name in AlertRule.IGNORED_BY_HEALTH:  # what this rule never reads
                del self.fields[name]
        else:
            for name in AlertRule.IGNORED_BY_HEALTH:
                self.fields[name].help_text = " ".join(filter(None, [
                    str(self.fields[name].help_text), str(IGNORED_HELP)]))

    def full_clean(self) -> None:
        # A typed date and time (the snooze) is the organisation's wall time, as shown.
        with timezone.override(self.organization.tzinfo):
            super().full_clean()

    def clean_sensitivity(self) -> str:
        return self.cleaned_data.get("sensitivity") or AlertRule.sensitivity.field.default

    def clean_anomaly_direction(self) -> str:
        return (self.cleaned_data.get("anomaly_direction")
                or AlertRule.anomaly_direction.field.default)

    def clean_emails(self) -> list[str]:
        return parse_addresses(self.cleaned_data.get("emails", ""))

    def clean(self) -> dict:
        data = super().clean()
        # What the condition does not read is ignored, not refused: the page hides those
        # fields but still sends what they held (a comparison chosen, then another condition).
        if data.get("condition") not in CHANGE_CONDITIONS:
            data["compare_to"] = ""
        if data.get("condition") != Condition.ANOMALY:
            data["sensitivity"] = AlertRule.sensitivity.field.default
            data["anomaly_direction"] = AlertRule.anomaly_direction.field.default
        else:
            data["window"] = Window.HOUR  # the anomaly judges hours: nothing else to choose
        kind_changed = not self.instance.pk or {"metric", "condition"} & set(self.changed_data)
        if kind_changed and "min_calls" not in self.changed_data and "min_calls" in data:
            # Left as offered: the minimum this kind of rule means (an expected count for an
            # anomaly on calls, a sample size for the rest).
            data["min_calls"] = default_min_calls(data.get("metric", ""),
                                                  data.get("condition", ""))
        errors = rule_errors(
            metric=data.get("metric", ""), window=data.get("window", ""),
            condition=data.get("condition", ""), compare_to=data.get("compare_to", ""),
            threshold=data.get("threshold"), agent_id=data.get("agent_id", ""),
            webhook_url=data.get("webhook_url", ""))
        agent = data.get("agent_id", "")
        environments = data.get("environments")
        if agent and environments is not None and "agent_id" not in errors and not \
                Agent.objects.filter(environment__in=environments, external_id=agent).exists() \
                and agent != self.instance.agent_id:
            errors["agent_id"] = _("This agent is not in the chosen environments.")
        for field, message in errors.items():
            self.add_error(field, message)
        return data

    def save(self, commit: bool = True) -> AlertRule:
        rule = super().save(commit=False)
        rule.organization = self.organization
        self.apply_webhook(rule)
        if commit:
            rule.save()
            self.save_m2m()
        return rule
