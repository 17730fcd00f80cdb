"""`/api/v1/alert-rules/` and `/api/v1/alert-events/`, scoped by TenantScopedViewSet.

A rule's organisation is its environments' (all of one organisation the caller administers);
another tenant's environment id is refused as unknown, another tenant's rule is a 404.

The webhook URL is write-only (its path is a credential): answers carry `webhook_hint`
(`hooks.slack.com/…CRET`) for everyone, owners included. A PATCH without `webhook_url` keeps
it, `"webhook_url": ""` removes it and its secret. The webhook secret is in the answer of
the request that creates it (the first webhook, or `"new_webhook_secret": true`), never again.
"""
from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, serializers
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter
from rest_framework.request import Request
from rest_framework.response import Response

from portal.bounds import BoundedPrimaryKeyRelatedField, as_id
from portal.models import Environment, Role, Team
from portal.tenancy.access import environments_for_user, membership_for, organizations_for_user
from portal.tenancy.api import TenantScopedViewSet
from reports.alerts import preview
from reports.alerts.models import AlertEvent, AlertRule, Condition, default_min_calls
from reports.alerts.validation import rule_errors


class EnvironmentIdsField(BoundedPrimaryKeyRelatedField):
    """Environment ids limited to the caller's organisations (others are "does not exist")."""

    def get_queryset(self):
        return environments_for_user(self.context["request"].user)


class TeamIdField(BoundedPrimaryKeyRelatedField):
    """Team ids of the caller's organisations (others are "does not exist")."""

    def get_queryset(self):
        return Team.objects.for_organizations(organizations_for_user(
            self.context["request"].user))


class AlertRuleSerializer(serializers.ModelSerializer):
    environments = EnvironmentIdsField(many=True)
    team = TeamIdField(required=False, allow_null=True,
                       help_text="A team: the rule watches its agents and notifies its leads.")
    each_team = serializers.BooleanField(
        required=False, help_text="true: one state per team of the organisation (fan-out).")
    emails = serializers.ListField(child=serializers.EmailField(), required=False,
                                   max_length=50)
    threshold = serializers.FloatField(
        required=False, allow_null=True,
        help_text="Needed by every condition but `anomaly`, where it is the cold-start "
                  "fallback (null: the first 3 weeks are not judged).")
    organization = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    webhook_url = serializers.URLField(
        max_length=500, required=False, allow_blank=True, write_only=True,
        help_text='Write-only. Omit to keep the stored URL; "" removes it and its secret.')
    webhook_hint = serializers.CharField(
        read_only=True, help_text="What may be shown of the webhook URL: host/…last four.")
    new_webhook_secret = serializers.BooleanField(
        required=False, write_only=True,
        help_text="true: replace the signing secret (answered once, as webhook_secret).")

    class Meta:
        model = AlertRule
        fields = ["id", "organization", "name", "environments", "agent_id", "team", "each_team",
                  "metric", "window",
                  "condition", "threshold", "compare_to", "sensitivity", "anomaly_direction",
                  "min_calls", "severity", "emails",
                  "webhook_url", "webhook_hint", "new_webhook_secret", "webhook_format",
                  "language", "enabled", "snoozed_until",
                  "state", "state_changed_at", "last_evaluated_at", "last_value", "last_note",
                  "created_at", "updated_at"]
        read_only_fields = ["state", "state_changed_at", "last_evaluated_at", "last_value",
                            "last_note", "created_at", "updated_at"]

    def validate_environments(self, value: list[Environment]) -> list[Environment]:
        if not value:
            raise serializers.ValidationError("Give at least one environment id.")
        orgs = {env.organization_id for env in value}
        if len(orgs) > 1:
            raise serializers.ValidationError("The environments must be of one organisation.")
        rule = self.instance
        if rule is not None and orgs != {rule.organization_id}:
            raise serializers.ValidationError("Environments of another organisation.")
        membership = membership_for(self.context["request"].user, value[0].organization)
        if membership is None or not membership.has_role(Role.ADMIN):
            raise exceptions.PermissionDenied(
                "Your role in this organisation is read-only for this resource.")
        return value

    def validate_emails(self, value: list[str]) -> list[str]:
        return list(dict.fromkeys(v.lower() for v in value))

    def validate(self, attrs: dict) -> dict:
        merged = {f: attrs.get(f, getattr(self.instance, f, "") if self.instance else "")
                  for f in ("metric", "window", "condition", "compare_to", "agent_id",
                            "webhook_url")}
        if "condition" in attrs and "compare_to" not in attrs and self.instance is not None \
                and attrs["condition"] in ("above", "below"):
            merged["compare_to"] = attrs["compare_to"] = ""
        threshold = attrs["threshold"] if "threshold" in attrs else getattr(
            self.instance, "threshold", None)
        errors = rule_errors(threshold=threshold, **merged)
        if errors:
            raise serializers.ValidationError(errors)
        team = attrs.get("team", getattr(self.instance, "team", None))
        each = attrs.get("each_team", getattr(self.instance, "each_team", False))
        if team is not None and each:
            raise serializers.ValidationError({"each_team": "A rule watches one team or each "
                                                            "team, not both."})
        envs = attrs.get("environments")
        org = envs[0].organization_id if envs else getattr(self.instance, "organization_id",
                                                            None)
        if team is not None and team.organization_id != org:
            raise serializers.ValidationError({"team": "A team of another organisation."})
        if self.instance is not None and self.instance.parent_id is not None:
            raise serializers.ValidationError(
                "A team's share of a fan-out rule follows its parent; change the parent.")
        if self.instance is None and "min_calls" not in attrs:
            attrs["min_calls"] = default_min_calls(merged["metric"], merged["condition"])
        return attrs

    @transaction.atomic
    def create(self, validated: dict) -> AlertRule:
        environments = validated.pop("environments")
        renew = validated.pop("new_webhook_secret", False)
        rule = AlertRule(**validated, organization=environments[0].organization,
                         created_by=self.context["request"].user)
        self.secret = rule.settle_webhook(renew)
        rule.save()
        rule.environments.set(environments)
        return rule

    @transaction.atomic
    def update(self, rule: AlertRule, validated: dict) -> AlertRule:
        environments = validated.pop("environments", None)
        renew = validated.pop("new_webhook_secret", False)
        for name, value in validated.items():
            setattr(rule, name, value)
        self.secret = rule.settle_webhook(renew)
        rule.save()
        if environments is not None:
            rule.environments.set(environments)
        return rule

    def to_representation(self, rule: AlertRule) -> dict:
        data = super().to_representation(rule)
        if getattr(self, "secret", ""):
            data["webhook_secret"] = self.secret
        return data


