"""User-facing messages in zh-CN (default) and English: the catalogue, and localising values that carry Text.
The edge (extensions.http_errors) chooses the language from the request; nothing here reads one."""
from __future__ import annotations

import re
from dataclasses import fields, is_dataclass, replace
from typing import Any

from .errors import DomainError, Text

LANGUAGES = ("zh-CN", "en")

MESSAGES: dict[str, tuple[str, str]] = {
    # code: (zh-CN, en)
    "bad_request": ("请求格式不正确", "The request is malformed"),
    "validation_error": ("提交的内容有误，请检查标出的字段", "Some fields are invalid; see details"),
    "unauthorized": ("请先登录", "Please sign in"),
    "token_expired": ("登录已过期，请重新登录", "Your session has expired; please sign in again"),
    "invalid_token": ("登录凭证无效，请重新登录", "Invalid credentials token; please sign in again"),
    "invalid_credentials": ("用户名或密码错误", "Wrong username or password"),
    "account_locked": (
        "登录失败次数过多，账号已锁定，请于 {until} 后再试",
        "Too many failed sign-ins; the account is locked until {until}",
    ),
    "invalid_refresh_token": ("登录已失效，请重新输入密码", "Your session has ended; please enter your password again"),
    "forbidden": ("您没有权限执行此操作", "You are not allowed to do this"),
    "not_found": ("未找到请求的内容", "Not found"),
    "method_not_allowed": ("不支持该请求方法", "Method not allowed"),
    "conflict": ("与已有数据冲突", "Conflicts with existing data"),
    "duplicate": ("{field} 已存在：{value}", "{field} already exists: {value}"),
    "precondition_failed": ("数据已被他人修改，请刷新后重试", "The data was changed by someone else; reload and retry"),
    "precondition_required": ("修改前请提供 If-Match 版本标记", "An If-Match header is required to change this"),
    "payload_too_large": ("上传内容过大", "The upload is too large"),
    "unsupported_media_type": ("不支持的内容类型", "Unsupported content type"),
    "too_many_requests": ("请求过于频繁", "Too many requests"),
    "internal_error": ("服务器内部错误，请稍后重试", "Internal server error; please retry later"),
    "password_too_short": ("密码至少需要 {min} 个字符", "The password must have at least {min} characters"),
    "password_is_username": ("密码不能与用户名相同", "The password must not be the username"),
    "password_wrong": ("当前密码不正确", "The current password is wrong"),
    "password_is_demo": ("不能使用公开的演示密码", "The published demo password cannot be used"),
    "user_has_no_role": ("用户至少需要一个角色", "A user needs at least one role"),
    "supervisor_needs_village": ("村执法监督员必须指定所属村", "A village supervisor needs a village"),
    "department_role_needs_department": ("部门联络员必须指定所属部门", "A department liaison needs a department"),
    "not_a_village": ("指定的区域不是行政村", "The given area is not a village"),
    "squad_area_kind": ("中队只能分配片区或网格", "A squad can only be assigned zones and grids"),
    "cannot_deactivate_self": ("不能停用自己的账号", "You cannot deactivate your own account"),
    "invalid_parent": ("上级区域不存在或类型不符", "The parent area does not exist or has the wrong kind"),
    "import_rejected": (
        "文件中有 {count} 个要素无效，未导入任何内容",
        "{count} features are invalid; nothing was imported",
    ),
    "no_features": ("文件中没有可导入的要素", "The file has no features to import"),
    "file_required": ("请上传文件（字段名 file）", "Upload a file (field name: file)"),
    "task_in_use": ("已有巡查按此排班开始，不能删除", "A patrol was started from this task: it cannot be deleted"),
    "task_not_yours": ("这不是您的排班", "This task is not yours"),
    "task_over": ("该排班的班次已结束", "This task's shift is over"),
    "patrol_running": (
        "您有一个正在进行的巡查（开始于 {started_at}），请继续该巡查或先结束它",
        "You have a patrol running (started {started_at}): resume it or end it first",
    ),
    "point_not_found": ("该位置不在任何可见区域内", "That point is in no area you may see"),
    "image_too_large": ("照片超过 {max_mb} MB，请压缩后再上传", "The photo is over {max_mb} MB; compress it and upload again"),
    "image_too_many_pixels": (
        "照片像素超过 {max_mp} 百万，无法处理，请用手机相机重新拍摄",
        "The photo has more than {max_mp} megapixels; take it again with the phone camera",
    ),
    "image_empty": ("上传的文件是空的，请重新选择照片", "The uploaded file is empty; choose the photo again"),
    "image_svg": ("不接受 SVG 矢量图，请上传 JPEG、PNG、WebP 或 HEIC 照片",
                  "SVG drawings are not accepted; upload a JPEG, PNG, WebP or HEIC photo"),
    "image_unsupported": ("不支持 {kind} 格式，请上传 JPEG、PNG、WebP 或 HEIC 照片",
                          "{kind} is not supported; upload a JPEG, PNG, WebP or HEIC photo"),
    "not_an_image": ("该文件不是照片，请上传 JPEG、PNG、WebP 或 HEIC 照片",
                     "The file is not a photo; upload a JPEG, PNG, WebP or HEIC photo"),
    "image_magic_mismatch": ("文件内容（{actual}）与其文件头（{declared}）不符，请重新导出照片后上传",
                             "The file's content ({actual}) does not match its header ({declared}); export the photo again"),
    "image_corrupt": ("照片已损坏或不完整，无法读取，请重新上传",
                      "The photo is damaged or incomplete and cannot be read; upload it again"),
    "evidence_hash_mismatch": (
        "原图与拍摄时记录的哈希不一致，可能已被修改或传输出错，请从手机重新上传原图",
        "The original does not match the hash recorded at capture: it was changed or damaged; upload it again from the phone",
    ),
    "evidence_declaration_differs": (
        "该编号（client_id）已用于另一张照片的记录，请为新照片生成新编号",
        "This client_id already names another photo's record; make a new id for a new photo",
    ),
    "evidence_file_differs": ("该证据的{role}文件已上传且内容不同，不能替换",
                              "This evidence already has a different {role} file; it cannot be replaced"),
    "evidence_file_missing": ("该文件尚未上传", "This file has not been uploaded yet"),
    "tus_version": ("请使用 tus {version} 协议（请求头 Tus-Resumable: {version}）",
                    "Speak tus {version} (header Tus-Resumable: {version})"),
    "upload_metadata_invalid": ("Upload-Metadata 格式不正确（{key}）：每项为“名称 base64值”，以逗号分隔",
                                "Upload-Metadata is malformed ({key}): comma-separated `key base64(value)` pairs"),
    "upload_checksum_algorithm": ("不支持该校验算法，可用：{algorithms}", "Unsupported checksum algorithm; use one of {algorithms}"),
    "upload_checksum_invalid": ("Upload-Checksum 格式不正确", "Upload-Checksum is malformed"),
    "upload_checksum_mismatch": ("这段数据与其校验值不符，未保存，请重新发送这一段",
                                 "This chunk does not match its checksum; nothing was kept: send it again"),
    "upload_role_invalid": ("role 须为 original 或 display", "role must be original or display"),
    "upload_evidence_unknown": (
        "未找到您的证据记录 {client_id}，请先提交证据记录（POST /api/v1/evidence）再上传文件",
        "No evidence record {client_id} of yours; declare it first (POST /api/v1/evidence), then upload its files",
    ),
    "upload_length_required": ("请在创建上传时给出文件大小（Upload-Length）", "Give the file's size (Upload-Length) when creating the upload"),
    "upload_not_found": ("上传不存在或已过期，请重新开始上传", "The upload does not exist or has expired; start it again"),
    "upload_offset_mismatch": ("续传位置不符：服务器已收到 {expected} 字节，请从该位置继续",
                               "Wrong offset: the server holds {expected} bytes; go on from there"),
    "upload_past_length": ("发送的数据超过了声明的文件大小（{length} 字节）", "More bytes than the declared length ({length})"),
    "upload_content_type": ("续传数据的 Content-Type 须为 {content_type}", "A PATCH's Content-Type must be {content_type}"),
    "watermark_unavailable": ("服务器未安装中文字体，暂时无法生成水印照片，请联系管理员安装 fonts-noto-cjk",
                              "The server has no CJK font for watermark copies; ask an administrator to install fonts-noto-cjk"),
    "case_category_unknown": ("没有编码为 {category} 的问题类别，请从类别列表中选择", "No case category {category}; pick one from the list"),
    "push_endpoint_refused": ("这个推送地址不是受支持的推送服务，无法订阅；请改用待办或工作通知接收提醒",
                              "That endpoint is not a push service this server sends to; use the inbox or work "
                              "notices instead"),
    "push_key_invalid": ("浏览器给出的推送密钥无效，请关闭后重新打开消息推送",
                         "The browser's push keys are not valid; turn push off and on again"),
    "case_outside_area": ("该位置不在本系统管辖的乡镇范围内，请确认定位后再上报",
                          "That position is outside the towns this system serves; check the location and report again"),
    "case_evidence_unknown": ("找不到您可使用的证据 {ids}，请先上传照片", "No evidence {ids} you may use; upload the photos first"),
    "case_report_differs": ("该编号（client_id）已用于另一条上报，请为新上报生成新编号",
                            "This client_id already names another report; make a new id for a new report"),
    "case_not_found": ("未找到该案件，或您无权查看", "No such case, or you may not see it"),
    "case_actor_leader": ("只有该案件所属中队的中队长或指挥中心可以执行“{action}”",
                          "Only the case's squad leader or the command centre may {action}"),
    "case_actor_handler": ("只有被派遣的执法人员或被吹哨的部门可以执行“{action}”",
                           "Only the officer it was dispatched to or the department it was whistled to may {action}"),
    "case_actor_verifier": ("只有上报人、所在村监督员、中队长或指挥中心可以核查",
                            "Only the reporter, the village supervisor, the squad leader or the centre may verify"),
    "case_actor_rework": ("只有核查人、中队长或指挥中心可以要求返工", "Only a verifier, the squad leader or the centre may send it back"),
    "case_actor_exception": ("只有处置人可以申请、中队长或指挥中心可以批准“{action}”",
                             "Only the handler may ask for, and the leader or centre approve, {action}"),
    "case_approval_by_leader": ("申请须由中队长或指挥中心审批", "A leader or the centre approves requests"),
    "case_nothing_to_approve": ("该案件没有待审批的“{action}”申请", "No {action} request is waiting for approval"),
    "case_pending_exists": ("该案件已有待审批的“{action}”申请，请等待审批结果", "A {action} request is already waiting for approval"),
    "case_assignee_not_officer": ("只能派遣给在职的执法人员", "Dispatch to an active officer"),
    "case_assignee_other_squad": ("该执法人员不属于所选中队", "That officer is not in the chosen squad"),
    "case_dispatch_other_squad": ("派往其他中队须由指挥中心操作", "Only the command centre dispatches to another squad"),
    "case_not_whistleable": ("“{category}”不在吹哨事项范围内，请派遣中队处置", "{category} cannot be whistled; dispatch a squad"),
    "case_whistle_matter_unknown": ("没有编码为 {matter} 的吹哨事项", "No whistle matter {matter}"),
    "case_department_missing": ("吹哨事项对应的部门（{department}）尚未设置，请联系管理员添加部门",
                                "The matter's department ({department}) is not set up; ask an administrator to add it"),
    "case_no_works_limit": ("“{category}”没有需施工处置的时限", "{category} has no limit for handling with works"),
    "case_after_photo_required": ("请附上处置后的照片", "Attach the \"after\" photos"),
    "case_merge_target_closed": ("只能合并到另一个未办结的案件", "Merge into another open case"),
    "open311_api_key": ("api_key 无效或已停用：请向管理员申请（gridpatrol api-key create 名称）",
                        "The api_key is not valid or was revoked; ask an administrator for one"),
    "open311_missing": ("缺少参数 {name}", "The parameter {name} is missing"),
    "open311_bad_parameter": ("参数 {name} 的值无效", "The value of {name} is not valid"),
    "open311_position_required": ("请给出问题位置的 lat 和 long（WGS-84 度）", "Give the problem's lat and long (WGS-84 degrees)"),
    "open311_no_service": ("没有服务代码 {service}", "No service {service}"),
    "open311_no_request": ("没有编号为 {request_id} 的诉求", "No service request {request_id}"),
    "open311_no_token": ("没有这个 token 对应的诉求", "No service request for this token"),
    "open311_no_media": ("没有这张公开照片", "No such public photo"),
    "evidence_file_lost": ("该文件在存储中已丢失，请联系管理员从备份恢复",
                           "This file is missing from storage; ask an administrator to restore it from backup"),
    # joint inspections (综合查一次)
    "nothing_to_change": ("请求中没有要修改的内容", "The request changes nothing"),
    "unprocessable": ("内容有误，未做任何修改", "The content breaks the rules; nothing was changed"),
    "register_unreadable": ("无法读取该文件：请上传 CSV（UTF-8 或 GB18030 编码）或 XLSX 文件",
                            "The file cannot be read: upload a CSV (UTF-8 or GB18030) or an XLSX file"),
    "register_empty": ("文件中没有数据", "The file has no rows"),
    "register_columns_missing": ("缺少必需的列：{columns}（第一行为列名）",
                                 "Required columns are missing: {columns} (the first row holds the headings)"),
    "register_too_long": ("一次最多导入 {max} 行，请分批导入", "At most {max} rows at a time; split the file"),
    "register_rejected": ("有 {count} 行未通过检查，整个文件均未导入；请按每行的原因修改后重新导入",
                          "{count} rows were rejected, so nothing was imported; fix them as each row says and "
                          "import again"),
    "business_not_found": ("未找到该检查对象，或您无权查看", "No such business, or you may not see it"),
    "business_outside_area": ("该位置不在本系统服务的乡镇范围内，请核对经纬度和坐标系",
                              "The position is outside the towns served here; check it and its coordinate system"),
    "business_unknown": ("名录库中没有这些检查对象：{ids}", "The register has no businesses {ids}"),
    "scenario_unknown": ("没有编码为 {scenario} 的检查场景", "No scenario with the code {scenario}"),
    "department_unknown": ("没有编码为 {department} 的部门", "No department with the code {department}"),
    "item_writer_only": ("只有管理员或本部门联络员可以维护该部门的检查事项",
                         "Only an admin or the department's liaison may change its items"),
    "item_back_to_draft": ("已发布或停用的检查事项不能改回草稿", "A published or retired item cannot go back to draft"),
    "scenario_items_repeated": ("检查清单中有重复的事项", "The checklist names an item twice"),
    "inspection_item_unknown": ("本次检查不包含这些事项：{codes}", "These items are not part of this check: {codes}"),
    "inspection_item_unpublished": ("这些检查事项尚未发布，不能列入清单：{codes}",
                                    "These items are not published and cannot go into a checklist: {codes}"),
    "plan_maker_only": ("只有中队长、指挥中心或管理员可以制定和执行检查计划",
                        "Only squad leaders, the command centre or admins make and run inspection plans"),
    "plan_approver_only": ("检查计划须由执法机构负责人（指挥中心领导）审批",
                           "A plan is approved by the head of the enforcing body (a commander)"),
    "plan_self_approval": ("不能审批自己制定的检查计划，请由其他负责人审批",
                           "You cannot approve your own plan; another head must approve it"),
    "plan_not_draft": ("该计划已{status}，不能再审批或修改", "The plan is {status} and cannot be approved again"),
    "plan_not_approved": ("计划尚未审批，不能冻结名录", "The plan is not approved yet, so it cannot be frozen"),
    "plan_already_frozen": ("计划的名录已冻结（{status}），不能再次冻结", "The plan's pools are already frozen ({status})"),
    "plan_not_frozen": ("请先冻结计划的检查对象名录和检查人员名单，再抽取", "Freeze the plan's pools before drawing"),
    "plan_not_found": ("未找到该检查计划，或您无权查看", "No such plan, or you may not see it"),
    "plan_over_annual_cap": ("以下检查对象{year}年的检查次数已达上限，不能再列入计划：{names}",
                             "These businesses have reached their inspection cap for {year}: {names}"),
    "plan_no_targets": ("按计划的条件没有可抽取的检查对象，请调整筛选条件或抽取比例",
                        "No business matches the plan; change its filter or sample"),
    "plan_pool_too_small": ("每户需要 {needed} 名检查人员，但符合条件（持有效执法证）的只有 {found} 名",
                            "{needed} inspectors are needed per business but only {found} are eligible"),
    "plan_window_reversed": ("计划的结束日期早于开始日期", "The plan ends before it starts"),
    "plan_window_one_year": ("一个检查计划不能跨年度，请按年度分别制定", "A plan stays within one calendar year"),
    "plan_sample_missing": ("请为至少一个信用风险等级设置抽取数量或比例", "Set a sample for at least one risk grade"),
    "plan_targets_missing": ("定向检查计划须列出检查对象", "A directed plan names its businesses"),
    "plan_cancel_after_start": ("已有 {count} 户开始检查，不能取消计划", "{count} inspections have started; the plan "
                                                                      "cannot be cancelled"),
    "draw_exists": ("该计划已抽取（第 {draw_id} 号）；如需重新抽取，请填写原因",
                    "The plan was drawn (draw {draw_id}); a re-draw needs a reason"),
    "redraw_after_start": ("已有 {count} 户开始检查，不能重新抽取", "{count} inspections have started; no re-draw"),
    "pools_changed": ("冻结的名录与公布的哈希值不一致，不能抽取，请联系管理员",
                      "The frozen pools no longer match their published hash; call an admin"),
    "draw_infeasible": ("检查人员不足：“{name}”在回避和每人上限之后已无可抽取的检查人员，请扩大人员库",
                        "No inspector is left for {name} after recusals and limits; widen the pool"),
    "draw_not_found": ("未找到该抽取记录", "No such draw"),
    "inspector_unknown": ("没有编号为 {id} 的人员", "No person with the id {id}"),
    "inspector_is_supervisor": ("{name} 是村执法监督员，不能担任检查人员",
                                "{name} is a village supervisor and may not inspect"),
    "inspector_not_staff": ("{name} 不是在职执法人员，不能担任检查人员", "{name} is not enforcement staff"),
    "inspector_no_certificate": ("{name} 没有执法证，不能担任检查人员（持证上岗）",
                                 "{name} has no enforcement certificate and may not inspect"),
    "inspector_certificate_expired": ("{name} 的执法证在检查期间已过期，不能担任检查人员",
                                      "{name}'s enforcement certificate expires before the inspection"),
    "inspection_not_found": ("未找到该检查，或您无权查看", "No such inspection, or you may not see it"),
    "inspection_team_only": ("只有本次检查的检查人员可以操作", "Only the inspection's team may do this"),
    "inspection_submitted": ("该检查已提交，不能再修改", "The inspection is submitted and cannot change"),
    "inspection_cancelled": ("该检查已取消", "The inspection was cancelled"),
    "inspection_not_checked_in": ("请先在现场签到，再提交检查结果", "Check in on site before submitting"),
    "inspection_items_missing": ("还有 {count} 项检查事项未填写结果", "{count} items have no result yet"),
    "inspection_fail_without_photo": ("不合格事项须至少附一张照片：{codes}",
                                      "Every failed item needs at least one photo: {codes}"),
    "inspection_team_certificates": ("检查人员中持有效执法证的不足 2 人，不能提交",
                                     "Fewer than two team members hold a valid certificate today"),
    "inspection_signature_missing": ("请被检查单位负责人在屏幕上签字，或记录拒绝签字的情况",
                                     "The representative signs on screen, or record that they refused"),
    "inspection_signature_too_long": ("签名笔画过多，请清除后重新签字", "The signature is too long; clear and sign again"),
    "inspection_signature_times": ("签名笔画的时间顺序不正确", "The signature's points are not in time order"),
    "inspection_refusal_note": ("拒绝签字时请写明情况", "Say what happened when the representative refused to sign"),
    "inspection_deadline_past": ("事项 {item} 的整改期限早于今天", "Item {item}'s deadline is before today"),
    "inspection_not_submitted": ("检查提交后才能生成告知书和笔录", "The notice and record exist once it is submitted"),
    "inspection_item_not_failed": ("事项 {item} 不是不合格项，不能转为案件", "Item {item} did not fail"),
    "inspection_case_category": ("请选择案件类别", "Choose the case category"),
    "inspection_rate_after_submit": ("检查完成后才能评价", "A visit is rated once it is submitted"),
    "inspection_already_rated": ("本次检查已评价过", "This visit was rated already"),
}


