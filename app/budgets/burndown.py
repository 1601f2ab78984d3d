"""Burn-down numbers, pure: spent against plan, and the date the budget runs out at the current pace.
No SQL here (app.budgets.service feeds it the spend per day), so a hand-computed case tests it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

PACE_DAYS = 7  # the pace is the mean spend per day over the last week (or since the start, if shorter)


@dataclass(frozen=True)
class BurnDown:
    unit: str  # "labels" or "hours"
    total: float
    days: list[date]  # from the start to today
    spent: list[float]  # cumulative spend at the end of each day
    remaining: list[float]  # total - spent, at the end of each day (may go below 0 when overspent)
    plan: list[float | None]  # the plan's remaining at the end of each day; None without a plan
    pace_per_day: float  # 0.0 when nothing was spent in the pace window
    forecast_date: date | None  # the day the budget runs out at this pace; None at pace 0
    plan_start: date  # the plan's first day
    plan_end: date | None  # when the plan spends the last of the budget

    @property
    def left(self) -> float:
        return self.remaining[-1] if self.remaining else self.total


def planned_remaining(total: float, day: date, plan_start: date, plan_end: date) -> float:
    """The plan spends the total evenly, a 1/n share each day from plan_start to plan_end (n days, both
    counted): at the end of plan_start 1/n is spent, at the end of plan_end all of it."""
    n = (plan_end - plan_start).days + 1
    done_days = min(max((day - plan_start).days + 1, 0), n)
    return total * (1 - done_days / n)


def compute(*, total: float, unit: str, spend_by_day: dict[date, float], start: date, today: date,
            plan_start: date | None = None, plan_end: date | None = None,
            plan_per_day: float | None = None) -> BurnDown:
    """`spend_by_day`: what was spent on each day (days before `start` count on the start day).

    The plan is the even spend from `plan_start` to `plan_end` when both are given, else `plan_per_day`
    (a daily cap) from `start` until the total is reached, else none."""
    start = min(start, today)
    days = [start + timedelta(days=i) for i in range((today - start).days + 1)]
    spent: list[float] = []
    running = sum(v for d, v in spend_by_day.items() if d < start)
    for day in days:
        running += spend_by_day.get(day, 0.0)
        spent.append(running)
    remaining = [total - s for s in spent]
    if plan_start is None:
        plan_start = start
    if plan_end is None and plan_per_day:
        plan_end = plan_start + timedelta(days=math.ceil(total / plan_per_day) - 1)
    plan: list[float | None] = [planned_remaining(total, d, plan_start, plan_end) if plan_end else None for d in days]
    window = min(PACE_DAYS, len(days))
    recent = sum(spend_by_day.get(today - timedelta(days=i), 0.0) for i in range(window))
    pace = recent / window if window else 0.0
    left = remaining[-1] if remaining else total
    forecast: date | None
    if left <= 0:
        forecast = next((d for d, r in zip(days, remaining, strict=True) if r <= 0), today)
    elif pace > 0:
        # From tomorrow on, `pace` a day: the first day whose end takes what is left to zero.
        forecast = today + timedelta(days=math.ceil(left / pace))
    else:
        forecast = None
    return BurnDown(unit=unit, total=total, days=days, spent=spent, remaining=remaining, plan=plan,
                    pace_per_day=pace, forecast_date=forecast, plan_start=plan_start,
                    plan_end=plan_end)
