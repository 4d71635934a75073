"""The national classification of industries, GB/T 4754-2017 (国民经济行业分类): its 20
sections (门类, a letter) and 97 divisions (大类, two digits), with their official names.

A firm keeps the finest of the two its data gives (``Firm.industry_code``: a division's
two digits, e.g. ``36`` 汽车制造业, or a section's letter, e.g. ``C`` 制造业, when only the
section is known); the coarse ``Firm.industry`` stays as it is. :func:`lookup` reads an
official name or code as a park's firm list writes it (``汽车制造业``, ``36``,
``C36 汽车制造业``, ``C``); any other text gives None (blank), never an error.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

#: (section letter, section name, ((division code, division name), ...)), in the standard's order.
SECTIONS: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    ("A", "农、林、牧、渔业", (
        ("01", "农业"), ("02", "林业"), ("03", "畜牧业"), ("04", "渔业"),
        ("05", "农、林、牧、渔专业及辅助性活动"))),
    ("B", "采矿业", (
        ("06", "煤炭开采和洗选业"), ("07", "石油和天然气开采业"), ("08", "黑色金属矿采选业"),
        ("09", "有色金属矿采选业"), ("10", "非金属矿采选业"), ("11", "开采专业及辅助性活动"),
        ("12", "其他采矿业"))),
    ("C", "制造业", (
        ("13", "农副食品加工业"), ("14", "食品制造业"), ("15", "酒、饮料和精制茶制造业"),
        ("16", "烟草制品业"), ("17", "纺织业"), ("18", "纺织服装、服饰业"),
        ("19", "皮革、毛皮、羽毛及其制品和制鞋业"),
        ("20", "木材加工和木、竹、藤、棕、草制品业"), ("21", "家具制造业"),
        ("22", "造纸和纸制品业"), ("23", "印刷和记录媒介复制业"),
        ("24", "文教、工美、体育和娱乐用品制造业"), ("25", "石油、煤炭及其他燃料加工业"),
        ("26", "化学原料和化学制品制造业"), ("27", "医药制造业"), ("28", "化学纤维制造业"),
        ("29", "橡胶和塑料制品业"), ("30", "非金属矿物制品业"),
        ("31", "黑色金属冶炼和压延加工业"), ("32", "有色金属冶炼和压延加工业"),
        ("33", "金属制品业"), ("34", "通用设备制造业"), ("35", "专用设备制造业"),
        ("36", "汽车制造业"), ("37", "铁路、船舶、航空航天和其他运输设备制造业"),
        ("38", "电气机械和器材制造业"), ("39", "计算机、通信和其他电子设备制造业"),
        ("40", "仪器仪表制造业"), ("41", "其他制造业"), ("42", "废弃资源综合利用业"),
        ("43", "金属制品、机械和设备修理业"))),
    ("D", "电力、热力、燃气及水生产和供应业", (
        ("44", "电力、热力生产和供应业"), ("45", "燃气生产和供应业"),
        ("46", "水的生产和供应业"))),
    ("E", "建筑业", (
        ("47", "房屋建筑业"), ("48", "土木工程建筑业"), ("49", "建筑安装业"),
        ("50", "建筑装饰、装修和其他建筑业"))),
    ("F", "批发和零售业", (("51", "批发业"), ("52", "零售业"))),
    ("G", "交通运输、仓储和邮政业", (
        ("53", "铁路运输业"), ("54", "道路运输业"), ("55", "水上运输业"), ("56", "航空运输业"),
        ("57", "管道运输业"), ("58", "多式联运和运输代理业"), ("59", "装卸搬运和仓储业"),
        ("60", "邮政业"))),
    ("H", "住宿和餐饮业", (("61", "住宿业"), ("62", "餐饮业"))),
    ("I", "信息传输、软件和信息技术服务业", (
        ("63", "电信、广播电视和卫星传输服务"), ("64", "互联网和相关服务"),
        ("65", "软件和信息技术服务业"))),
    ("J", "金融业", (
        ("66", "货币金融服务"), ("67", "资本市场服务"), ("68", "保险业"), ("69", "其他金融业"))),
    ("K", "房地产业", (("70", "房地产业"),)),
    ("L", "租赁和商务服务业", (("71", "租赁业"), ("72", "商务服务业"))),
    ("M", "科学研究和技术服务业", (
        ("73", "研究和试验发展"), ("74", "专业技术服务业"), ("75", "科技推广和应用服务业"))),
    ("N", "水利、环境和公共设施管理业", (
        ("76", "水利管理业"), ("77", "生态保护和环境治理业"), ("78", "公共设施管理业"),
        ("79", "土地管理业"))),
    ("O", "居民服务、修理和其他服务业", (
        ("80", "居民服务业"), ("81", "机动车、电子产品和日用产品修理业"), ("82", "其他服务业"))),
    ("P", "教育", (("83", "教育"),)),
    ("Q", "卫生和社会工作", (("84", "卫生"), ("85", "社会工作"))),
    ("R", "文化、体育和娱乐业", (
        ("86", "新闻和出版业"), ("87", "广播、电视、电影和录音制作业"), ("88", "文化艺术业"),
        ("89", "体育"), ("90", "娱乐业"))),
    ("S", "公共管理、社会保障和社会组织", (
        ("91", "中国共产党机关"), ("92", "国家机构"), ("93", "人民政协、民主党派"),
        ("94", "社会保障"), ("95", "群众团体、社会团体和其他成员组织"),
        ("96", "基层群众自治组织及其他组织"))),
    ("T", "国际组织", (("97", "国际组织"),)),
)

#: code (a section's letter or a division's two digits) -> official name.
NAMES: dict[str, str] = {}
#: division code -> its section's letter.
SECTION_OF: dict[str, str] = {}
for _letter, _name, _divisions in SECTIONS:
    NAMES[_letter] = _name
    for _code, _dname in _divisions:
        NAMES[_code] = _dname
        SECTION_OF[_code] = _letter

_BY_NAME: dict[str, str] = {}
for _code, _n in NAMES.items():
    # A division whose name is its section's (70 房地产业, 83 教育, 97 国际组织): the division.
    if _n not in _BY_NAME or _code.isdigit():
        _BY_NAME[_n] = _code
_PUNCT = re.compile(r"[\s、，,·()（）\-—_/]+")
_BY_KEY = {_PUNCT.sub("", n): c for n, c in _BY_NAME.items()}
_CODE_RE = re.compile(r"^([A-T])?\s*(\d{2})(?:\d{1,2})?$")


def name(code: str | None) -> str:
    """The official name of a section or division code; "" for None or an unknown code."""
    return NAMES.get(code or "", "")


def label(code: str | None) -> str:
    """``36 汽车制造业`` (code and official name), as pages show it; "" when unknown."""
    return f"{code} {NAMES[code]}" if code in NAMES else ""


def section(code: str | None) -> str | None:
    """The section letter of a division or section code (None when unknown)."""
    if not code:
        return None
    return code if code in NAMES and code.isalpha() else SECTION_OF.get(code)


@lru_cache(maxsize=4096)
def lookup(text: object) -> str | None:
    """The GB/T 4754 code a cell names: an official division or section name (汽车制造业,
    制造业), a division code (36, C36, and a group or class code such as 3670 is read as its
    division), a section letter (C), or code and name together (C36 汽车制造业). None for
    blank or unknown text: a firm's division is optional and never guessed."""
    raw = unicodedata.normalize("NFKC", str(text or "")).strip()
    if not raw:
        return None
    if raw in _BY_NAME:
        return _BY_NAME[raw]
    head, _, rest = raw.partition(" ")
    m = _CODE_RE.match(head.upper())
    if m:
        code = m.group(2)
        if code in NAMES and (m.group(1) is None or SECTION_OF[code] == m.group(1)):
            if not rest or lookup(rest) in (code, SECTION_OF[code]):
                return code
        return None
    if len(raw) == 1 and raw.upper() in NAMES:
        return raw.upper()
    key = _PUNCT.sub("", raw)
    return _BY_KEY.get(key)
