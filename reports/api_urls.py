"""URLs under /api/v1/."""
from __future__ import annotations

from rest_framework.routers import DefaultRouter

from reports import api

router = DefaultRouter()
router.register("environments", api.EnvironmentViewSet, basename="environment")

urlpatterns = router.urls
