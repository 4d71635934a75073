"""The columns of each import kind, their Chinese header aliases, and cell parsers.

Each parser turns one cell into a clean value or raises :class:`CellError` with the
problem in plain words. Amounts are entered in yuan with at most two decimals and become
int fen through :class:`~decimal.Decimal` (never float). Dates accept 2026-03-01,
2026/3/1, 2026.3.1, 20260301, 2026年3月1日 and spreadsheet date cells.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from trellis.messages import N_, Message
from trellis.trade import industries
from trellis.trade import uscc as uscc_rules
from trellis.trade.models import DocStatus, FirmRole, Industry
from trellis.typed import number_text

MAX_FEN = 10**15  # ten trillion yuan: anything larger is a typing mistake


class CellError(ValueError):
    """Raised by a parser; ``problem`` (a :class:`~trellis.messages.Message`) says what is
    wrong with the cell; ``str()`` is its English text."""

    def __init__(self, template: str | Message, **params):
        self.problem = template if isinstance(template, Message) else Message(template, params)
        super().__init__(str(self.problem))


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a phone or account typed as a number in a spreadsheet
    return str(value).strip()


@lru_cache(maxsize=200_000)
def _uscc(raw: str) -> tuple[str, Message | None]:
    code = uscc_rules.normalise(raw)
    return code, uscc_rules.problem_message(code)


def parse_uscc(value, _today=None) -> str:
    # A file names the same few thousand firms over and over: check each code once.
    """A cell as a unified social credit code (18 characters, check digit right), normalised; raises
    CellError naming the problem."""
    code, problem = _uscc(_text(value))
    if problem:
        raise CellError(problem)
    return code


def text(max_len: int) -> Callable:
    """A cell parser for text of at most *max_len* characters (whitespace trimmed)."""
    def parse(value, _today=None) -> str:
        out = _text(value)
        if len(out) > max_len:
            raise CellError(N_("at most %(max)s characters, this has %(n)s"),
                               max=max_len, n=len(out))
        return out
    return parse


def choice(mapping: dict[str, str], what: str) -> Callable:
    """A cell parser for one of *mapping*'s keys (case and spaces ignored), returning its value;
    *what* names the column in the error, which lists each code with its Chinese word
    (:data:`ZH_WORDS`)."""
    def parse(value, _today=None) -> str:
        raw = _text(value)
        key = raw.lower().replace(" ", "_")
        if key in mapping:
            return mapping[key]
        if raw in mapping:
            return mapping[raw]
        # the Chinese word beside each code: a file filled in from the Chinese template
        # is told the words it uses (F16)
        words = ZH_WORDS.get(what, {})
        allowed = ", ".join(f"{words[v]}/{v}" if v in words else v
                            for v in sorted({v for v in mapping.values()}))
        raise CellError(N_("unknown %(what)s '%(raw)s': use one of %(allowed)s"),
                        what=what, raw=raw, allowed=allowed)
    return parse


ROLES = {"anchor": FirmRole.ANCHOR.value, "vendor": FirmRole.VENDOR.value,
         "核心企业": "anchor", "供应商": "vendor", "小微供应商": "vendor", "经销商": "vendor"}
INDUSTRIES = {i.value: i.value for i in Industry} | {
    "建筑业": "construction", "建筑": "construction", "制造业": "manufacturing",
    "制造": "manufacturing", "批发和零售业": "wholesale_retail", "批发零售": "wholesale_retail",
    "交通运输、仓储和邮政业": "transport_logistics", "交通运输": "transport_logistics",
    "物流": "transport_logistics", "其他": "other"}
STATUSES = {s.value: s.value for s in DocStatus} | {
    "待确权": "pending", "已确权": "confirmed", "已拒绝": "rejected", "拒绝": "rejected"}

REASONS = {"return": "return", "discount": "discount", "dispute": "dispute",
           "退货": "return", "折让": "discount", "争议": "dispute", "销售退回": "return"}
DOCUMENTS = {"invoice": "invoice", "order": "order", "发票": "invoice", "订单": "order",
             "采购订单": "order"}
UTILITIES = {"electricity": "electricity", "water": "water", "gas": "gas", "电": "electricity",
             "电力": "electricity", "用电": "electricity", "水": "water", "用水": "water",
             "气": "gas", "燃气": "gas", "天然气": "gas", "power": "electricity"}
_USCC = ("信用代码", "uscc_code", "credit_code", "social_credit_code", "firm_uscc",
         "企业代码", "纳税人识别号")
# The platform says 买方/卖方 (buyer/seller) on every page and template header; the other
# words stay as aliases, so files made from older templates or by an ERP still import.
_BUYER = ("买方信用代码", "买方", "采购方统一社会信用代码", "采购方信用代码", "buyer",
          "buyer_id", "buyer_code", "customer", "customer_id", "采购方", "购买方", "购方",
          "购方税号", "购买方信用代码", "客户统一社会信用代码", "客户信用代码", "客户税号",
          "核心企业税号", "核心企业信用代码")
_SELLER = ("卖方信用代码", "卖方", "销售方统一社会信用代码", "销售方信用代码", "seller",
           "seller_id", "seller_code", "vendor", "vendor_id", "supplier", "supplier_id",
           "销售方", "销方", "销方税号", "供应商税号", "供应商信用代码", "供应商统一社会信用代码")

#: GB/T 4754 industry names and fragments -> Trellis's industries, tried in this order.
_INDUSTRY_WORDS = (("制造", "manufacturing"), ("建筑", "construction"), ("土木", "construction"),
                   ("装饰装修", "construction"), ("批发", "wholesale_retail"),
                   ("零售", "wholesale_retail"), ("运输", "transport_logistics"),
                   ("仓储", "transport_logistics"), ("物流", "transport_logistics"),
                   ("邮政", "transport_logistics"))


def parse_industry(value, _today=None) -> str:
    """An industry: Trellis's own names, their Chinese names, or an official GB/T 4754
    industry name (e.g. 计算机、通信和其他电子设备制造业 -> manufacturing); a name that
    fits none of the four is "other"."""
    raw = _text(value)
    key = raw.lower().replace(" ", "_")
    if key in INDUSTRIES:
        return INDUSTRIES[key]
    if raw in INDUSTRIES:
        return INDUSTRIES[raw]
    for word, industry in _INDUSTRY_WORDS:
        if word in raw:
            return industry
    return "other"


def parse_industry_cell(value, _today=None) -> tuple[str, str | None]:
    """A firm list's industry cell (行业, 所属行业): the coarse industry as
    :func:`parse_industry` gives it, and the GB/T 4754 division or section the same text
    names (汽车制造业 -> ("manufacturing", "36")), None when it names none. Never an error:
    text the classification does not know keeps today's coarse industry only."""
    return parse_industry(value), industries.lookup(_text(value))


