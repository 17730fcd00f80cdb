"""Top-level URLs: portal pages, auth, admin, the REST API and its schema."""
from __future__ import annotations

from importlib import import_module

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponseRedirect
from django.templatetags.static import static
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from portal import health
from portal.auth import invitations, password_reset
from portal.auth.login_forms import LoginForm
from portal.pages import views
from portal.schema import KeptSchemaGenerator


def favicon(request: HttpRequest) -> HttpResponseRedirect:
    """Browsers (and the admin, which links none) ask for /favicon.ico: send our icon."""
    return HttpResponseRedirect(static("img/favicon.svg"))


# Every settings page of every app, under one include: each app lists its own relative to
# settings/ (`settings_urlpatterns`), named here once.
SETTINGS_PAGES = [
    "portal.pages.org_urls",
    "reports.summaries.urls",
    "reports.alerts.urls",
    "reports.privacy.urls",
    "reports.resolution.urls",
    "reports.holidays.urls",
]


def settings_urls() -> list:
    """The settings pages of every app in SETTINGS_PAGES, in that order."""
    return [pattern for module in SETTINGS_PAGES
            for pattern in import_module(module).settings_urlpatterns]


urlpatterns = [
    path("favicon.ico", favicon, name="favicon"),
    path("", views.home, name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(authentication_form=LoginForm),
         name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password_reset/", password_reset.PasswordResetView.as_view(),
         name="password_reset"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("invitations/<str:token>/", invitations.invitation_accept, name="invitation-accept"),
    path("o/<slug:org_slug>/settings/", include(settings_urls())),
    path("o/<slug:org_slug>/", include("reports.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("reports.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(generator_class=KeptSchemaGenerator),
         name="api-schema"),
    # Swagger UI from our own static files (drf-spectacular-sidecar), its start-up script
    # served by the same view (`?script`): no other host, no inline script, the site's CSP.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"),
         name="api-docs"),
    path("hooks/", include("sync.webhooks.urls")),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    # The signed links of emails (no login): unsubscribe, acknowledge / snooze.
    path("", include("reports.summaries.urls")),
    path("", include("reports.alerts.urls")),
]
