"""The demo town's business register (检查对象名录库): about 2,300 market entities, as a typical town has, with
valid unified social credit codes, positions around the centre and the village seats, industries of the seeded
scenarios and credit-risk grades. Deterministic."""
from __future__ import annotations

import math
import random

import shapely
from sqlalchemy import insert, select
from sqlalchemy.orm import Session
from stdnum.cn import uscc

from geo.demo_town import DemoTown

from ..models import Business, Scenario
from ..services.inspections.register import AreaLocator
from .people import SURNAMES

DEMO_BUSINESSES = 2300
COUNTY_CODE = "131182"
_ORG_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
# scenario code: (share of the register, name endings)
SCENARIOS = {
    "JXCS": (0.30, ("便利店", "理发店", "小旅馆", "五金店", "日杂店", "美容美发店", "烟酒店")),
    "CYD": (0.20, ("家常菜馆", "小吃店", "面馆", "饭店", "包子铺", "烧烤店")),
    "CZF": (0.18, ("出租屋",)),
    "XZF": (0.06, ("豆腐坊", "馒头坊", "熟食加工坊", "粉条加工坊")),
    "QXD": (0.06, ("汽车修理部", "汽修厂", "洗车行")),
    "NZD": (0.06, ("农资经营部", "种子化肥店")),
    "NJL": (0.05, ("农家乐", "民宿")),
    "JZGD": (0.03, ("建筑工程项目部",)),
    "JYZ": (0.003, ("加油站",)),
}
GRADES = (("A", 0.2), ("B", 0.5), ("C", 0.2), ("D", 0.08), ("E", 0.02))
CAPS = {"A": 1, "B": 2, "C": 3, "D": 4, "E": 6}  # higher risk, more inspections allowed a year


def credit_code(rng: random.Random, individual: bool) -> str:
    """A unified social credit code with a valid organisation code (GB 11714) and check character (GB 32100)."""
    body = "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(8))
    total = sum(_ORG_ALPHABET.index(c) * w for c, w in zip(body, _ORG_WEIGHTS))
    check = 11 - total % 11
    org = body + ("X" if check == 10 else "0" if check == 11 else str(check))
    first17 = ("92" if individual else "91") + COUNTY_CODE + org
    return first17 + uscc.calc_check_digit(first17)


def load_businesses(session: Session, town: DemoTown, count: int = DEMO_BUSINESSES, seed: int = 11) -> int:
    rng = random.Random(seed)
    industries: dict[str, list[str]] = dict(session.execute(select(Scenario.code, Scenario.industries)).all())
    codes = list(SCENARIOS)
    weights = [SCENARIOS[c][0] for c in codes]
    seats = [(v.name, v.centre_lonlat) for v in town.villages]
    centre = town.centre_lonlat
    rows: list[dict] = []
    seen: set[str] = set()
    while len(rows) < count:
        scenario = rng.choices(codes, weights)[0]
        in_centre = scenario in ("JXCS", "CYD", "CZF", "JYZ") and rng.random() < 0.6
        place, (lon0, lat0) = ("镇区", centre) if in_centre else rng.choice(seats)
        radius = 900 if in_centre else 350
        r, a = radius * math.sqrt(rng.random()), rng.random() * 2 * math.pi
        lon = lon0 + r * math.cos(a) / (111_320 * math.cos(math.radians(lat0)))
        lat = lat0 + r * math.sin(a) / 110_540
        if not town.outline.covers(shapely.Point(lon, lat)):
            continue
        code = credit_code(rng, individual=scenario not in ("JZGD", "JYZ"))
        if code in seen:
            continue
        seen.add(code)
        owner = rng.choice(SURNAMES)
        ending = rng.choice(SCENARIOS[scenario][1])
        short = place.removesuffix("村")
        name = f"{short}{owner}记{ending}" if scenario not in ("JZGD", "JYZ") else f"{short}{ending}（{len(rows) + 1}）"
        grade = rng.choices([g for g, _ in GRADES], [w for _, w in GRADES])[0]
        rows.append({"credit_code": code, "name": name, "legal_rep": owner + rng.choice("伟芳娜敏静丽强磊军洋勇"),
                     "phone": f"13{rng.randint(0, 9)}{rng.randint(0, 99_999_999):08d}",
                     "address": f"{place}{rng.randint(1, 300)}号", "lon": round(lon, 6), "lat": round(lat, 6),
                     "industry": rng.choice(industries.get(scenario) or [""]), "scenario_code": scenario,
                     "risk_grade": grade, "annual_cap": CAPS[grade], "active": True})
    placed = AreaLocator(session).place([(r["lon"], r["lat"]) for r in rows])
    for row, areas in zip(rows, placed):
        row.update(grid_id=areas["grid"], zone_id=areas["zone"], village_id=areas["village"], town_id=areas["town"])
    session.execute(insert(Business.metadata.tables["businesses"]), rows)  # the table: the same columns in every row, one executemany
    return len(rows)