def parse_industry_code(value, _today=None) -> str | None:
    """A GB/T 4754 division or section, by official name or code (36, C36, 汽车制造业, C);
    None (blank) for text the classification does not know, never an error."""
    return industries.lookup(_text(value))


_DATE_RE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


def parse_day(value) -> date:
    """A cell as a date: a spreadsheet date, or text such as 2026-03-01,
    2026/3/1 or 2026年3月1日."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return _day_text(_text(value))


@lru_cache(maxsize=20_000)
def _day_text(raw: str) -> date:
    if len(raw) == 10 and raw[4] == "-" and raw[7] == "-":
        try:
            return date.fromisoformat(raw)
        except ValueError:
            pass
    match = _DATE_RE.match(raw)
    if match:
        y, m, d = map(int, match.groups())
    elif re.fullmatch(r"\d{8}", raw):
        y, m, d = int(raw[:4]), int(raw[4:6]), int(raw[6:])
    else:
        raise CellError(N_("'%(raw)s' is not a date: write it as 2026-03-01"), raw=raw)
    try:
        return date(y, m, d)
    except ValueError:
        raise CellError(N_("'%(raw)s' is not a real date"), raw=raw) from None


def day(*, not_future: bool) -> Callable:
    """A cell parser for a date; with *not_future*, a date after the import's today is refused."""
    def parse(value, today=None) -> date:
        out = parse_day(value)
        if not_future and today is not None and out > today:
            raise CellError(N_("date %(day)s is in the future"), day=out)
        return out
    return parse