class AlertRulePreviewSerializer(AlertRuleSerializer):
    """A rule's judging fields plus the period to replay (local days, inclusive)."""

    start_date = serializers.DateField()
    end_date = serializers.DateField()

    class Meta(AlertRuleSerializer.Meta):
        fields = ["environments", "agent_id", "metric", "window", "condition", "threshold",
                  "compare_to", "sensitivity", "anomaly_direction", "min_calls",
                  "start_date", "end_date"]

    def validate(self, attrs: dict) -> dict:
        attrs = super().validate(attrs)
        if attrs.get("condition") != Condition.ANOMALY:
            raise serializers.ValidationError(
                {"condition": "Preview replays the anomaly condition only."})
        first, last = attrs["start_date"], attrs["end_date"]
        if first > last:
            raise serializers.ValidationError({"end_date": "end_date is before start_date."})
        if (last - first).days >= preview.MAX_DAYS:
            raise serializers.ValidationError(
                {"end_date": f"At most {preview.MAX_DAYS} days per preview."})
        return attrs


class FiringSerializer(serializers.Serializer):
    """One firing of a preview: its hours (the organisation's local time, from the first hour
    of the run that fired) and the figures of that whole span, judged as one window."""

    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    value = serializers.FloatField()
    expected = serializers.FloatField(allow_null=True)
    low = serializers.FloatField(allow_null=True)
    high = serializers.FloatField(allow_null=True)
    explanation = serializers.CharField()


class PreviewAnswerSerializer(serializers.Serializer):
    firings = FiringSerializer(many=True)


class AlertRuleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                       mixins.CreateModelMixin, mixins.UpdateModelMixin,
                       mixins.DestroyModelMixin, TenantScopedViewSet):
    """Alert rules of the caller's organisations; owners and admins write."""

    queryset = AlertRule.objects.select_related("organization").prefetch_related(
        "environments").order_by("id")
    serializer_class = AlertRuleSerializer
    filter_backends: list = []
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_serializer_class(self):
        return AlertRulePreviewSerializer if self.action == "preview" else AlertRuleSerializer

    @extend_schema(request=AlertRulePreviewSerializer, responses=PreviewAnswerSerializer)
    @action(detail=False, methods=["post"])
    def preview(self, request: Request) -> Response:
        """When a rule with these fields would have fired between `start_date` and
        `end_date` (the organisation's local days): `{"firings": [{"start", "end",
        "value", "expected", "low", "high", "explanation"}]}`. Saves nothing."""
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        environments = data.pop("environments")
        first, last = data.pop("start_date"), data.pop("end_date")
        rule = AlertRule(**data, organization=environments[0].organization)
        found = preview.firings(rule, tuple(sorted(e.pk for e in environments)), first, last,
                                timezone.now())
        return Response({"firings": found})


class AlertEventSerializer(serializers.ModelSerializer):
    rule_name = serializers.CharField(source="rule.name", read_only=True)

    class Meta:
        model = AlertEvent
        fields = ["id", "rule", "rule_name", "state", "metric", "value", "compare_value",
                  "threshold", "calls", "window_start", "window_end", "coverage",
                  "notify_status", "created_at"]


class AlertEventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    """State changes of the caller's organisations' rules, newest first (`?rule=<id>`)."""

    queryset = AlertEvent.objects.select_related("rule").order_by("-created_at", "-id")
    serializer_class = AlertEventSerializer
    filter_backends = [OrderingFilter]
    ordering_fields = ["created_at"]

    def safely_filter_queryset(self, queryset):
        rule = self.request.query_params.get("rule")
        if rule is not None:
            if as_id(rule) is None:
                raise exceptions.ValidationError({"rule": "A rule id (an integer)."})
            queryset = queryset.filter(rule_id=as_id(rule))
        return queryset
