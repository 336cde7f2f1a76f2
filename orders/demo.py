"""A believable demo shop: two years of customers and orders drawn from a buy-till-you-die process.

Each customer arrives through a channel (search ads, organic search, social networks, a marketplace, a friend's
referral, email, direct), buys at a personal rate drawn from a Gamma distribution and may silently leave after any
purchase with a personal probability drawn from a Beta distribution (the BG/NBD story, with parameters that differ by
channel, so channels really differ in retention). Demand peaks in November–December and dips in summer; each
customer has a typical basket drawn Gamma-Gamma style. Everything is generated with vectorised numpy draws in
chunks, so a million customers and ten million orders are produced in minutes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from numpy.typing import NDArray

MALE_FIRST = [
    "Александр",
    "Дмитрий",
    "Максим",
    "Сергей",
    "Андрей",
    "Алексей",
    "Артём",
    "Илья",
    "Кирилл",
    "Михаил",
    "Никита",
    "Матвей",
    "Роман",
    "Егор",
    "Иван",
    "Павел",
    "Владимир",
    "Денис",
    "Евгений",
    "Олег",
]
FEMALE_FIRST = [
    "Анна",
    "Мария",
    "Елена",
    "Дарья",
    "Алина",
    "Ирина",
    "Екатерина",
    "Анастасия",
    "Ольга",
    "Наталья",
    "Татьяна",
    "Юлия",
    "Светлана",
    "Полина",
    "Виктория",
    "Ксения",
    "Софья",
    "Валерия",
    "Марина",
    "Вера",
]
# Surnames in their male form; the female form adds "а" (Иванов → Иванова), as for these common ones.
SURNAMES = [
    "Иванов",
    "Смирнов",
    "Кузнецов",
    "Попов",
    "Васильев",
    "Петров",
    "Соколов",
    "Михайлов",
    "Новиков",
    "Фёдоров",
    "Морозов",
    "Волков",
    "Алексеев",
    "Лебедев",
    "Семёнов",
    "Егоров",
    "Павлов",
    "Козлов",
    "Степанов",
    "Николаев",
    "Орлов",
    "Андреев",
    "Макаров",
    "Никитин",
    "Захаров",
    "Зайцев",
    "Соловьёв",
    "Борисов",
    "Яковлев",
    "Григорьев",
]
TRANSLIT = str.maketrans(
    {
        "а": "a",
        "б": "b",
        "в": "v",
        "г": "g",
        "д": "d",
        "е": "e",
        "ё": "e",
        "ж": "zh",
        "з": "z",
        "и": "i",
        "й": "y",
        "к": "k",
        "л": "l",
        "м": "m",
        "н": "n",
        "о": "o",
        "п": "p",
        "р": "r",
        "с": "s",
        "т": "t",
        "у": "u",
        "ф": "f",
        "х": "h",
        "ц": "ts",
        "ч": "ch",
        "ш": "sh",
        "щ": "sch",
        "ъ": "",
        "ы": "y",
        "ь": "",
        "э": "e",
        "ю": "yu",
        "я": "ya",
    }
)
CITIES = [
    ("Москва", 0.28),
    ("Санкт-Петербург", 0.14),
    ("Новосибирск", 0.05),
    ("Екатеринбург", 0.05),
    ("Казань", 0.045),
    ("Нижний Новгород", 0.04),
    ("Челябинск", 0.035),
    ("Самара", 0.035),
    ("Омск", 0.03),
    ("Ростов-на-Дону", 0.035),
    ("Уфа", 0.03),
    ("Красноярск", 0.03),
    ("Воронеж", 0.03),
    ("Пермь", 0.03),
    ("Волгоград", 0.025),
    ("Краснодар", 0.04),
    ("Тюмень", 0.02),
    ("Алматы", 0.03),
    ("Астана", 0.02),
    ("Калининград", 0.015),
]
CATALOGUE = [
    ("EL-001", "Беспроводные наушники", "Электроника"),
    ("EL-002", "Зарядное устройство USB-C", "Электроника"),
    ("EL-003", "Чехол для смартфона", "Электроника"),
    ("EL-004", "Power bank 10000 мА·ч", "Электроника"),
    ("EL-005", "Умная колонка", "Электроника"),
    ("HM-001", "Набор полотенец", "Дом"),
    ("HM-002", "Постельное бельё, евро", "Дом"),
    ("HM-003", "Чайник электрический", "Дом"),
    ("HM-004", "Кружка керамическая", "Дом"),
    ("HM-005", "Плед флисовый", "Дом"),
    ("CS-001", "Крем для рук", "Косметика"),
    ("CS-002", "Шампунь", "Косметика"),
    ("CS-003", "Парфюмерная вода", "Косметика"),
    ("CS-004", "Набор для ухода за лицом", "Косметика"),
    ("CL-001", "Футболка хлопковая", "Одежда"),
    ("CL-002", "Джинсы", "Одежда"),
    ("CL-003", "Худи", "Одежда"),
    ("CL-004", "Носки, 5 пар", "Одежда"),
    ("CL-005", "Кроссовки", "Обувь"),
    ("KD-001", "Конструктор", "Детям"),
    ("KD-002", "Мягкая игрушка", "Детям"),
    ("SP-001", "Коврик для йоги", "Спорт"),
    ("SP-002", "Бутылка для воды", "Спорт"),
]
EMAIL_DOMAINS = ["mail.ru", "yandex.ru", "gmail.com", "bk.ru", "inbox.ru", "rambler.ru"]
TAGS = ["опт", "VIP", "жалоба", "блогер", "сотрудник", "подарок"]
NOTES = [
    "Просит звонить после 18:00.",
    "Предпочитает доставку в пункт выдачи.",
    "Был недоволен сроком доставки, извинились и дали промокод.",
    "Покупает подарки к праздникам.",
    "Интересуется оптовыми ценами.",
]


@dataclass(frozen=True)
class ChannelProfile:
    """How customers of one channel behave: share of arrivals, purchase rate (Gamma r, alpha in days) and the
    Beta(a, b) of the probability of leaving after each purchase; UTM tags as the shop's site records them."""

    channel: str
    share: float
    r: float
    alpha: float
    a: float
    b: float
    utm: tuple[tuple[str, str, str], ...]


