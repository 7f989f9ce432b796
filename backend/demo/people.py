"""Believable Chinese names for demo people, deterministic."""
from __future__ import annotations

import random

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红玉兰海波辉鹏飞斌宇浩凯文博雪梅春燕立新晓东振永胜德福庆"


def chinese_names(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < count:
        given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
        name = rng.choice(SURNAMES) + given
        if name not in seen:
            seen.add(name)
            names.append(name)
    return names


DEPARTMENTS = [
    ("县市场监督管理局", "SCJG", "市场监管"),
    ("县生态环境分局", "STHJ", "生态环境"),
    ("县应急管理局", "YJGL", "应急管理与安全生产"),
    ("县自然资源和规划局", "ZRZY", "自然资源"),
    ("县住房和城乡建设局", "ZJJ", "城乡建设"),
    ("县农业农村局", "NYNC", "农业农村"),
    ("县卫生健康局", "WSJK", "卫生健康"),
    ("县综合行政执法局", "ZHZF", "综合执法"),
    ("县水利局", "SLJ", "水利"),
]
