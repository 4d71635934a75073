"""Seasonality of trade in a Chinese industrial park.

Every industry slows around the Spring Festival (factories close for two to three weeks
and migrant workers go home). Construction also slows in the plum-rain and heat of July
and August and pushes before the year end; retail peaks for Double 11 (November) and the
run-up to the festival.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from functools import lru_cache

SPRING_FESTIVAL = {
    2018: date(2018, 2, 16), 2019: date(2019, 2, 5), 2020: date(2020, 1, 25),
    2021: date(2021, 2, 12), 2022: date(2022, 2, 1), 2023: date(2023, 1, 22),
    2024: date(2024, 2, 10), 2025: date(2025, 1, 29), 2026: date(2026, 2, 17),
    2027: date(2027, 2, 6), 2028: date(2028, 1, 26), 2029: date(2029, 2, 13),
    2030: date(2030, 2, 3), 2031: date(2031, 1, 23), 2032: date(2032, 2, 11),
}
# Days before and after the festival when little trade happens.
HOLIDAY_BEFORE, HOLIDAY_AFTER = 8, 14
HOLIDAY_LEVEL = 0.15

MONTHLY = {  # index 0 = January; mean about 1
    "manufacturing": (1.05, 0.95, 1.05, 1.0, 1.0, 1.0, 0.95, 0.95, 1.0, 1.0, 1.05, 1.1),
    "construction": (0.8, 0.7, 1.1, 1.2, 1.2, 1.05, 0.75, 0.7, 1.15, 1.2, 1.15, 1.1),
    "wholesale_retail": (1.15, 0.9, 0.9, 0.95, 1.0, 1.05, 0.95, 0.9, 1.0, 1.05, 1.35, 1.2),
    "transport_logistics": (1.1, 0.9, 0.95, 0.95, 1.0, 1.0, 0.95, 0.95, 1.0, 1.05, 1.25, 1.15),
    "other": (1.0,) * 12,
}


def spring_festival(year: int) -> date:
    """The Spring Festival (Lunar New Year's day) of *year*; 10 February if not tabled."""
    return SPRING_FESTIVAL.get(year, date(year, 2, 10))


def in_holiday(day: date) -> bool:
    """Whether *day* falls in the Spring Festival shutdown."""
    for year in (day.year, day.year + 1):
        sf = spring_festival(year)
        if sf - timedelta(days=HOLIDAY_BEFORE) <= day <= sf + timedelta(days=HOLIDAY_AFTER):
            return True
    return False


@lru_cache(maxsize=512)
def day_weights(year: int, month: int) -> tuple[float, ...]:
    """Relative trade weight of each day of a month (weekends lighter, holiday near zero)."""
    days = calendar.monthrange(year, month)[1]
    weights = []
    for d in range(1, days + 1):
        day = date(year, month, d)
        w = 0.35 if day.weekday() >= 5 else 1.0
        if in_holiday(day):
            w *= HOLIDAY_LEVEL
        weights.append(w)
    return tuple(weights)


@lru_cache(maxsize=2048)
def month_factor(industry: str, year: int, month: int) -> float:
    """Expected trade volume of a month relative to an ordinary month, for *industry*."""
    weights = day_weights(year, month)
    normal = sum(0.35 if date(year, month, d).weekday() >= 5 else 1.0
                 for d in range(1, len(weights) + 1))
    profile = MONTHLY.get(industry, MONTHLY["other"])
    return profile[month - 1] * sum(weights) / normal