_AMOUNT_RE = re.compile(r"^-?\d+(\.\d+)?$")


_PLAIN_AMOUNT_RE = re.compile(r"(\d{1,16})(?:\.(\d{1,2}))?")


def parse_amount_fen(value, _today=None) -> int:
    """Yuan with at most 2 decimals -> int fen; must be more than zero."""
    if value.__class__ is str:
        # The common cell (digits, at most two decimals) in integer arithmetic; anything
        # else, and every refusal, goes the Decimal way below.
        plain = _PLAIN_AMOUNT_RE.fullmatch(value)
        if plain is not None:
            fen = int(plain[1]) * 100 + int((plain[2] or "0").ljust(2, "0"))
            if 0 < fen < MAX_FEN:
                return fen
    if isinstance(value, bool):
        raise CellError(N_("not a number"))
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, float):
        amount = Decimal(repr(value))  # the shortest decimal that round-trips the cell
    else:
        raw = number_text(_text(value))
        if not _AMOUNT_RE.match(raw):
            raise CellError(N_("'%(raw)s' is not a number"), raw=_text(value))
        try:
            amount = Decimal(raw)
        except InvalidOperation:
            raise CellError(N_("'%(raw)s' is not a number"), raw=raw) from None
    if amount < 0:
        raise CellError(N_("the amount is negative"))
    if amount == 0:
        raise CellError(N_("the amount is zero"))
    if amount != amount.quantize(Decimal("0.01")):
        raise CellError(N_("at most two decimal places"))
    fen = int(amount * 100)
    if fen >= MAX_FEN:
        raise CellError(N_("the amount is implausibly large"))
    return fen


def amount_fen_or_zero(value, today=None) -> int:
    """Like :func:`parse_amount_fen`, but zero is a real figure (a nil tax return)."""
    raw = _text(value).replace(",", "").replace("¥", "").replace("￥", "")
    if re.fullmatch(r"0+(\.0+)?", raw or "x"):
        return 0
    return parse_amount_fen(value, today)


def optional_amount_or_zero(value, today=None) -> int | None:
    """An empty cell as None, else an amount in integer fen (zero allowed)."""
    return None if _text(value) == "" else amount_fen_or_zero(value, today)


def optional_amount_fen(value, today=None) -> int | None:
    """An empty cell as None, else a positive amount in integer fen (the cell is in yuan)."""
    return None if _text(value) == "" else parse_amount_fen(value, today)


def days_count(value, _today=None) -> int:
    """A cell as a whole number of days, 0 to 3650 (ten years)."""
    raw = _text(value)
    if not re.fullmatch(r"\d{1,4}", raw):
        raise CellError(N_("'%(raw)s' is not a whole number of days"), raw=raw)
    n = int(raw)
    if n > 3650:
        raise CellError(N_("more than ten years"))
    return n


def number_list(value, _today=None) -> list[str]:
    """A cell as a list of invoice numbers separated by ; , | or spaces; a number listed twice is
    refused."""
    parts = [p.strip() for p in re.split(r"[;；,，|\s]+", _text(value)) if p.strip()]
    if len(parts) != len(set(parts)):
        raise CellError(N_("an invoice number is listed twice"))
    return parts


_MONTH_RE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?$")


def parse_month(value, today=None) -> date:
    """A month as its first day: 2026-03, 2026/3, 2026年3月, 202603 or any date in it."""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        out = value.replace(day=1)
    else:
        raw = _text(value)
        match = _MONTH_RE.match(raw)
        if match:
            y, m = map(int, match.groups())
        elif re.fullmatch(r"\d{6}", raw):
            y, m = int(raw[:4]), int(raw[4:])
        else:
            try:
                return parse_day(raw).replace(day=1)
            except CellError:
                raise CellError(N_("'%(raw)s' is not a month: write it as 2026-03"),
                                raw=raw) from None
        if not 1 <= m <= 12:
            raise CellError(N_("'%(raw)s' is not a real month"), raw=raw)
        out = date(y, m, 1)
    if today is not None and out > today:
        raise CellError(N_("month %(month)s is in the future"), month=f"{out:%Y-%m}")
    return out