CHANNELS = [
    ChannelProfile("search_ads", 0.24, 0.9, 10.0, 1.0, 9.0, (("yandex", "cpc", "brand"), ("google", "cpc", "generic"))),
    ChannelProfile("organic", 0.20, 1.0, 9.0, 0.9, 12.0, (("yandex", "organic", ""), ("google", "organic", ""))),
    ChannelProfile(
        "social", 0.16, 0.8, 12.0, 1.1, 7.0, (("vk", "social", "autumn_sale"), ("telegram", "social", "channel"))
    ),
    ChannelProfile(
        "marketplace", 0.14, 0.7, 14.0, 1.3, 6.0, (("ozon", "marketplace", ""), ("wildberries", "marketplace", ""))
    ),
    ChannelProfile("referral", 0.09, 1.3, 7.0, 0.7, 16.0, (("friend", "referral", "invite"),)),
    ChannelProfile("email", 0.07, 1.4, 6.5, 0.6, 18.0, (("newsletter", "email", "weekly"),)),
    ChannelProfile("direct", 0.10, 1.1, 8.0, 0.8, 14.0, (("direct", "none", ""),)),
]
# Relative demand by month (January = index 0): the New Year peak, the summer dip.
SEASON = np.array([0.85, 0.8, 0.95, 0.9, 0.9, 0.75, 0.7, 0.75, 0.95, 1.0, 1.25, 1.45])
# Spend per order, Gamma-Gamma style: a customer's typical basket scale nu ~ Gamma(q, gamma), each order ~ Gamma(p, nu).
SPEND_P, SPEND_Q, SPEND_GAMMA = 6.0, 4.0, 1500.0
MAX_ORDERS = 120


@dataclass
class CustomerChunk:
    """Column arrays for one chunk of customers, indexed 0..n-1; ids are assigned by the writer."""

    name: list[str]
    female: NDArray[np.bool_]
    city: list[str]
    channel: list[str]
    utm_source: list[str]
    utm_medium: list[str]
    utm_campaign: list[str]
    first_at: NDArray[np.float64]  # days since the start of the period
    has_email: NDArray[np.bool_]
    email_local: list[str]
    email_domain: list[str]
    email_consent: NDArray[np.bool_]
    sms_consent: NDArray[np.bool_]
    referred: NDArray[np.bool_]
    tags: NDArray[np.int64]  # index into TAGS or -1
    note: NDArray[np.int64]  # index into NOTES or -1


