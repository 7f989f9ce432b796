"""What each notification says, in Chinese: what happened to which case, and what to do next."""
from __future__ import annotations

from datetime import datetime

from ...models import Case
from ..core.anchors import LOCAL_TZ

KINDS = {
    "dispatched": "案件#{id}「{category}」已派遣给你，请尽快到场报到并处置{due}。",
    "squad_dispatched": "案件#{id}「{category}」已派遣到本中队，请指派队员处置{due}。",
    "whistled": "乡镇吹哨：案件#{id}「{category}」需贵单位报到{due}。",
    "to_accept": "新上报案件#{id}「{category}」待受理，请立案或说明不予立案的理由。",
    "to_verify": "案件#{id}「{category}」已处置，请到现场核查并确认是否整改到位。",
    "to_close": "案件#{id}「{category}」已核查通过，请查看处置前后照片后结案。",
    "rework": "案件#{id}「{category}」核查未通过，需返工，请重新处置{due}。",
    "to_approve": "案件#{id}「{category}」申请{request}，请审批。",
    "decided": "你对案件#{id}「{category}」的{request}申请已{decision}。",
    "accepted": "你上报的案件#{id}「{category}」已立案，正在处理。",
    "rejected": "你上报的案件#{id}「{category}」未予立案：{reason}",
    "closed": "你上报的案件#{id}「{category}」已结案，感谢你的上报。",
    "overdue": "督办：案件#{id}「{category}」已超期（{what}），请立即处理。",
}
OVERDUE_ZH = {"respond": "未按时响应", "report_in": "未按时报到", "handle": "未按期处置"}
REQUEST_ZH = {"extend": "延期", "return": "回退", "park": "挂账"}


def _due(at: datetime | None) -> str:
    return f"，时限 {at.astimezone(LOCAL_TZ):%m月%d日 %H:%M}" if at else ""


def text(kind: str, case: Case, *, due_at: datetime | None = None, **extra: str) -> str:
    return "【网格巡查】" + KINDS[kind].format(id=case.id, category=case.category.name, due=_due(due_at), **extra)
