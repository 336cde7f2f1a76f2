"""Order pages: the list and one order with its history and the manual status change."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from orders import selectors
from orders.forms import OrderFilterForm, OrderStatusForm
from orders.models import ChangeOrigin
from orders.services import TransitionError, order_change_status
from shop.paging import page_links, page_size
from shop.permissions import capability_required
from shop.roles import Capability


@capability_required(Capability.BROWSE)
def order_list(request: HttpRequest) -> HttpResponse:
    form = OrderFilterForm(request.GET or None)
    if form.is_bound:
        form.is_valid()
    page = selectors.order_list(form.filters(), request.GET.get("cursor"), page_size(request))
    context = {
        "form": form,
        "page": page,
        **page_links(request, next_cursor=page.next_cursor, previous_cursor=page.previous_cursor),
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
