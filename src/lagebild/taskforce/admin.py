from django.contrib import admin

from lagebild.core.admin_scoping import AuthorityAdminMixin, PlatformInlineMixin

from .models import (
    Goal,
    Milestone,
    Notification,
    NotificationPreference,
    Operation,
    Recommendation,
    RecommendationEvent,
    TaskForce,
    TaskForceMember,
    WorkingGroup,
)


class MemberInline(PlatformInlineMixin, admin.TabularInline):
    model = TaskForceMember
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(TaskForce)
class TaskForceAdmin(AuthorityAdminMixin, admin.ModelAdmin):
    # The task force is joint: its structure is shared by both partners.
    authority_field = None
    list_display = ["name", "code"]
    inlines = [MemberInline]


@admin.register(WorkingGroup)
class WorkingGroupAdmin(AuthorityAdminMixin, admin.ModelAdmin):
    # The task force is joint: its structure is shared by both partners.
    authority_field = None
    list_display = ["name", "task_force", "lead", "position"]
    list_filter = ["task_force"]
    filter_horizontal = ["members"]


@admin.register(Operation)
class OperationAdmin(AuthorityAdminMixin, admin.ModelAdmin):
    # The task force is joint: its structure is shared by both partners.
    authority_field = None
    list_display = ["name", "area", "start", "end", "evaluated_at"]
    list_filter = ["task_force"]
    readonly_fields = ["evaluated_at"]


@admin.register(Goal)
class GoalAdmin(AuthorityAdminMixin, admin.ModelAdmin):
    # The task force is joint: its structure is shared by both partners.
    authority_field = None
    list_display = ["title", "working_group", "indicator", "target_value", "target_date"]
    list_filter = ["working_group"]


@admin.register(Milestone)
class MilestoneAdmin(AuthorityAdminMixin, admin.ModelAdmin):
    # The task force is joint: its structure is shared by both partners.
    authority_field = None
    list_display = ["title", "working_group", "owner", "due", "status"]
    list_filter = ["status", "working_group"]


class EventInline(PlatformInlineMixin, admin.TabularInline):
    model = RecommendationEvent
    extra = 0
    can_delete = False
    readonly_fields = ["from_state", "to_state", "label", "by", "at", "rationale", "attachment"]
    fields = readonly_fields

    def has_add_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False  # the history is written by the workflow only


@admin.register(Recommendation)
class RecommendationAdmin(AuthorityAdminMixin, admin.ModelAdmin):
    # The task force is joint: its structure is shared by both partners.
    authority_field = None
    list_display = ["number", "title", "working_group", "state"]
    list_filter = ["state", "working_group"]
    readonly_fields = ["state", "number", "supersedes"]
    inlines = [EventInline]


@admin.register(Notification)
class NotificationAdmin(AuthorityAdminMixin, admin.ModelAdmin):
    # Personal: an administrator sees those of its own authority's members only.
    authority_field = "user__authority"
    list_display = ["subject", "user", "kind", "created_at", "read_at", "emailed_at"]
    list_filter = ["kind"]
    readonly_fields = [
        "user",
        "task_force",
        "kind",
        "key",
        "subject",
        "body",
        "url",
        "created_at",
        "emailed_at",
    ]


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(AuthorityAdminMixin, admin.ModelAdmin):
    # Personal: an administrator sees those of its own authority's members only.
    authority_field = "user__authority"
    list_display = ["user", "kind", "in_app", "email"]
    list_filter = ["kind"]
