"""`/api/v1/privacy/erasures/` and `/api/v1/privacy/subject-export/`: owners and admins only.

The organisation is `organization` (a slug: query parameter, or in the body of a POST), or the
caller's only organisation where they are an owner or admin. Another organisation is a 404,
a member below admin a 403 (reads included: the log and the export are personal-data
tools). Neither answer holds the number of an erasure: its hash only.
"""
from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, mixins, renderers, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from portal.models import Membership, Role
from portal.phone import InvalidNumber
from portal.tenancy.access import Tenant, resolve_tenant
from portal.tenancy.api import TenantScopedViewSet
from reports import exports
from reports.api.reports import CsvErrorsAsJson, CSVRenderer
from reports.privacy import service
from reports.privacy.subject import call_json, subject_calls
from sync.models import Call, Erasure
from sync.privacy.erase import subject_of

ORGANIZATION = OpenApiParameter(
    "organization", str, description="The organisation's slug (optional when the caller "
    "administers exactly one).")


class PrivacyAdmin:
    """Owners and admins only, reads included."""

    def privacy_tenant(self, request: Request) -> Tenant:
        slug = request.query_params.get("organization") or (
            request.data.get("organization") if isinstance(request.data, dict) else None)
        if slug:
            if not isinstance(slug, str) or len(slug) > 100:
                raise exceptions.ValidationError({"organization": "Give an organisation slug."})
            return resolve_tenant(request.user, slug, Role.ADMIN)
        memberships = list(Membership.objects.filter(user=request.user)
                           .select_related("organization"))
        admin = [m for m in memberships if m.has_role(Role.ADMIN)]
        if not admin:
            raise exceptions.PermissionDenied(
                "Only owners and admins can erase callers or export their data.")
        if len(admin) > 1:
            raise exceptions.ValidationError(
                {"organization": "You administer several organisations: name one."})
        return Tenant(organization=admin[0].organization, membership=admin[0])


class ErasureSerializer(serializers.ModelSerializer):
    organization = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    actor = serializers.SerializerMethodField()

    class Meta:
        model = Erasure
        fields = ["id", "organization", "number_hash", "actor", "source", "created_at",
                  "environments", "calls", "other_rows", "cache_purged"]
        read_only_fields = fields

    def get_actor(self, obj: Erasure) -> str:
        return obj.actor.get_username() if obj.actor else ""


class ErasureRequest(serializers.Serializer):
    number = serializers.CharField(max_length=64, help_text=(
        "The caller's number, any format: +55 11 98765-4321, (11) 98765-4321 (read in the "
        "organisation's country), 5511987654321."))
    organization = serializers.CharField(max_length=100, required=False)


class ErasureViewSet(PrivacyAdmin, mixins.ListModelMixin, mixins.CreateModelMixin,
                     TenantScopedViewSet):
    """Erase a caller (POST) and list the organisation's erasures (GET)."""

    queryset = Erasure.objects.select_related("organization", "actor")
    serializer_class = ErasureSerializer

    def safely_narrow_queryset(self, queryset):
        tenant = self.privacy_tenant(self.request)
        return queryset.for_organization(tenant.organization).order_by("-created_at", "-id")

    @extend_schema(parameters=[ORGANIZATION])
    def list(self, request: Request, *args, **kwargs) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(request=ErasureRequest, responses={201: ErasureSerializer})
    def create(self, request: Request, *args, **kwargs) -> Response:
        tenant = self.privacy_tenant(request)
        body = ErasureRequest(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            erasure = service.erase(tenant.organization, body.validated_data["number"],
                                    actor=request.user, source="api")
        except InvalidNumber as exc:
            raise exceptions.ValidationError({"number": str(exc)}) from exc
        return Response(ErasureSerializer(erasure).data, status=status.HTTP_201_CREATED)


class SubjectExportViewSet(PrivacyAdmin, CsvErrorsAsJson, TenantScopedViewSet):
    """Every mirrored call of one number (a data subject's access request)."""

    queryset = Call.objects.all()
    renderer_classes = [renderers.JSONRenderer, renderers.BrowsableAPIRenderer, CSVRenderer]

    @extend_schema(
        parameters=[OpenApiParameter("number", str, required=True), ORGANIZATION,
                    OpenApiParameter("format", str, enum=["json", "csv"])],
        responses={200: inline_serializer("SubjectExport", {
            "organization": serializers.CharField(), "number": serializers.CharField(),
            "calls": serializers.ListField(child=serializers.DictField())}),
            (200, "text/csv"): OpenApiTypes.STR})
    @action(detail=False, methods=["get"])
    def export(self, request: Request) -> Response | HttpResponse:
        tenant = self.privacy_tenant(request)
        wanted = request.query_params.get("format") or "json"
        if wanted not in ("json", "csv"):
            raise exceptions.ValidationError({"format": "Choose json or csv."})
        try:
            subject = subject_of(tenant.organization, request.query_params.get("number", ""))
        except InvalidNumber as exc:
            raise exceptions.ValidationError({"number": str(exc)}) from exc
        tz = tenant.organization.tzinfo
        calls = [call_json(c, tz) for c in subject_calls(
            self.get_queryset().filter(environment__in=tenant.environments), subject,
            tenant.organization)]
        service.record_export(tenant.organization, request.user, subject, len(calls))
        if wanted == "csv":
            return exports.stream_csv(exports.subject_rows(calls),
                                      f"switchboard-subject-export-{tenant.organization.slug}"
                                      f"-{subject.hashed[:12]}.csv")
        return Response({"organization": tenant.organization.slug, "number": subject.e164,
                         "timezone": tenant.organization.timezone, "calls": calls})
