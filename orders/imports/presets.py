"""The order exports of the platforms our shops run on, recognised from their headers and mapped with no hand work.

Each preset lists, per target field, the header (or the alternative spellings) the platform writes, compared
lower-cased; a preset is recognised when every header of one of its signatures is in the file, and the preset
whose signature matches most headers wins. Where the files come from:

- **Shopify** — Admin → Orders → Export, "CSV for Excel". The header row is Shopify's own, checked column by
  column against exports kept in public code that reads them (``Name, Email, Financial Status, Paid at,
  Fulfillment Status, Fulfilled at, Accepts Marketing, Currency, Subtotal, Shipping, Taxes, Total, Discount Code,
  Discount Amount, Shipping Method, Created at, Lineitem quantity, Lineitem name, Lineitem price, Lineitem compare
  at price, Lineitem sku, Lineitem requires shipping, Lineitem taxable, Lineitem fulfillment status, Billing Name,
  Billing Street, Billing Address1, Billing Address2, Billing Company, Billing City, Billing Zip, Billing Province,
  Billing Country, Billing Phone, Shipping Name, … Shipping Phone, Notes, Note Attributes, Cancelled at, Payment
  Method, Payment Reference, Refunded Amount, Vendor, Outstanding Balance, Employee, Location, Device ID, Id, Tags,
  Risk Level, Source, Lineitem discount, Tax 1 Name … Tax 5 Value, Phone, Receipt Number, Duties, …``) and the
  migration tools' column references (matrixify.app/documentation/orders; webtoffee.com, "Shopify orders –
  available columns"): one row per line item, the order's ``Name`` (``#1001``) on every row and used as the key of
  a multi-row order, the order-level columns on its first row only, ``Lineitem *`` on each. The numeric ``Id`` is
  written on the first row only, so it cannot group the rows. Two columns make the status: ``Fulfillment Status``
  (fulfilled, partial, unfulfilled) says whether the goods went out and ``Financial Status`` (paid, pending,
  authorized, partially_paid, partially_refunded, refunded, voided) says what happened to the money; paid alone is
  never delivered, and refunded is a return after a fulfilment, a cancellation before
  (``orders.imports.fields.combined_status``).
- **WooCommerce** — the order columns documented on woocommerce.com ("Import and Export of WooCommerce Orders":
  ``order_id``, ``order_number``, ``order_date``, ``status``, ``shipping_total``, ``tax_total``, ``discount_total``,
  ``order_total``, ``order_currency``, ``customer_email``, ``billing_first_name``, ``billing_last_name``, …) in the
  "one row per line item" layout of the Customer / Order / Coupon Export (``item_name``, ``item_sku``,
  ``item_quantity``, ``item_subtotal`` — the line's total before discounts).
- **OpenCart / ocStore** — OpenCart has no order export of its own; the columns are those of the admin's order list
  (docs.ocstore.com, "Заказы": "№ заказа", "Покупатель", "Статус", "Итого", with the default statuses listed there)
  as the usual export modules write them in Russian ("Итого (цена):", "Дата покупки", "Модель" for the SKU) and in
  English ("Order ID", "Date Added", "Total").
- **InSales** — the admin's order export (insales.ru help, "Работа с заказами", "Карточка заказа"): "Номер заказа",
  "Дата создания", "Статус" (the order's progress), "Статус оплаты" (read as the payment, like Shopify's), "Сумма заказа", "Стоимость доставки", "Скидка", one row per item ("Название товара",
  "Артикул", "Количество", "Цена").
- **1C-Bitrix** — the online store's order list exported to Excel/CSV, titled as the admin list titles the
  ``sale`` module's order fields (``ID``, ``DATE_INSERT``, ``STATUS_ID``, ``PRICE``, ``PRICE_DELIVERY``,
  ``DISCOUNT_VALUE``, ``USER_EMAIL``): "ID", "Дата создания", "Статус", "Сумма", "Стоимость доставки", "Скидка";
  the English field codes are accepted too.
- **Tilda** — cart orders from the leads (Заявки) export, with the order fields Tilda sends for a cart order
  (``orderid``, ``amount``, ``promocode``, ``discount``, ``delivery_price``; per product ``name``, ``sku``,
  ``quantity``, ``price``), one row per product.
- **RetailCRM (Simla)** — its order list exported to a file, with the columns its own file import reads
  (docs.retailcrm.ru, "XLS2CRM: импорт клиентов или заказов", UTF-8 with ";"): "Номер", "Дата оформления",
  "Статус", "Сумма", "Стоимость доставки", "Скидка", "Покупатель", one row per product ("Товар", "Артикул",
  "Количество", "Цена").

The search found the full documented lists for Shopify and WooCommerce; for InSales, 1C-Bitrix, Tilda and RetailCRM
it found the help pages named above but not every column title of their exports, so those presets hold the columns
above and the mapping page lets a manager pick any other column by hand.
"""

