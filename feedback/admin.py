from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from feedback.models import FollowUp, Invitation, InvitationSkip, Response


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("order", "customer", "channel", "state", "due_at", "sent_at", "reason")
    list_filter = ("state", "channel")
    raw_id_fields = ("order", "customer")
    # The stored reason code is shown in the reader's language, not edited.
    exclude = ("error",)
    readonly_fields = ("reason",)

    @admin.display(description=_("reason"))
    def reason(self, invitation: Invitation) -> str:
        return invitation.reason_text


@admin.register(InvitationSkip)
class InvitationSkipAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("order", "customer", "reason", "created_at")
    list_filter = ("reason",)
    raw_id_fields = ("order", "customer")


@admin.register(Response)
class ResponseAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("invitation", "product_score", "service_score", "recommend_score", "created_at")
    raw_id_fields = ("invitation", "customer")


@admin.register(FollowUp)
class FollowUpAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("customer", "state", "assignee", "due_at", "outcome")
    list_filter = ("state",)
    raw_id_fields = ("response", "customer", "order")