# marshmallow's own messages for refused fields, in Chinese too (the English is marshmallow's text).
FIELD_MESSAGES: dict[str, str] = {
    "Missing data for required field.": "必填",
    "Unknown field.": "未知字段",
    "Field may not be null.": "不能为空值",
    "Not a valid integer.": "须为整数",
    "Not a valid number.": "须为数字",
    "Not a valid string.": "须为字符串",
    "Not a valid boolean.": "须为 true 或 false",
    "Not a valid datetime.": "不是有效的时间",
    "Not a valid aware datetime.": "时间须带时区",
    "Not a valid date.": "不是有效的日期",
    "Not a valid list.": "须为列表",
    "Not a valid mapping type.": "须为对象",
    "Invalid input type.": "类型不正确",
    "Invalid value.": "取值无效",
    "String does not match expected pattern.": "格式不正确",
    "Special numeric values (nan or infinity) are not permitted.": "不能为 NaN 或无穷大",
    "Invalid JSON body.": "请求体不是有效的 JSON",
    "Give min_lon,min_lat,max_lon,max_lat: four numbers in degrees, each min below its max.": (
        "须为 最小经度,最小纬度,最大经度,最大纬度：四个以度为单位的数，最小值小于最大值"),
    "Must be a SHA-256: 64 lowercase hexadecimal digits.": "须为 SHA-256：64 位小写十六进制数字",
    "Give lon and lat together, or neither.": "经度与纬度须同时给出或同时不填",
}
_FIELD_PATTERNS: list[tuple[re.Pattern, str]] = [
    (re.compile(r"^Length must be between (\d+) and (\d+)\.$"), "长度须在 {0} 到 {1} 之间"),
    (re.compile(r"^Shorter than minimum length (\d+)\.$"), "长度至少为 {0}"),
    (re.compile(r"^Longer than maximum length (\d+)\.$"), "长度至多为 {0}"),
    (re.compile(r"^Length must be (\d+)\.$"), "长度须为 {0}"),
    (re.compile(r"^Must be greater than or equal to (\S+) and less than or equal to (\S+)\.$"), "须在 {0} 到 {1} 之间"),
    (re.compile(r"^Must be greater than or equal to (\S+)\.$"), "须不小于 {0}"),
    (re.compile(r"^Must be less than or equal to (\S+)\.$"), "须不大于 {0}"),
    (re.compile(r"^Must be one of: (.*)\.$"), "须为以下之一：{0}"),
]