_PERIOD_RE = re.compile(
    r"^(\d{4})\s*(?:年)?\s*(?:(?:[Qq]|第)\s*([1-4])\s*(?:季度?)?|[Hh]([12])|"
    r"(上|下)半年|[-/.]?\s*(\d{1,2})\s*月?)?\s*(?:年度)?$")


def parse_period(value, today=None) -> tuple[date, date]:
    """A filing period: 2025 (the year), 2025Q3 / 2025年第3季度, 2025H1 / 2025年上半年,
    2025-07 (a month), or two dates '2025-01-01~2025-06-30'."""
    raw = _text(value).replace("至", "~").replace("－", "-")
    if "~" in raw or " - " in raw:
        a, b = re.split(r"\s*~\s*|\s+-\s+", raw, maxsplit=1)
        start, end = parse_day(a), parse_day(b)
        if end < start:
            raise CellError(N_("the period ends before it starts"))
        return start, end
    match = _PERIOD_RE.match(raw)
    if not match:
        raise CellError(N_("'%(raw)s' is not a period: write 2025, 2025Q3, 2025H1, 2025-07 or "
                           "2025-01-01~2025-06-30"), raw=raw)
    y = int(match.group(1))
    quarter, half, half_zh, month = match.group(2), match.group(3), match.group(4), \
        match.group(5)
    if quarter:
        q = int(quarter)
        start, end_month = date(y, 3 * q - 2, 1), 3 * q
    elif half or half_zh:
        h = int(half) if half else (1 if half_zh == "上" else 2)
        start, end_month = date(y, 6 * h - 5, 1), 6 * h
    elif month:
        m = int(month)
        if not 1 <= m <= 12:
            raise CellError(N_("'%(raw)s' is not a real month"), raw=raw)
        start, end_month = date(y, m, 1), m
    else:
        start, end_month = date(y, 1, 1), 12
    end = (date(y + 1, 1, 1) if end_month == 12 else date(y, end_month + 1, 1))
    return start, end - timedelta(days=1)


def optional_period(value, today=None):
    """An empty cell as None, else a tax period (its first and last day)."""
    return None if _text(value) == "" else parse_period(value, today)


_QTY_RE = re.compile(r"^\d+(\.\d+)?$")


def parse_quantity(value, _today=None) -> Decimal:
    """A metered quantity (kWh, m3): zero or more, at most three decimals."""
    if isinstance(value, bool):
        raise CellError(N_("not a number"))
    if isinstance(value, float):
        value = repr(value)
    raw = _text(value).replace(",", "").replace("，", "").replace(" ", "")
    if not _QTY_RE.match(raw):
        raise CellError(N_("'%(raw)s' is not a quantity (zero or more)"), raw=_text(value))
    q = Decimal(raw)
    if q != q.quantize(Decimal("0.001")):
        raise CellError(N_("at most three decimal places"))
    if q >= Decimal("1e12"):
        raise CellError(N_("the quantity is implausibly large"))
    return q


def parse_count(value, _today=None) -> int:
    """A cell as a whole number from 0 to 9,999,999 (thousands separators allowed)."""
    raw = _text(value).replace(",", "")
    if not re.fullmatch(r"\d{1,7}", raw):
        raise CellError(N_("'%(raw)s' is not a whole number (zero or more)"), raw=raw)
    return int(raw)


YES_NO = {"1": True, "0": False, "yes": True, "no": False, "y": True, "n": False,
          "true": True, "false": False, "是": True, "否": False, "defaulted": True,
          "default": True, "bad": True, "good": False, "repaid": False, "违约": True,
          "逾期": True, "不良": True, "正常": False, "结清": False, "已结清": False}


def parse_defaulted(value, _today=None) -> bool:
    """A cell as True (defaulted) or False (repaid): defaulted/repaid, yes/no, 1/0 or 违约/正常."""
    raw = _text(value).lower()
    if raw.endswith(".0"):
        raw = raw[:-2]
    if raw in YES_NO:
        return YES_NO[raw]
    raise CellError(N_("'%(raw)s': write defaulted/repaid, yes/no, 1/0 or 违约/正常"),
                    raw=_text(value))


@dataclass(frozen=True)
class Col:
    key: str
    parse: Callable
    required: bool = False
    zh: str = ""
    aliases: tuple[str, ...] = ()
    example: tuple = ()  # values for the template's example rows


