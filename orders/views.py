"""Order pages: the list and one order with its history and the manual status change."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from orders import selectors
from orders.forms import OrderFilterForm, OrderStatusForm
from orders.models import ChangeOrigin
from orders.services import TransitionError, order_change_status
from shop.permissions import capability_required
from shop.roles import Capability

PAGE_SIZE = 50
PAGE_SIZES = (25, 50, 100, 200)


def _query(request: HttpRequest, **changes: str | None) -> str:
    query: QueryDict = request.GET.copy()
    for key, value in changes.items():
        query.pop(key, None)
        if value is not None:
            query[key] = value
    return "?" + query.urlencode()


def _page_size(request: HttpRequest) -> int:
    try:
        size = int(request.GET.get("size", PAGE_SIZE))
    except ValueError:
        return PAGE_SIZE
    return size if size in PAGE_SIZES else PAGE_SIZE


@capability_required(Capability.BROWSE)
def order_list(request: HttpRequest) -> HttpResponse:
    form = OrderFilterForm(request.GET or None)
    if form.is_bound:
        form.is_valid()
    page = selectors.order_list(form.filters(), request.GET.get("cursor"), _page_size(request))
    context = {
        "form": form,
        "page": page,
        "next_url": _query(request, cursor=page.next_cursor) if page.next_cursor else None,
        "previous_url": _query(request, cursor=page.previous_cursor) if page.previous_cursor else None,
    }
    return render(request, "orders/order_list.html", context)


@capability_required(Capability.BROWSE)
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    order = selectors.order_for_user(request.user, pk)
    form = OrderStatusForm(request.POST or None, order=order)
    if request.method == "POST" and form.is_valid():
        try:
            order_change_status(
                order=order, status=form.cleaned_data["status"], origin=ChangeOrigin.MANUAL, user=request.user
            )
        except TransitionError as error:
            form.add_error("status", str(error))
        else:
            messages.success(request, _("Status changed."))
            return redirect("orders:detail", pk=order.pk)
    context = {"order": order, "form": form, "items": list(order.items.all())}
    return render(request, "orders/order_detail.html", context, status=400 if form.errors else 200)
