"""The words and numbers of the demo shop: Russian names and cities, channels with their UTM tags, a catalogue.

Nothing here is random; ``demo.seed.people`` and ``demo.seed.purchases`` draw from these lists. No string
holds a tab, a newline or a backslash, so the COPY writer can pass them through without escaping.
"""

from dataclasses import dataclass

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
    "Тимофей",
    "Георгий",
    "Константин",
    "Николай",
    "Вячеслав",
    "Игорь",
    "Антон",
    "Юрий",
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
    "Людмила",
    "Алёна",
    "Кристина",
    "Евгения",
    "Надежда",
    "Галина",
    "Вероника",
    "Лариса",
]
# Surnames in the male form. Russian surnames in -ов/-ев/-ин take -а for a woman, those in -ский take -ская.
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
    "Романов",
    "Воробьёв",
    "Сергеев",
    "Кузьмин",
    "Фролов",
    "Александров",
    "Дмитриев",
    "Королёв",
    "Гусев",
    "Киселёв",
    "Ильин",
    "Максимов",
    "Поляков",
    "Сорокин",
    "Виноградов",
    "Ковалёв",
    "Белов",
    "Медведев",
    "Антонов",
    "Тарасов",
    "Жуков",
    "Баранов",
    "Филиппов",
    "Комаров",
    "Давыдов",
    "Беляев",
    "Герасимов",
    "Богданов",
    "Осипов",
    "Сидоров",
    "Матвеев",
    "Титов",
    "Марков",
    "Миронов",
    "Крылов",
    "Куликов",
    "Карпов",
    "Власов",
    "Мельников",
    "Денисов",
    "Гаврилов",
    "Тихонов",
    "Казаков",
    "Афанасьев",
    "Данилов",
    "Савельев",
    "Тимофеев",
    "Вишневский",
    "Покровский",
    "Островский",
    "Жуковский",
    "Ковальский",
    "Зиновьев",
    "Калинин",
    "Голубев",
    "Ершов",
]


def female_surname(surname: str) -> str:
    """The female form of a surname from ``SURNAMES``."""
    if surname.endswith("ский"):
        return surname[:-2] + "ая"
    return surname + "а"


# Transliteration for e-mail addresses, the way Russians spell their names in Latin letters.
TRANSLIT = str.maketrans(
    dict(
        pair.split(":")
        for pair in [
            "а:a",
            "б:b",
            "в:v",
            "г:g",
            "д:d",
            "е:e",
            "ё:e",
            "ж:zh",
            "з:z",
            "и:i",
            "й:y",
            "к:k",
            "л:l",
            "м:m",
            "н:n",
            "о:o",
            "п:p",
            "р:r",
            "с:s",
            "т:t",
            "у:u",
            "ф:f",
            "х:kh",
            "ц:ts",
            "ч:ch",
            "ш:sh",
            "щ:shch",
            "ъ:",
            "ы:y",
            "ь:",
            "э:e",
            "ю:yu",
            "я:ya",
        ]
    )
)

