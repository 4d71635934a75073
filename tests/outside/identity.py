"""Identities of Chinese firms, written from the public standards only.

* USCC (统一社会信用代码), GB 32100-2015: 18 characters over the 31-character alphabet
  ``0-9 A-H J-N P-R T-U W-Y``.  Position 1 is the registering authority (9 = market
  regulation), 2 the kind of body (1 = enterprise), 3-8 the administrative division code,
  9-17 the organisation code (GB 11714: 8 body characters and a check character), 18 the
  check character: ``C18 = 31 - (sum(value(Ci) * Wi) mod 31)``, with 31 written as ``0``,
  weights ``3**(i-1) mod 31``.
* Organisation code (组织机构代码), GB 11714-1997: ``C9 = 11 - (sum(value(Ci) * Wi) mod 11)``
  with weights 3,7,9,10,5,8,4,2; 10 is written ``X`` and 11 ``0``; a letter's value is its
  position in the Latin alphabet plus 9 (A = 10 ... Z = 35).

Names, people, phones, addresses and bank accounts are drawn from small pools of common
characters, all of them encodable in GBK (the park's firm list is saved by Excel in GBK).
"""

from __future__ import annotations

import numpy as np

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
# Organisation-code body characters that are also legal USCC characters.
ORG_BODY_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
# Suzhou and its districts/counties (GB/T 2260), where this park sits.
DIVISIONS = ("320505", "320506", "320507", "320508", "320509", "320571", "320581", "320583",
             "320585", "320582")


def _org_value(ch: str) -> int:
    return int(ch) if ch.isdigit() else ord(ch) - ord("A") + 10


def org_check(body: str) -> str:
    """GB 11714 check character of an 8-character organisation-code body."""
    if len(body) != 8:
        raise ValueError("an organisation-code body has 8 characters")
    rest = 11 - sum(_org_value(c) * w for c, w in zip(body, ORG_WEIGHTS, strict=True)) % 11
    return {10: "X", 11: "0"}.get(rest, str(rest))


def uscc_check(first17: str) -> str:
    """GB 32100 check character of the first 17 characters of a USCC."""
    if len(first17) != 17:
        raise ValueError("the first part of a USCC has 17 characters")
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def uscc_valid(code: str) -> bool:
    """True when *code* is 18 legal characters whose USCC and organisation checks hold."""
    if len(code) != 18 or any(c not in USCC_ALPHABET for c in code):
        return False
    if uscc_check(code[:17]) != code[17]:
        return False
    return org_check(code[8:16]) == code[16]


def make_uscc(rng: np.random.Generator, used: set[str]) -> str:
    """A fresh valid enterprise USCC registered in one of the park's divisions."""
    while True:
        division = DIVISIONS[rng.integers(len(DIVISIONS))]
        if rng.random() < 0.35:  # post-2015 codes often start the body with 'MA'
            body = "MA" + "".join(ORG_BODY_ALPHABET[i] for i in rng.integers(31, size=6))
        else:
            body = "".join(str(d) for d in rng.integers(10, size=8))
        head = "91" + division + body + org_check(body)
        code = head + uscc_check(head)
        if code not in used:
            used.add(code)
            return code


TRADE_CHARS = ("华", "盛", "鑫", "润", "恒", "达", "宏", "泰", "嘉", "瑞", "鼎", "通", "联",
               "新", "博", "源", "丰", "创", "信", "和", "佳", "汇", "明", "远", "金", "科",
               "永", "弘", "立", "晨", "锦", "东", "吴", "中", "兴", "昌", "荣", "正", "安",
               "德", "顺", "益", "凯", "海", "天", "亚", "光", "旭", "峰", "晟")
CITY_PREFIX = ("苏州", "昆山", "吴江", "常熟", "太仓", "张家港", "")
LATIN = "ABCDEGHJKLMNPRTXYZ"
SURNAMES = ("王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱",
            "胡", "郭", "何", "林", "高", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯",
            "邓", "曹", "彭", "曾", "肖", "田", "董", "潘", "袁", "蔡", "蒋", "余")
GIVEN = ("伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟",
         "涛", "明", "超", "秀", "霞", "平", "刚", "桂", "英", "华", "文", "玉", "建", "国",
         "红", "兰", "志", "峰", "辉", "斌", "波", "鹏", "宇", "浩", "晓", "雪")
ROADS = ("星湖街", "苏虹中路", "东富路", "金鸡湖大道", "方洲路", "唯亭大道", "胜浦路", "娄江大道",
         "通园路", "长阳街", "钟南街", "青丘街", "港田路", "凤里街", "宝达路")
BANKS = ("中国工商银行苏州工业园区支行", "中国建设银行苏州分行营业部", "中国农业银行吴中支行",
         "中国银行苏州高新区支行", "江苏银行苏州分行", "苏州银行园区支行", "招商银行苏州分行",
         "交通银行苏州分行", "中信银行苏州分行", "昆山农村商业银行")


def _pick(rng: np.random.Generator, pool) -> str:
    return pool[int(rng.integers(len(pool)))]


def firm_name(rng: np.random.Generator, industry: str, suffix: str, used: set[str]) -> str:
    """A unique firm name; about one in ten carries full-width characters."""
    while True:
        trade = _pick(rng, TRADE_CHARS) + _pick(rng, TRADE_CHARS)
        if rng.random() < 0.05:  # full-width Latin letters, as typed with a Chinese IME
            trade = "".join(chr(ord(_pick(rng, LATIN)) + 0xFEE0) for _ in range(2)) + trade
        city = _pick(rng, CITY_PREFIX)
        if city and rng.random() < 0.06:  # branch-style name with full-width brackets
            name = f"{trade}{industry}（{city}）{suffix}"
        else:
            name = f"{city}{trade}{industry}{suffix}"
        if name not in used:
            used.add(name)
            return name


def person(rng: np.random.Generator, used: set[str]) -> str:
    while True:
        name = _pick(rng, SURNAMES) + _pick(rng, GIVEN)
        if rng.random() < 0.7:
            name += _pick(rng, GIVEN)
        if name not in used:
            used.add(name)
            return name


def phone(rng: np.random.Generator, used: set[str]) -> str:
    while True:
        if rng.random() < 0.3:  # a landline in Suzhou
            number = "0512-" + "6" + "".join(str(d) for d in rng.integers(10, size=7))
        else:
            number = "1" + _pick(rng, "3578") + "".join(str(d) for d in rng.integers(10, size=9))
        if number not in used:
            used.add(number)
            return number


def address(rng: np.random.Generator, used: set[str]) -> str:
    while True:
        text = (f"江苏省苏州市工业园区{_pick(rng, ROADS)}{int(rng.integers(1, 400))}号"
                f"{int(rng.integers(1, 30))}幢")
        if rng.random() < 0.4:
            text += f"{int(rng.integers(1, 6))}0{int(rng.integers(1, 9))}室"
        if text not in used:
            used.add(text)
            return text


def bank_account(rng: np.random.Generator, used: set[str]) -> tuple[str, str]:
    while True:
        number = "".join(str(d) for d in rng.integers(10, size=19))
        if number[0] != "0" and number not in used:
            used.add(number)
            return _pick(rng, BANKS), number
