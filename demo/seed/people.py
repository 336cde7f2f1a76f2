"""Who the demo customers are: names, cities, how they found the shop, what they agreed to receive.

Every column is drawn for a whole chunk at once with numpy. Text columns are UTF-8 ``bytes`` arrays (numpy's
``S`` dtype) picked from small lookup tables, so a million names cost an index, not a million f-strings.
"""

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from demo.seed.vocabulary import (
    CHANNELS,
    CITIES,
    CONSENT_SOURCES,
    EMAIL_DOMAINS,
    FEMALE_FIRST,
    MALE_FIRST,
    REFERRER_KNOWN,
    SEASON,
    STREETS,
    SURNAMES,
    TRANSLIT,
    female_surname,
)

Bytes = NDArray[np.bytes_]
Days = NDArray[np.float64]

# A woman's first name and surname, or a man's: index [female, first, surname].
_FIRST = (MALE_FIRST, FEMALE_FIRST)
_SURNAME = (SURNAMES, tuple(female_surname(s) for s in SURNAMES))
_FIRST_COUNT = max(len(MALE_FIRST), len(FEMALE_FIRST))


def _encoded(values: list[str]) -> Bytes:
    return np.array([v.encode() for v in values], dtype=np.bytes_)


def _name_table(latin: bool, pattern: str) -> Bytes:
    """Every (sex, first name, surname) combination, written through ``pattern``; a few thousand entries."""
    rows = []
    for female in (0, 1):
        for f in range(_FIRST_COUNT):
            first = _FIRST[female][f % len(_FIRST[female])]
            for surname in _SURNAME[female]:
                if latin:
                    first_l, surname_l = first.lower().translate(TRANSLIT), surname.lower().translate(TRANSLIT)
                    rows.append(pattern.format(first=first_l, surname=surname_l, initial=first_l[0]))
                else:
                    rows.append(pattern.format(first=first, surname=surname))
    return _encoded(rows)


NAMES = _name_table(False, "{first} {surname}")
# How people spell their addresses; the customer id is appended, which keeps every address unique.
EMAIL_PATTERNS = (
    _name_table(True, "{first}.{surname}"),
    _name_table(True, "{surname}.{first}"),
    _name_table(True, "{initial}{surname}"),
    _name_table(True, "{first}_{surname}"),
)


def _weights(pairs: tuple[tuple[str, float], ...]) -> tuple[Bytes, NDArray[np.float64]]:
    weights = np.array([w for _, w in pairs])
    return _encoded([v for v, _ in pairs]), weights / weights.sum()


CITY_NAMES, CITY_P = _weights(CITIES)
DOMAINS, DOMAIN_P = _weights(EMAIL_DOMAINS)
CONSENT_SOURCE_NAMES, CONSENT_SOURCE_P = _weights(CONSENT_SOURCES)
# How long after the first order each consent source records its consent, in days (from, to).
CONSENT_DELAY = {b"checkout": (0.0, 0.01), b"survey": (2.0, 60.0), b"manager": (1.0, 200.0), b"import": (0.0, 0.0)}
CHANNEL_NAMES = _encoded([c.channel for c in CHANNELS])
CHANNEL_P = np.array([c.share for c in CHANNELS]) / sum(c.share for c in CHANNELS)
UTM = [tuple(_encoded([str(u[i]) for u in c.utm]) for i in range(3)) for c in CHANNELS]
SEASON_WEIGHT = np.array(SEASON) / max(SEASON)
STREET_NAMES = _encoded(list(STREETS))


def season_weight(start: np.datetime64, days: Days) -> Days:
    """Relative demand (1 at the peak) in the calendar month of each moment ``days`` after ``start``."""
    moments = start + (days * 86_400e6).astype("timedelta64[us]")
    month = moments.astype("datetime64[M]").astype(np.int64) % 12
    return SEASON_WEIGHT[month]


@dataclass
class People:
    """One chunk of customers, sorted by arrival: row i arrived before row i + 1."""

    arrival: Days  # days after the period's start: the first order, and when the customer was created
    profile: NDArray[np.int64]  # index into CHANNELS
    channel: Bytes
    name: Bytes
    city: Bytes
    address: Bytes
    utm_source: Bytes
    utm_medium: Bytes
    utm_campaign: Bytes
    referrer: NDArray[np.int64]  # row of an earlier customer of this chunk who brought them, or -1
    has_email: NDArray[np.bool_]
    email_local: Bytes  # without the unique suffix
    email_domain: Bytes
    email_consent: NDArray[np.bool_]
    email_consent_at: Days
    email_consent_source: Bytes
    sms_consent: NDArray[np.bool_]
    sms_consent_at: Days
    sms_consent_source: Bytes

    def __len__(self) -> int:
        return int(self.arrival.size)


def arrivals(rng: np.random.Generator, n: int, horizon: float, start: np.datetime64) -> Days:
    """First-order moments: a young shop gaining traffic (density growing linearly from 0.4 to 1.4 over the
    period, sampled by inversion), thinned by the season so November brings more newcomers than July."""
    found: list[Days] = []
    missing = n
    while missing > 0:
        u = rng.random(2 * missing + 100)
        x = (np.sqrt(0.16 + u * 1.8) - 0.4) * horizon
        x = x[rng.random(x.size) < season_weight(start, x)][:missing]
        found.append(x)
        missing -= x.size
    return np.sort(np.concatenate(found))