# Where the shop's customers live: the big cities by a weight close to their share of online orders.
CITIES = (
    ("Москва", 24.0),
    ("Санкт-Петербург", 12.0),
    ("Новосибирск", 3.5),
    ("Екатеринбург", 3.5),
    ("Казань", 3.0),
    ("Нижний Новгород", 2.8),
    ("Краснодар", 2.8),
    ("Челябинск", 2.4),
    ("Самара", 2.3),
    ("Ростов-на-Дону", 2.4),
    ("Уфа", 2.0),
    ("Омск", 1.9),
    ("Красноярск", 2.0),
    ("Воронеж", 1.9),
    ("Пермь", 1.8),
    ("Волгоград", 1.6),
    ("Тюмень", 1.4),
    ("Саратов", 1.3),
    ("Тольятти", 1.0),
    ("Ижевск", 1.0),
    ("Барнаул", 1.0),
    ("Ярославль", 1.0),
    ("Иркутск", 1.0),
    ("Хабаровск", 0.9),
    ("Владивосток", 1.0),
    ("Калининград", 1.0),
    ("Сочи", 0.9),
    ("Томск", 0.8),
    ("Рязань", 0.8),
    ("Тула", 0.8),
    ("Мурманск", 0.5),
    ("Подольск", 0.9),
    ("Балашиха", 1.0),
    ("Химки", 0.8),
)
STREETS = (
    "ул. Ленина",
    "ул. Гагарина",
    "ул. Мира",
    "ул. Советская",
    "ул. Садовая",
    "ул. Молодёжная",
    "ул. Школьная",
    "пр-т Победы",
    "ул. Пушкина",
    "ул. Центральная",
    "ул. Лесная",
    "ул. Строителей",
)
EMAIL_DOMAINS = (("mail.ru", 35.0), ("yandex.ru", 30.0), ("gmail.com", 20.0), ("bk.ru", 6.0), ("inbox.ru", 5.0))
CONSENT_SOURCES = (("checkout", 80.0), ("survey", 10.0), ("manager", 6.0), ("import", 4.0))

TAG_WHOLESALE, TAG_VIP, TAG_COMPLAINT = "опт", "VIP", "жалоба"
TAGS = (TAG_WHOLESALE, TAG_VIP, TAG_COMPLAINT, "блогер", "подарок", "юрлицо")
NOTES = (
    "Просит звонить после 18:00.",
    "Предпочитает доставку в пункт выдачи.",
    "Был недоволен сроком доставки, извинились и дали промокод.",
    "Покупает подарки к праздникам.",
    "Интересуется оптовыми ценами, просил прайс.",
    "Не звонить: только сообщения.",
    "Вернул товар по размеру, просит подобрать другой.",
)


@dataclass(frozen=True)
class ChannelProfile:
    """How customers of one acquisition channel behave and how the site tagged their first visit.

    ``r``/``alpha`` are the Gamma shape and rate (per day) of the purchase rate, ``a``/``b`` the Beta of the
    probability of leaving after each purchase: the BG/NBD story, with channels that really differ in retention
    (friends and newsletter readers stay, marketplace bargain hunters leave). ``utm`` holds (source, medium,
    campaign, weight); each classifies to this channel under ``customers.channels.classify_channel``.
    """

    channel: str
    share: float
    r: float
    alpha: float
    a: float
    b: float
    utm: tuple[tuple[str, str, str, float], ...]


CHANNELS = (
    ChannelProfile(
        "search_ads",
        24.0,
        0.8,
        11.0,
        1.1,
        8.0,
        (("yandex", "cpc", "brand_search", 3.0), ("yandex", "cpc", "generic", 4.0), ("google", "cpc", "generic", 1.0)),
    ),
    ChannelProfile(
        "organic", 20.0, 1.0, 9.0, 0.9, 11.0, (("yandex", "organic", "", 3.0), ("google", "organic", "", 1.0))
    ),
    ChannelProfile(
        "social",
        15.0,
        0.7,
        12.0,
        1.2,
        6.5,
        (
            ("vk", "social", "autumn_sale", 2.0),
            ("telegram", "social", "channel_post", 1.5),
            ("dzen", "social", "", 0.5),
        ),
    ),
    ChannelProfile(
        "marketplace",
        14.0,
        0.6,
        13.0,
        1.4,
        5.5,
        (
            ("ozon", "marketplace", "", 1.0),
            ("wildberries", "marketplace", "", 1.0),
            ("yandex_market", "marketplace", "", 0.4),
        ),
    ),
    ChannelProfile("referral", 8.0, 1.3, 7.0, 0.7, 15.0, (("friend", "referral", "invite", 1.0),)),
    ChannelProfile(
        "email",
        7.0,
        1.4,
        6.5,
        0.6,
        17.0,
        (("newsletter", "email", "weekly", 2.0), ("newsletter", "email", "black_friday", 1.0)),
    ),
    ChannelProfile("direct", 12.0, 1.1, 8.0, 0.8, 13.0, (("(direct)", "(none)", "", 1.0),)),
)
# Share of referral-channel customers whose friend is a known customer (the rest came by a shared link only).
REFERRER_KNOWN = 0.85