from dataclasses import dataclass

from orders.models import ImportKind


@dataclass(frozen=True)
class Preset:
    key: str
    name: str  # the platform's own name, the same in every language
    signatures: tuple[frozenset[str], ...]
    fields: dict[str, tuple[str, ...]]


def _signature(*headers: str) -> frozenset[str]:
    return frozenset(headers)


PRESETS: tuple[Preset, ...] = (
    Preset(
        "shopify",
        "Shopify",
        (_signature("name", "financial status", "lineitem name", "created at"),),
        {
            "external_id": ("name",),
            "placed_at": ("created at",),
            "status": ("fulfillment status",),
            "payment_status": ("financial status",),
            "total": ("total",),
            "delivery_cost": ("shipping",),
            "discount_total": ("discount amount",),
            "tax": ("taxes",),
            "currency": ("currency",),
            "promo_code": ("discount code",),
            "name": ("billing name", "shipping name"),
            "phone": ("billing phone", "phone", "shipping phone"),
            "email": ("email",),
            "city": ("billing city", "shipping city"),
            "address": ("billing address1", "billing street", "shipping street"),
            "item_name": ("lineitem name",),
            "sku": ("lineitem sku",),
            "quantity": ("lineitem quantity",),
            "price": ("lineitem price",),
            "category": ("vendor",),
        },
    ),
    Preset(
        "woocommerce",
        "WooCommerce",
        (_signature("order_id", "order_date", "order_total"), _signature("order_number", "order_date", "order_total")),
        {
            "external_id": ("order_number", "order_id"),
            "placed_at": ("order_date",),
            "status": ("status", "order_status"),
            "total": ("order_total",),
            "delivery_cost": ("shipping_total",),
            "discount_total": ("discount_total", "cart_discount"),
            "tax": ("tax_total",),
            "currency": ("order_currency",),
            "promo_code": ("coupon_code", "coupons"),
            "customer_id": ("customer_id", "customer_user"),
            "name": ("billing_first_name",),
            "last_name": ("billing_last_name",),
            "phone": ("billing_phone",),
            "email": ("customer_email", "billing_email"),
            "city": ("billing_city", "shipping_city"),
            "address": ("billing_address_1", "shipping_address_1"),
            "item_name": ("item_name",),
            "sku": ("item_sku",),
            "quantity": ("item_quantity",),
            "line_total": ("item_subtotal",),
        },
    ),
    Preset(
        "opencart",
        "OpenCart",
        (_signature("итого (цена):", "дата покупки"), _signature("order id", "date added", "total")),
        {
            "external_id": ("№ заказа", "номер заказа", "id заказа", "order id"),
            "placed_at": ("дата покупки", "дата добавления", "date added"),
            "status": ("статус", "статус заказа", "status"),
            "total": ("итого (цена):", "итого", "total"),
            "delivery_cost": ("доставка (цена):", "доставка", "shipping"),
            "discount_total": ("скидка", "купон (цена):", "discount"),
            "promo_code": ("купон", "coupon"),
            "customer_id": ("id покупателя", "customer id"),
            "name": ("покупатель", "имя покупателя", "customer"),
            "phone": ("телефон", "telephone"),
            "email": ("e-mail", "email"),
            "city": ("город", "city"),
            "address": ("адрес", "address"),
            "item_name": ("товар", "название товара", "product"),
            "sku": ("модель", "артикул", "model"),
            "quantity": ("количество", "quantity"),
            "price": ("цена", "price"),
        },
    ),
    Preset(
        "insales",
        "InSales",
        (_signature("номер заказа", "статус оплаты", "сумма заказа"),),
        {
            "external_id": ("номер заказа",),
            "placed_at": ("дата создания",),
            "status": ("статус",),
            "payment_status": ("статус оплаты",),
            "total": ("сумма заказа",),
            "delivery_cost": ("стоимость доставки",),
            "discount_total": ("скидка",),
            "currency": ("валюта",),
            "promo_code": ("промокод", "купон"),
            "customer_id": ("id клиента",),
            "name": ("контактное лицо", "фио", "покупатель"),
            "phone": ("телефон",),
            "email": ("email", "e-mail"),
            "city": ("город",),
            "address": ("адрес",),
            "item_name": ("название товара",),
            "sku": ("артикул",),
            "quantity": ("количество",),
            "price": ("цена",),
        },
    ),
    Preset(
        "bitrix",
        "1C-Bitrix",
        (_signature("id", "дата создания", "сумма", "статус"), _signature("id", "date_insert", "price")),
        {
            "external_id": ("id",),
            "placed_at": ("дата создания", "date_insert"),
            "status": ("статус", "status_id"),
            "total": ("сумма", "price"),
            "delivery_cost": ("стоимость доставки", "price_delivery"),
            "discount_total": ("скидка", "discount_value"),
            "currency": ("валюта", "currency"),
            "customer_id": ("id покупателя", "user_id"),
            "name": ("покупатель", "фио"),
            "phone": ("телефон",),
            "email": ("e-mail покупателя", "email", "user_email"),
            "city": ("город",),
            "address": ("адрес доставки", "адрес"),
            "item_name": ("товар", "название товара"),
            "sku": ("артикул",),
            "quantity": ("количество",),
            "price": ("цена",),
        },
    ),
    Preset(
        "tilda",
        "Tilda",
        (_signature("orderid", "amount", "delivery_price"), _signature("orderid", "amount", "promocode")),
        {
            "external_id": ("orderid",),
            "placed_at": ("sent", "date"),
            "status": ("paymentstatus", "status"),
            "total": ("amount",),
            "delivery_cost": ("delivery_price",),
            "discount_total": ("discount",),
            "promo_code": ("promocode",),
            "name": ("name",),
            "phone": ("phone",),
            "email": ("email",),
            "city": ("city",),
            "address": ("address", "delivery_address"),
            "item_name": ("product", "product_name"),
            "sku": ("sku",),
            "quantity": ("quantity",),
            "price": ("price",),
        },
    ),
    Preset(
        "retailcrm",
        "RetailCRM",
        (_signature("номер", "дата оформления", "сумма"),),
        {
            "external_id": ("номер",),
            "placed_at": ("дата оформления",),
            "status": ("статус",),
            "total": ("сумма",),
            "delivery_cost": ("стоимость доставки",),
            "discount_total": ("скидка",),
            "currency": ("валюта",),
            "promo_code": ("промокод",),
            "customer_id": ("id клиента", "внешний id клиента"),
            "name": ("покупатель", "фио"),
            "phone": ("телефон",),
            "email": ("email", "e-mail"),
            "city": ("город",),
            "address": ("адрес",),
            "item_name": ("товар",),
            "sku": ("артикул",),
            "quantity": ("количество",),
            "price": ("цена",),
        },
    ),
)
PRESETS_BY_KEY = {preset.key: preset for preset in PRESETS}


def detect_preset(headers: list[str], kind: str) -> Preset | None:
    """The platform whose export these headers are, or None; only order files have platform presets."""
    if kind != ImportKind.ORDERS:
        return None
    present = {header.strip().lower() for header in headers}
    best: tuple[int, Preset] | None = None
    for preset in PRESETS:
        matched = max((len(signature) for signature in preset.signatures if signature <= present), default=0)
        if matched and (best is None or matched > best[0]):
            best = (matched, preset)
    return best[1] if best else None


def preset_mapping(preset: Preset, headers: list[str]) -> dict[str, str]:
    """Target field → the file's header, the first of the preset's spellings the file has."""
    by_spelling: dict[str, str] = {}
    for header in headers:
        by_spelling.setdefault(header.strip().lower(), header)
    mapping: dict[str, str] = {}
    for target, spellings in preset.fields.items():
        for spelling in spellings:
            if spelling in by_spelling:
                mapping[target] = by_spelling[spelling]
                break
    return mapping
