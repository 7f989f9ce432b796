"""Plans, draws and results as XLSX workbooks (openpyxl, write-only: a county's year fits in memory)."""
from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import Draw, Inspection, InspectionPlan, User

RESULT_NAMES = {"pass": "合格", "fail": "不合格", "na": "不涉及"}
STATUS_NAMES = {"assigned": "待检查", "in_progress": "检查中", "submitted": "已提交", "cancelled": "已取消"}
KIND_NAMES = {"initial": "检查", "reinspection": "复查"}


class _Sheet:
    """A write-only sheet whose text cells can never be read as formulas: a note, a seed or a business name
    starting with = + - @ would run in the reader's spreadsheet (CSV/formula injection)."""

    def __init__(self, sheet: Any) -> None:
        self.sheet = sheet

    def append(self, row: tuple) -> None:
        self.sheet.append(["'" + v if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r") else v
                           for v in row])


def plan_workbook(session: Session, plan: InspectionPlan) -> bytes:
    book = Workbook(write_only=True)
    version = plan.scenario_version
    sheet = _Sheet(book.create_sheet("计划"))
    for row in (("计划编号", plan.id), ("名称", plan.name), ("执法主体", plan.enforcing_body),
                ("任务来源", plan.task_source), ("类型", "双随机" if plan.kind == "random" else "定向"),
                ("检查场景", f"{version.scenario.name}（第 {version.version} 版）"),
                ("检查期间", f"{plan.starts_on} 至 {plan.ends_on}"), ("每户检查人员", plan.inspectors_per_target),
                ("状态", plan.status), ("冻结时间", plan.frozen_at.isoformat() if plan.frozen_at else ""),
                ("名录与人员库 SHA-256", plan.pools_sha256 or "")):
        sheet.append(row)
    people = dict(session.execute(select(User.id, User.display_name)).all())
    draws = list(session.scalars(select(Draw).where(Draw.plan_id == plan.id).order_by(Draw.id)))
    sheet = _Sheet(book.create_sheet("抽取记录"))
    sheet.append(("抽取编号", "随机种子", "种子来源", "算法", "抽取时间", "结果 SHA-256", "重抽原因", "是否作废",
                  "序号", "统一社会信用代码", "风险等级", "检查人员"))
    names = {t["id"]: t["name"] for s in (plan.pools or {}).get("strata", []) for t in s["targets"]}
    for d in draws:
        for n, t in enumerate(d.result["targets"], start=1):
            sheet.append((d.id, d.seed, d.seed_source, d.algorithm, d.drawn_at.isoformat(), d.result_sha256,
                          d.redraw_reason or "", "是" if d.superseded_at else "否", n,
                          f"{t['credit_code']} {names.get(t['business_id'], '')}".strip(), t["grade"],
                          "、".join(people.get(i, str(i)) for i in t["inspector_ids"])))
    sheet = _Sheet(book.create_sheet("检查结果"))
    sheet.append(("检查编号", "类型", "状态", "统一社会信用代码", "名称", "应完成日期", "签到距离（米）", "签到超距",
                  "提交时间", "事项编码", "检查事项", "结果", "情况记录", "整改期限", "照片数", "转案件"))
    items = {i["code"]: i["name"] for i in version.items}
    for inspection in session.scalars(select(Inspection).where(Inspection.plan_id == plan.id)
                                      .order_by(Inspection.id)):
        results = {r.item_code: r for r in inspection.results}
        for code in inspection.item_codes:
            r = results.get(code)
            sheet.append((inspection.id, KIND_NAMES[inspection.kind], STATUS_NAMES[inspection.status],
                          inspection.business.credit_code, inspection.business.name, inspection.due_on,
                          inspection.check_in_distance_m, "是" if inspection.check_in_flagged else "",
                          inspection.submitted_at.isoformat() if inspection.submitted_at else "", code,
                          items.get(code, code), RESULT_NAMES.get(r.result, "") if r else "", r.note if r else "",
                          r.rectify_by if r and r.rectify_by else None, len(r.evidence_ids) if r else 0,
                          r.case_id if r and r.case_id else None))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