def _utm_tags(rng: np.random.Generator, profile: NDArray[np.int64]) -> tuple[Bytes, Bytes, Bytes]:
    """(source, medium, campaign) of each customer, drawn from the tags of their channel profile."""
    n = profile.size
    utm_source = np.empty(n, dtype="S40")
    utm_medium = np.empty(n, dtype="S40")
    utm_campaign = np.empty(n, dtype="S40")
    for index, channel in enumerate(CHANNELS):
        rows = np.flatnonzero(profile == index)
        weights = np.array([u[3] for u in channel.utm])
        pick = rng.choice(len(channel.utm), size=rows.size, p=weights / weights.sum())
        sources, mediums, campaigns = UTM[index]
        utm_source[rows], utm_medium[rows], utm_campaign[rows] = sources[pick], mediums[pick], campaigns[pick]
    return utm_source, utm_medium, utm_campaign


def _addresses(rng: np.random.Generator, n: int) -> Bytes:
    house = rng.integers(1, 120, n).astype("S4")
    flat = rng.integers(1, 300, n).astype("S4")
    address = np.strings.add(
        np.strings.add(np.strings.add(STREET_NAMES[rng.integers(0, len(STREETS), n)], b" "), house),
        np.strings.add(", кв. ".encode(), flat),
    )
    address[rng.random(n) < 0.35] = b""  # pick-up point customers never gave a street address
    return address


def _email_locals(rng: np.random.Generator, person: NDArray[np.int64]) -> Bytes:
    """The part of each address before the customer id and the domain, in one of the usual patterns of a name."""
    pattern = rng.integers(0, len(EMAIL_PATTERNS), person.size)
    email_local = np.empty(person.size, dtype=EMAIL_PATTERNS[0].dtype)
    for index, table in enumerate(EMAIL_PATTERNS):
        rows = np.flatnonzero(pattern == index)
        email_local[rows] = table[person[rows]]
    return email_local


def people_draw(rng: np.random.Generator, n: int, horizon: float, start: np.datetime64) -> People:
    """``n`` customers who first bought within the ``horizon`` days after ``start``."""
    arrival = arrivals(rng, n, horizon, start)
    profile = rng.choice(len(CHANNELS), size=n, p=CHANNEL_P)
    female = (rng.random(n) < 0.56).astype(np.int64)
    first = rng.integers(0, _FIRST_COUNT, n)
    surname = rng.integers(0, len(SURNAMES), n)
    person = (female * _FIRST_COUNT + first) * len(SURNAMES) + surname

    utm_source, utm_medium, utm_campaign = _utm_tags(rng, profile)

    # A friend who brought someone had bought before them: any earlier row of the (arrival-sorted) chunk.
    referral = (CHANNEL_NAMES[profile] == b"referral") & (rng.random(n) < REFERRER_KNOWN) & (np.arange(n) > 0)
    referrer = np.where(referral, np.floor(rng.random(n) * np.arange(n)).astype(np.int64), -1)

    has_email = rng.random(n) < 0.62
    email_consent = has_email & (rng.random(n) < 0.7)
    sms_consent = rng.random(n) < 0.55
    email_source, email_at = _consent_moments(rng, arrival, horizon)
    sms_source, sms_at = _consent_moments(rng, arrival, horizon)
    address = _addresses(rng, n)
    email_local = _email_locals(rng, person)
    return People(
        arrival=arrival,
        profile=profile,
        channel=CHANNEL_NAMES[profile],
        name=NAMES[person],
        city=CITY_NAMES[rng.choice(CITY_NAMES.size, size=n, p=CITY_P)],
        address=address,
        utm_source=utm_source,
        utm_medium=utm_medium,
        utm_campaign=utm_campaign,
        referrer=referrer,
        has_email=has_email,
        email_local=email_local,
        email_domain=DOMAINS[rng.choice(DOMAINS.size, size=n, p=DOMAIN_P)],
        email_consent=email_consent,
        email_consent_at=email_at,
        email_consent_source=email_source,
        sms_consent=sms_consent,
        sms_consent_at=sms_at,
        sms_consent_source=sms_source,
    )


def _consent_moments(rng: np.random.Generator, arrival: Days, horizon: float) -> tuple[Bytes, Days]:
    """Where a consent came from and when: ticked at checkout, in a survey, by a manager on the phone, or in an
    import; never after today."""
    n = arrival.size
    source = CONSENT_SOURCE_NAMES[rng.choice(CONSENT_SOURCE_NAMES.size, size=n, p=CONSENT_SOURCE_P)]
    low = np.zeros(n)
    high = np.zeros(n)
    for name, (earliest, latest) in CONSENT_DELAY.items():
        rows = source == name
        low[rows], high[rows] = earliest, latest
    at = np.minimum(arrival + rng.uniform(low, high), horizon - 1e-3)
    return source, np.maximum(at, arrival)