@dataclass(frozen=True)
class Kind:
    name: str
    columns: tuple[Col, ...]
    title_zh: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)

    def column(self, key: str) -> Col:
        """The column of this kind whose key is *key* (StopIteration when there is none)."""
        return next(c for c in self.columns if c.key == key)


def _c(key, parse, required=False, zh="", aliases=(), example=()):
    return Col(key, parse, required, zh, tuple(aliases), tuple(example))


# Example firms use valid USCCs so the templates import as they are.
EX_ANCHOR = "91330110MA2H0A001F"
EX_VENDOR_1 = "91330110MA2H0A002J"
EX_VENDOR_2 = "91330110MA2H0A003M"

KINDS: dict[str, Kind] = {
    "firms": Kind("firms", (
        _c("uscc", parse_uscc, True, "统一社会信用代码", _USCC,
           (EX_ANCHOR, EX_VENDOR_1, EX_VENDOR_2)),
        _c("name", text(200), True, "企业名称", ("名称", "公司名称", "firm_name", "company",
                                              "company_name", "企业", "客户名称"),
           ("杭州示范制造有限公司", "杭州小河五金加工厂", "余杭顺达物流有限公司")),
        _c("role", choice(ROLES, "role"), True, "角色", ("type", "firm_type", "企业类型"),
           ("anchor", "vendor", "vendor")),
        _c("industry", parse_industry_cell, False, "行业", ("sector", "所属行业"),
           ("manufacturing", "manufacturing", "transport_logistics")),
        _c("industry_code", parse_industry_code, False, "国民经济行业",
           ("国民经济行业分类", "行业代码", "行业分类", "行业大类", "gbt4754", "industry_division"),
           ("汽车制造业", "金属制品业", "道路运输业")),
        _c("region", text(120), False, "地区", ("所在地区",), ("杭州市", "杭州市余杭区",
                                                           "杭州市余杭区")),
        _c("phone", text(32), False, "联系电话", ("电话", "手机", "tel", "mobile",
                                             "telephone"),
           ("0571-88001234", "13800001111", "13900002222")),
        _c("legal_rep", text(80), False, "法定代表人", ("法人", "legal_representative"),
           ("王建国", "李小河", "张顺")),
        _c("address", text(300), False, "地址", ("注册地址", "经营地址"),
           ("杭州市余杭区示范路1号", "杭州市余杭区工业园2号", "杭州市余杭区物流园3号")),
        _c("bank_account", text(40), False, "银行账号", ("账号", "收款账号", "account_no",
                                                 "account", "银行账户"),
           ("6222020000000000001", "6222020000000000002", "6222020000000000003")),
        _c("founded_on", day(not_future=True), False, "成立日期", ("founded", "established",
                                                              "registration_date"),
           ("2005-06-01", "2016-03-15", "2019-09-09")),
        _c("tax_vat_sales", optional_amount_fen, False, "增值税销售额（元）",
           ("增值税销售额",), ("", "1200000.00", "")),
        _c("tax_paid", optional_amount_fen, False, "纳税额（元）", ("纳税额",),
           ("", "36000.00", "")),
        _c("tax_period", text(16), False, "纳税期间", (), ("", "2025", "")),
    ), "企业"),
    "relationships": Kind("relationships", (
        _c("supplier_uscc", parse_uscc, True, "供应商统一社会信用代码",
           ("供应商信用代码", "supplier", "supplier_id", "供应商代码", "供应商税号"),
           (EX_VENDOR_1, EX_VENDOR_2)),
        _c("buyer_uscc", parse_uscc, True, "买方统一社会信用代码", _BUYER,
           (EX_ANCHOR, EX_VENDOR_1)),
        _c("since", day(not_future=True), True, "合作起始日期", ("合作开始日期", "start_date",
                                                              "since_date", "起始日期"),
           ("2020-01-01", "2022-05-01")),
        _c("payment_terms_days", days_count, False, "账期（天）",
           ("账期", "terms", "payment_terms", "terms_days"), ("60", "30")),
    ), "供应关系"),
    "orders": Kind("orders", (
        _c("buyer_uscc", parse_uscc, True, "买方统一社会信用代码", _BUYER,
           (EX_ANCHOR, EX_ANCHOR)),
        _c("seller_uscc", parse_uscc, True, "卖方统一社会信用代码", _SELLER,
           (EX_VENDOR_1, EX_VENDOR_1)),
        _c("number", text(64), True, "订单号", ("订单编号", "order_no", "order_number",
                                              "po_no", "po_number", "po", "采购订单号"),
           ("PO-2026-0001", "PO-2026-0002")),
        _c("amount", parse_amount_fen, True, "金额（元）", ("金额", "订单金额", "order_amount",
                                                      "amount_yuan", "total"),
           ("125000.00", "8600.50")),
        _c("order_date", day(not_future=True), True, "下单日期",
           ("订单日期", "date", "po_date", "日期", "采购日期"), ("2026-01-05", "2026-02-10")),
        _c("status", choice(STATUSES, "status"), False, "确权状态",
           ("状态", "confirmation", "confirmation_status"), ("confirmed", "pending")),
    ), "采购订单"),
    "invoices": Kind("invoices", (
        _c("seller_uscc", parse_uscc, True, "卖方统一社会信用代码", _SELLER,
           (EX_VENDOR_1, EX_VENDOR_1)),
        _c("buyer_uscc", parse_uscc, True, "买方统一社会信用代码", _BUYER,
           (EX_ANCHOR, EX_ANCHOR)),
        _c("number", text(64), True, "发票号码", ("发票号", "invoice_no", "invoice_number",
                                                "inv_no", "invoice", "发票编号"),
           ("33001234", "33001235")),
        # the invoice form's words (tax included, 价税合计); templates with the older
        # header 金额（元） still import (reader 13, J16)
        _c("amount", parse_amount_fen, True, "金额（元，含税）",
           ("金额（元）", "金额", "价税合计", "invoice_amount", "amount_yuan", "total",
            "开票金额"),
           ("125000.00", "8600.50")),
        _c("issue_date", day(not_future=True), True, "开票日期",
           ("date", "invoice_date", "issued_on", "issued", "日期"),
           ("2026-01-20", "2026-02-25")),
        # A bank export may have no due date: issue date + the pair's payment terms.
        _c("due_date", day(not_future=False), False, "到期日",
           ("付款到期日", "due", "due_on", "maturity", "应付日期"),
           ("2026-03-21", "2026-04-26")),
        _c("order_number", text(64), False, "订单号",
           ("订单编号", "order_no", "po_no", "po_number", "order", "采购订单号"),
           ("PO-2026-0001", "PO-2026-0002")),
        _c("status", choice(STATUSES, "status"), False, "确权状态",
           ("状态", "confirmation", "confirmation_status"), ("confirmed", "pending")),
    ), "发票"),
    "payments": Kind("payments", (
        _c("payer_uscc", parse_uscc, True, "付款方统一社会信用代码",
           ("付款方信用代码", "payer", "payer_id", "付款方", "付款人"), (EX_ANCHOR,)),
        _c("payee_uscc", parse_uscc, True, "收款方统一社会信用代码",
           ("收款方信用代码", "payee", "payee_id", "收款方", "收款人"), (EX_VENDOR_1,)),
        # A bank export may have no reference: one is derived from the row (see importer).
        _c("reference", text(64), False, "付款流水号",
           ("流水号", "交易流水号", "ref", "payment_reference", "transaction_id", "txn_id"),
           ("BANK-20260321-0001",)),
        _c("amount", parse_amount_fen, True, "金额（元）",
           ("金额", "付款金额", "payment_amount", "amount_yuan", "交易金额"), ("125000.00",)),
        _c("paid_on", day(not_future=True), True, "付款日期",
           ("date", "payment_date", "paid", "value_date", "交易日期", "日期"),
           ("2026-03-21",)),
        _c("invoice_numbers", number_list, False, "核销发票号",
           ("发票号码", "invoice_no", "invoice_numbers", "invoices", "invoice"),
           ("33001234",)),
    ), "付款"),
    "deliveries": Kind("deliveries", (
        _c("buyer_uscc", parse_uscc, True, "买方统一社会信用代码", _BUYER, (EX_ANCHOR,)),
        _c("order_number", text(64), True, "订单号",
           ("订单编号", "order_no", "po_no", "po_number", "order"), ("PO-2026-0001",)),
        _c("delivered_on", day(not_future=True), True, "交货日期",
           ("date", "delivery_date", "shipped_on", "收货日期", "送货日期", "日期"),
           ("2026-01-15",)),
        _c("amount", parse_amount_fen, True, "金额（元）",
           ("金额", "交货金额", "delivered_amount", "amount_yuan"), ("125000.00",)),
        _c("seller_uscc", parse_uscc, False, "卖方统一社会信用代码", _SELLER,
           (EX_VENDOR_1,)),
    ), "交货"),
    "credit_notes": Kind("credit_notes", (
        _c("seller_uscc", parse_uscc, True, "卖方统一社会信用代码", _SELLER, (EX_VENDOR_1,)),
        _c("buyer_uscc", parse_uscc, True, "买方统一社会信用代码", _BUYER, (EX_ANCHOR,)),
        _c("number", text(64), True, "红字发票号码",
           ("credit_note_no", "credit_note", "return_no", "退货单号", "红字发票号"),
           ("CN-2026-0001",)),
        _c("amount", parse_amount_fen, True, "金额（元）", ("金额", "退货金额", "amount_yuan"),
           ("8600.50",)),
        _c("issued_on", day(not_future=True), True, "开具日期",
           ("date", "issue_date", "return_date", "退货日期", "日期"), ("2026-03-01",)),
        _c("invoice_number", text(64), False, "原发票号码",
           ("invoice_no", "original_invoice", "发票号码", "发票号"), ("33001235",)),
        _c("reason", choice(REASONS, "reason"), False, "原因", ("类型", "type"),
           ("return",)),
    ), "红字发票和退货"),
    "confirmations": Kind("confirmations", (
        _c("seller_uscc", parse_uscc, True, "卖方统一社会信用代码", _SELLER,
           (EX_VENDOR_1, EX_VENDOR_1)),
        _c("buyer_uscc", parse_uscc, True, "买方统一社会信用代码", _BUYER,
           (EX_ANCHOR, EX_ANCHOR)),
        _c("number", text(64), True, "单据号码",
           ("发票号码", "发票号", "invoice_no", "document_no", "number", "单号"),
           ("33001234", "PO-2026-0002")),
        _c("status", choice(STATUSES, "status"), True, "确权状态",
           ("状态", "confirmation", "confirmation_status", "确权结果"),
           ("confirmed", "rejected")),
        _c("document", choice(DOCUMENTS, "document"), False, "单据类型",
           ("doc_type", "document_type", "类型"), ("invoice", "order")),
        _c("confirmed_on", day(not_future=True), False, "确权日期",
           ("date", "confirmation_date", "日期"), ("2026-01-25", "2026-02-12")),
        _c("reject_reason", text(300), False, "拒绝原因", ("reason", "原因"),
           ("", "数量不符")),
    ), "确权状态"),
    "tax_filings": Kind("tax_filings", (
        _c("uscc", parse_uscc, True, "统一社会信用代码", _USCC, (EX_VENDOR_1, EX_VENDOR_1)),
        _c("period", optional_period, False, "所属期",
           ("税款所属期", "纳税期间", "tax_period", "filing_period"), ("2025", "2026Q1")),
        _c("period_start", day(not_future=True), False, "所属期起",
           ("税款所属期起", "from", "period_from", "start"), ("", "")),
        _c("period_end", day(not_future=False), False, "所属期止",
           ("税款所属期止", "to", "period_to", "end"), ("", "")),
        _c("vat_sales", amount_fen_or_zero, True, "增值税销售额（元）",
           ("增值税销售额", "销售额", "vat_sales_yuan", "declared_sales", "sales"),
           ("1200000.00", "310000.00")),
        _c("tax_paid", optional_amount_or_zero, False, "纳税额（元）",
           ("纳税额", "已缴税额", "应纳税额", "tax", "tax_paid_yuan"), ("36000.00", "9300.00")),
    ), "纳税申报"),
    "loans": Kind("loans", (
        _c("uscc", parse_uscc, True, "统一社会信用代码",
           _USCC + ("borrower_id", "borrower_uscc", "借款人代码", "借款人信用代码"),
           (EX_VENDOR_1, EX_VENDOR_2)),
        _c("disbursed_on", day(not_future=True), True, "放款日期",
           ("date", "loan_date", "disbursement_date", "发放日期", "借款日期"),
           ("2024-03-01", "2024-06-15")),
        _c("amount", parse_amount_fen, True, "贷款金额（元）",
           ("金额", "loan_amount", "principal", "本金", "amount_yuan"),
           ("300000.00", "150000.00")),
        _c("defaulted", parse_defaulted, True, "是否违约",
           ("default", "outcome", "bad", "status", "结果", "违约"), ("repaid", "defaulted")),
    ), "历史贷款"),
    "utility_readings": Kind("utility_readings", (
        _c("uscc", parse_uscc, True, "统一社会信用代码", _USCC, (EX_VENDOR_1, EX_VENDOR_1)),
        _c("month", parse_month, True, "月份",
           ("period", "抄表月份", "抄表日期", "所属月份", "date", "reading_date"),
           ("2026-01", "2026-02")),
        _c("quantity", parse_quantity, True, "用量",
           ("用电量", "用电量（千瓦时）", "kwh", "usage", "consumption", "reading", "读数"),
           ("18250.5", "17980")),
        _c("utility", choice(UTILITIES, "utility"), False, "类型",
           ("种类", "meter", "meter_type", "能源类型"), ("electricity", "electricity")),
    ), "水电气读数"),
    "headcount": Kind("headcount", (
        _c("uscc", parse_uscc, True, "统一社会信用代码", _USCC, (EX_VENDOR_1, EX_VENDOR_1)),
        _c("month", parse_month, True, "月份", ("period", "缴费月份", "所属月份", "date"),
           ("2026-01", "2026-02")),
        _c("headcount", parse_count, True, "社保参保人数",
           ("参保人数", "人数", "employees", "insured", "insured_employees", "staff",
            "insured_headcount", "社保人数"),
           ("23", "24")),
    ), "社保人数"),
}

