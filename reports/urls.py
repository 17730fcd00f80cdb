"""Organisation report pages (reports/pages/urls.py) and saved views, mounted under
/o/<org_slug>/ by portal/urls.py."""
from __future__ import annotations

from django.urls import include, path

from reports.saved_views import views as saved_views

urlpatterns = [
    path("", include("reports.pages.urls")),
    path("views/", saved_views.view_list, name="saved-views"),
    path("views/save/", saved_views.view_save, name="saved-view-save"),
    path("views/<int:pk>/", saved_views.view_open, name="saved-view-open"),
    path("views/<int:pk>/rename/", saved_views.view_rename, name="saved-view-rename"),
    path("views/<int:pk>/share/", saved_views.view_share, name="saved-view-share"),
    path("views/<int:pk>/delete/", saved_views.view_delete, name="saved-view-delete"),
]