# Relative demand by calendar month (January first): the New Year peak after Black Friday, the summer dip.
SEASON = (0.85, 0.8, 0.95, 0.9, 0.9, 0.75, 0.7, 0.75, 0.95, 1.0, 1.3, 1.5)

# (SKU, name, category, price in roubles). A line's price is the catalogue price; quantities make the basket.
CATALOGUE = (
    ("EL-001", "Беспроводные наушники", "Электроника и аксессуары", 3490),
    ("EL-002", "Зарядное устройство USB-C 30 Вт", "Электроника и аксессуары", 1290),
    ("EL-003", "Чехол для смартфона", "Электроника и аксессуары", 590),
    ("EL-004", "Внешний аккумулятор 10000 мА·ч", "Электроника и аксессуары", 1990),
    ("EL-005", "Умная колонка", "Электроника и аксессуары", 6990),
    ("EL-006", "Кабель USB-C, 1 м", "Электроника и аксессуары", 390),
    ("EL-007", "Защитное стекло", "Электроника и аксессуары", 290),
    ("EL-008", "Фитнес-браслет", "Электроника и аксессуары", 2990),
    ("EL-009", "Смарт-часы", "Электроника и аксессуары", 12990),
    ("HM-001", "Набор полотенец", "Дом", 1490),
    ("HM-002", "Постельное бельё, евро", "Дом", 3990),
    ("HM-003", "Чайник электрический", "Дом", 2490),
    ("HM-004", "Кружка керамическая", "Дом", 450),
    ("HM-005", "Плед флисовый", "Дом", 1190),
    ("HM-006", "Подушка анатомическая", "Дом", 2190),
    ("HM-007", "Набор контейнеров для еды", "Дом", 890),
    ("HM-008", "Робот-пылесос", "Дом", 18990),
    ("CS-001", "Крем для рук", "Косметика", 290),
    ("CS-002", "Шампунь", "Косметика", 490),
    ("CS-003", "Парфюмерная вода", "Косметика", 4590),
    ("CS-004", "Набор для ухода за лицом", "Косметика", 2790),
    ("CS-005", "Сыворотка для лица", "Косметика", 1390),
    ("CS-006", "Бальзам для губ", "Косметика", 190),
    ("CL-001", "Футболка хлопковая", "Одежда", 990),
    ("CL-002", "Джинсы", "Одежда", 3490),
    ("CL-003", "Худи", "Одежда", 2990),
    ("CL-004", "Носки, 5 пар", "Одежда", 590),
    ("CL-005", "Кроссовки", "Обувь", 5990),
    ("CL-006", "Пуховик", "Одежда", 9990),
    ("KD-001", "Конструктор", "Детям", 2490),
    ("KD-002", "Мягкая игрушка", "Детям", 890),
    ("SP-001", "Коврик для йоги", "Спорт", 1590),
    ("SP-002", "Бутылка для воды", "Спорт", 690),
    ("SP-003", "Гантели 2 × 3 кг", "Спорт", 2290),
)
# Spend per order, Gamma-Gamma style: the customer's basket scale nu ~ Gamma(q, 1/gamma); each basket ~ Gamma(p, 1/nu).
SPEND_P, SPEND_Q, SPEND_GAMMA = 6.0, 4.0, 1500.0
# Free delivery from this many roubles; below it a courier or a pick-up point at one of these prices.
FREE_DELIVERY_FROM = 3000
DELIVERY_PRICES = (0, 199, 299, 349)
PROMO_CODES = (("SALE5", 5), ("AUTUMN10", 10), ("VIP15", 15))