#: The Chinese template's words for the coded values of its example rows, by column key
#: (outside reader 11, F16: the Chinese template showed vendor, confirmed, return...).
#: Each word is one the column's parser reads as that code (ROLES, STATUSES, ... above;
#: tested), so a file filled in with either the words or the codes imports the same.
ZH_WORDS: dict[str, dict[str, str]] = {
    "role": {"anchor": "核心企业", "vendor": "供应商"},
    "industry": {"manufacturing": "制造业", "construction": "建筑业",
                 "wholesale_retail": "批发零售", "transport_logistics": "物流",
                 "other": "其他"},
    "status": {"pending": "待确权", "confirmed": "已确权", "rejected": "已拒绝"},
    "reason": {"return": "退货", "discount": "折让", "dispute": "争议"},
    "document": {"invoice": "发票", "order": "订单"},
    "defaulted": {"defaulted": "违约", "repaid": "已结清"},
    "utility": {"electricity": "电", "water": "水", "gas": "燃气"},
}


def example_value(col: Col, value: str, lang: str = "en") -> str:
    """An example cell of *col* as the template in *lang* shows it: a coded value in
    Chinese words for ``"zh"`` (:data:`ZH_WORDS`), anything else as it is."""
    if lang == "zh":
        return ZH_WORDS.get(col.key, {}).get(value, value)
    return value


def header_map(kind: Kind, header: list[str]) -> tuple[dict[str, int], list[str]]:
    """Map column keys to positions in *header*; return (mapping, duplicated keys).

    English keys, their Chinese names and aliases all match, ignoring case, spaces and
    full-width brackets.
    """
    def norm(s: str) -> str:
        return re.sub(r"[\s_（）()]", "", str(s)).lower()

    names = {}
    for col in kind.columns:
        for name in (col.key, col.zh, *col.aliases):
            if name:
                names[norm(name)] = col.key
    mapping: dict[str, int] = {}
    duplicated = []
    for i, h in enumerate(header):
        key = names.get(norm(h))
        if key is None:
            continue
        if key in mapping:
            duplicated.append(key)
        else:
            mapping[key] = i
    return mapping, duplicated
