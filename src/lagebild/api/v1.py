"""Routes of API version 1."""

from rest_framework.routers import DefaultRouter

from . import analytics, proceedings, taskforce, views

# Path converters (<int:pk>) instead of regexes: typed parameters in the schema, and a
# non-numeric id never reaches a query.
router = DefaultRouter(use_regex_path=False)
# JSON is the only format; no ".json" suffix routes.
router.include_format_suffixes = False
router.register("incidents", views.IncidentViewSet, basename="incident")
router.register("measures", views.MeasureViewSet, basename="measure")
router.register("patrols", views.PatrolViewSet, basename="patrol")
router.register("shifts", views.ShiftViewSet, basename="shift")
router.register("areas", views.AreaViewSet, basename="area")
router.register("categories", views.CategoryViewSet, basename="category")
router.register("taskforce/groups", taskforce.WorkingGroupViewSet, basename="taskforce-group")
router.register("taskforce/goals", taskforce.GoalViewSet, basename="taskforce-goal")
router.register("taskforce/milestones", taskforce.MilestoneViewSet, basename="taskforce-milestone")
router.register(
    "taskforce/recommendations", taskforce.RecommendationViewSet, basename="taskforce-recommendation"
)
router.register("taskforce/meetings", taskforce.MeetingViewSet, basename="taskforce-meeting")

proceedings.register(router)

urlpatterns = router.urls + analytics.urlpatterns + proceedings.urlpatterns