@dataclass
class OrderChunk:
    """Column arrays for the orders of one customer chunk, sorted by customer then time."""

    customer: NDArray[np.int64]  # index within the customer chunk
    placed_at: NDArray[np.float64]  # days since the start of the period
    total: NDArray[np.int64]  # in kopecks
    delivery: NDArray[np.int64]
    discount: NDArray[np.int64]
    status: NDArray[np.str_]
    status_at: NDArray[np.float64]
    item_count: NDArray[np.int64]


def customers_chunk(rng: np.random.Generator, n: int, horizon: float, start: datetime) -> CustomerChunk:
    """Who the customers are and when each first bought; arrivals grow over the period and follow the season."""
    profile_index = rng.choice(
        len(CHANNELS), size=n, p=np.array([c.share for c in CHANNELS]) / sum(c.share for c in CHANNELS)
    )
    # Arrivals grow linearly (a young shop gaining traffic): density ∝ 0.4 + t, sampled by inversion,
    # then thinned by the season so November brings more new customers than July.
    first = np.empty(n)
    filled = 0
    while filled < n:
        u = rng.random(2 * (n - filled))
        x = (np.sqrt(0.16 + u * (1.0 + 0.8)) - 0.4) * horizon
        months = _months(start, x)
        keep = rng.random(x.size) < SEASON[months] / SEASON.max()
        take = x[keep][: n - filled]
        first[filled : filled + take.size] = take
        filled += take.size
    female = rng.random(n) < 0.55
    first_names = np.where(female, rng.choice(FEMALE_FIRST, n), rng.choice(MALE_FIRST, n))
    surnames = rng.choice(SURNAMES, n)
    names = [f"{f} {s}а" if w else f"{f} {s}" for f, s, w in zip(first_names, surnames, female, strict=True)]
    city_names, city_weights = zip(*CITIES, strict=True)
    cities = rng.choice(city_names, n, p=np.array(city_weights) / sum(city_weights)).tolist()
    utm = [CHANNELS[i].utm[rng.integers(len(CHANNELS[i].utm))] for i in profile_index]
    has_email = rng.random(n) < 0.6
    domains = rng.choice(EMAIL_DOMAINS, n).tolist()
    locals_ = [
        f"{f.lower().translate(TRANSLIT)}.{s.lower().translate(TRANSLIT)}"
        for f, s in zip(first_names, surnames, strict=True)
    ]
    return CustomerChunk(
        name=names,
        female=female,
        city=cities,
        channel=[CHANNELS[i].channel for i in profile_index],
        utm_source=[u[0] for u in utm],
        utm_medium=[u[1] for u in utm],
        utm_campaign=[u[2] for u in utm],
        first_at=first,
        has_email=has_email,
        email_local=locals_,
        email_domain=domains,
        email_consent=has_email & (rng.random(n) < 0.7),
        sms_consent=rng.random(n) < 0.55,
        referred=np.array([CHANNELS[i].channel == "referral" for i in profile_index]),
        tags=np.where(rng.random(n) < 0.05, rng.integers(0, len(TAGS), n), -1),
        note=np.where(rng.random(n) < 0.02, rng.integers(0, len(NOTES), n), -1),
    )