def field_text(english: str) -> Text | str:
    """A marshmallow message as Text in both languages, or unchanged when it is not one we know."""
    zh = FIELD_MESSAGES.get(english)
    if zh is not None:
        return Text(zh, english)
    for pattern, template in _FIELD_PATTERNS:
        match = pattern.match(english)
        if match:
            return Text(template.format(*match.groups()), english)
    return english


def field_texts(value):
    """Every marshmallow message string inside a field-error structure as field_text() makes it."""
    if isinstance(value, str):
        return field_text(value)
    if isinstance(value, dict):
        return {k: field_texts(v) for k, v in value.items()}
    if isinstance(value, list):
        return [field_texts(v) for v in value]
    return value


def message(code: str, lang: str = "zh-CN", **params: object) -> str:
    zh, en = MESSAGES.get(code, MESSAGES["bad_request"])
    text = en if lang == "en" else zh
    return text.format(**params) if params else text


def error_message(error: DomainError, lang: str = "zh-CN") -> str:
    return error.text.pick(lang) if error.text is not None else message(error.code, lang, **error.params)


def localize(value: Any, lang: str) -> Any:
    """`value` with every Text in it (in dicts, lists, tuples and dataclasses) replaced by its `lang` string."""
    if isinstance(value, Text):
        return value.pick(lang)
    if isinstance(value, dict):
        return {k: localize(v, lang) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(localize(v, lang) for v in value)
    if is_dataclass(value) and not isinstance(value, type):
        return replace(value, **{f.name: localize(getattr(value, f.name), lang) for f in fields(value) if f.init})
    return value
