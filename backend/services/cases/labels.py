"""The cycle's words in Chinese, for messages people read (codes stay English in the API)."""
from __future__ import annotations

STATUS_ZH = {"reported": "已上报", "accepted": "已立案", "rejected": "不予立案", "dispatched": "已派遣",
             "whistled": "已吹哨", "acknowledged": "已响应", "handled": "已处置", "verified": "已核查",
             "closed": "已结案", "parked": "已挂账", "merged": "已合并"}
ACTION_ZH = {"report": "上报", "accept": "立案", "reject": "不予立案", "dispatch": "派遣", "whistle": "吹哨",
             "acknowledge": "响应/报到", "handle": "处置反馈", "verify": "核查", "close": "结案", "rework": "返工",
             "extend": "延期", "return": "回退", "park": "挂账", "resume": "恢复办理", "merge": "合并",
             "escalate": "督办"}