def orders_chunk(rng: np.random.Generator, customers: CustomerChunk, horizon: float, start: datetime) -> OrderChunk:
    """Each customer's purchases: the first at arrival, then Poisson at a personal rate until a silent dropout."""
    n = len(customers.name)
    profile = {c.channel: c for c in CHANNELS}
    r = np.array([profile[c].r for c in customers.channel])
    alpha = np.array([profile[c].alpha for c in customers.channel])
    a = np.array([profile[c].a for c in customers.channel])
    b = np.array([profile[c].b for c in customers.channel])
    rate = rng.gamma(r, 1.0 / alpha)  # purchases per day
    dropout = rng.beta(a, b)
    scale = rng.gamma(SPEND_Q, 1.0 / SPEND_GAMMA, n)  # nu: the customer's basket scale

    owners = [np.arange(n)]
    times = [customers.first_at.copy()]
    alive = np.ones(n, dtype=bool)
    clock = customers.first_at.copy()
    for _ in range(MAX_ORDERS - 1):
        alive &= rng.random(n) >= dropout  # after each purchase the customer may leave for good
        idx = np.flatnonzero(alive)
        if idx.size == 0:
            break
        clock[idx] += rng.exponential(1.0 / np.maximum(rate[idx], 1e-6))
        within = clock[idx] < horizon
        alive[idx[~within]] = False
        idx = idx[within]
        # Seasonal thinning: a purchase that falls in a slow month happens with lower probability.
        months = _months(start, clock[idx])
        bought = rng.random(idx.size) < SEASON[months] / SEASON.max()
        owners.append(idx[bought])
        times.append(clock[idx[bought]])
    customer = np.concatenate(owners)
    placed = np.concatenate(times)
    order = np.lexsort((placed, customer))
    customer, placed = customer[order], placed[order]

    value = rng.gamma(SPEND_P, 1.0 / scale[customer])  # roubles
    goods = np.maximum(np.round(value, -1), 99.0)
    delivery = np.where(goods >= 3000, 0.0, rng.choice([0.0, 199.0, 299.0, 349.0], goods.size))
    discount = np.where(
        rng.random(goods.size) < 0.15, np.round(goods * rng.choice([0.05, 0.1, 0.15], goods.size), 0), 0.0
    )
    total = goods - discount + delivery

    age = horizon - placed
    status = np.full(placed.size, "delivered", dtype="<U9")
    roll = rng.random(placed.size)
    settled = age > 14
    status[settled & (roll < 0.05)] = "cancelled"
    status[settled & (roll >= 0.05) & (roll < 0.08)] = "returned"
    status[(age <= 14) & (age > 5) & (roll < 0.3)] = "shipped"
    status[(age <= 5) & (age > 2)] = "shipped"
    status[(age <= 2) & (roll < 0.5)] = "paid"
    status[(age <= 2) & (roll >= 0.5)] = "new"
    status_delay = np.select(
        [status == "delivered", status == "returned", status == "shipped", status == "cancelled"],
        [
            rng.uniform(2, 6, placed.size),
            rng.uniform(8, 20, placed.size),
            rng.uniform(0.5, 2, placed.size),
            rng.uniform(0.05, 1, placed.size),
        ],
        default=rng.uniform(0, 0.05, placed.size),
    )
    status_at = np.minimum(placed + status_delay, horizon - 1e-4)
    return OrderChunk(
        customer=customer,
        placed_at=placed,
        total=np.round(total * 100).astype(np.int64),
        delivery=np.round(delivery * 100).astype(np.int64),
        discount=np.round(discount * 100).astype(np.int64),
        status=status,
        status_at=status_at,
        item_count=rng.choice([1, 1, 1, 2, 2, 3], placed.size),
    )


def _months(start: datetime, days: NDArray[np.float64]) -> NDArray[np.int64]:
    """Month index (0 = January) of moments ``days`` after ``start``."""
    epoch_month = start.month - 1 + (start.day - 1) / 30.44
    return ((epoch_month + days / 30.44) % 12).astype(np.int64)


def to_utc_text(start: datetime, days: NDArray[np.float64]) -> list[str]:
    """Moments as text PostgreSQL and SQLite both read, computed in bulk (microsecond resolution)."""
    base = np.datetime64(start.astimezone(UTC).replace(tzinfo=None), "us")
    stamps = base + (days * 86_400_000_000).astype("timedelta64[us]")
    return [f"{s}+00:00" for s in np.datetime_as_string(stamps, unit="us")]


def item_rows(
    rng: np.random.Generator, goods_kopecks: NDArray[np.int64], counts: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Order lines for every order at once: (order index, catalogue index, price in kopecks), the prices of an
    order's lines adding up to its goods total exactly (the last line takes the rounding)."""
    owner = np.repeat(np.arange(counts.size), counts)
    weight = rng.uniform(0.3, 1.0, owner.size)
    share = weight / np.bincount(owner, weights=weight, minlength=counts.size)[owner]
    price = (np.floor(goods_kopecks[owner] * share / 100) * 100).astype(np.int64)
    last = np.cumsum(counts) - 1
    price[last] += goods_kopecks - np.bincount(owner, weights=price, minlength=counts.size).astype(np.int64)
    # A line rounded to nothing folds into the order's last line, so every price stays positive.
    empty = price <= 0
    if empty.any():
        np.add.at(price, last[owner[empty]], price[empty])
        price[empty] = 0
    catalogue = rng.integers(0, len(CATALOGUE), owner.size)
    keep = price > 0
    return owner[keep], catalogue[keep], price[keep]
