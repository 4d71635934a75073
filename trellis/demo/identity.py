"""Chinese firm identities for the simulator: names, legal representatives, USCCs,
phones, bank accounts and addresses, all unique unless a caller shares them on purpose.

USCCs follow GB 32100-2015: registration authority (9 = market regulator), type
(1 = enterprise, 2 = individual business), the 6-digit division code, a 9-character
organisation code whose last character is the GB 11714 check, and the GB 32100 check.
"""

from __future__ import annotations

import random
from datetime import date

from trellis.trade import uscc as uscc_mod

# (division code, region label, address prefix, roads)
DIVISIONS = (
    ("330205", "浙江省宁波市江北区", "浙江省宁波市江北区",
     ("长兴路", "金山路", "洪塘中路", "环城北路", "康庄南路", "庄桥路", "北海路", "云飞路",
      "开源路", "广元路", "通达路", "慈城镇民族路")),
    ("330211", "浙江省宁波市镇海区", "浙江省宁波市镇海区",
     ("骆驼街道金华路", "庄市大道", "镇宁路", "东河路", "蛟川街道俞范路")),
    ("330212", "浙江省宁波市鄞州区", "浙江省宁波市鄞州区",
     ("天童南路", "钱湖北路", "首南西路", "姜山镇工业区路", "鄞县大道")),
    ("330281", "浙江省余姚市", "浙江省余姚市",
     ("阳明西路", "城区工业园区", "经济开发区滨海路", "泗门镇光明路")),
    ("330282", "浙江省慈溪市", "浙江省慈溪市",
     ("新城大道", "周巷镇环城北路", "观海卫镇工业园", "长河镇大云路")),
)
# The park itself sits in the first division; most firms are there.
DIVISION_WEIGHTS = (70, 8, 10, 6, 6)

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
            "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙"
            "史陶黎贺顾毛郝龚邵万钱严武戴莫孔汤")
GIVEN = ("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国文辉红玉兰飞鹏斌波宁浩凯"
         "亮婷雪琳晨欣怡子涵宇轩俊峰海燕东晓春志永林")
BRAND = ("恒鑫瑞华兴盛利达宏金永顺隆丰嘉信德诚泰安腾豪锦凯佳博新海天宇福源远通和正富明创联"
         "力美汇茂甬江亿万众合久康升昌荣晟耀宸")

# Trade words per (industry, tier): what a firm at that position typically does.
TRADES = {
    ("manufacturing", 1): ("机械", "五金制品", "电子", "模具", "塑胶制品", "精密铸造", "电机",
                           "汽车零部件", "轴承", "液压件"),
    ("manufacturing", 2): ("金属材料", "表面处理", "钢材加工", "线缆", "紧固件", "橡胶制品",
                           "粉末冶金", "机加工"),
    ("manufacturing", 3): ("五金加工", "包装材料", "废旧金属回收", "模具维修", "劳保用品"),
    ("construction", 1): ("建筑劳务", "钢结构工程", "建材", "混凝土", "装饰工程", "机电安装",
                          "幕墙工程", "防水工程"),
    ("construction", 2): ("建材商贸", "砂石", "钢筋加工", "脚手架租赁", "门窗", "石材"),
    ("construction", 3): ("土方运输", "劳务分包", "五金建材经营", "机械租赁"),
    ("wholesale_retail", 1): ("食品", "日用品", "服饰", "家居用品", "纸制品", "饮料",
                              "小家电", "文具"),
    ("wholesale_retail", 2): ("农产品", "包装印刷", "纺织", "塑料制品", "粮油"),
    ("wholesale_retail", 3): ("农副产品经营", "印刷", "针织加工", "竹木制品"),
    ("wholesale_retail", -1): ("商贸", "超市", "便利店", "电子商务", "贸易", "百货"),
    ("manufacturing", -1): ("机电设备销售", "工业品贸易", "机械设备经营", "五金机电"),
    ("transport_logistics", 1): ("物流", "货运", "供应链管理", "仓储"),
}

# Each trade's division in the national classification (GB/T 4754-2017, trellis.trade.industries).
# A vendor of the construction or wholesale chain keeps its coarse industry's section
# (E, F): the simulator's coarse industry is the chain's, and the two never disagree.
TRADE_DIVISIONS = {
    "机械": "34", "五金制品": "33", "电子": "39", "模具": "35", "塑胶制品": "29",
    "精密铸造": "33", "电机": "38", "汽车零部件": "36", "轴承": "34", "液压件": "34",
    "金属材料": "32", "表面处理": "33", "钢材加工": "31", "线缆": "38", "紧固件": "34",
    "橡胶制品": "29", "粉末冶金": "34", "机加工": "33", "五金加工": "33", "包装材料": "22",
    "废旧金属回收": "42", "模具维修": "43", "劳保用品": "18",
    "建筑劳务": "47", "钢结构工程": "48", "建材": "50", "混凝土": "50", "装饰工程": "50",
    "机电安装": "49", "幕墙工程": "50", "防水工程": "50", "建材商贸": "50", "砂石": "50",
    "钢筋加工": "50", "脚手架租赁": "50", "门窗": "50", "石材": "50", "土方运输": "48",
    "劳务分包": "47", "五金建材经营": "50", "机械租赁": "50",
    "商贸": "51", "超市": "52", "便利店": "52", "电子商务": "52", "贸易": "51", "百货": "52",
    "机电设备销售": "51", "工业品贸易": "51", "机械设备经营": "51", "五金机电": "51",
    "物流": "58", "货运": "54", "供应链管理": "58", "仓储": "59",
}
WHOLESALE_DIVISION = "51"  # the wholesale chain's makers and traders: 批发业
ANCHOR_DIVISIONS = {"manufacturing": "34", "construction": "47", "wholesale_retail": "52"}

ANCHORS = (
    ("manufacturing", "宁波江北精工机械股份有限公司"),
    ("construction", "宁波江北城建集团有限公司"),
    ("wholesale_retail", "甬优选商贸集团股份有限公司"),
)


class Identities:
    """Draws identities from one :class:`random.Random`, never repeating a value."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self._used: set[str] = set()
        self.trade_of: dict[str, str] = {}  # firm name -> the trade drawn for it

    def _unique(self, draw) -> str:
        for _ in range(10_000):
            value = draw()
            if value not in self._used:
                self._used.add(value)
                return value
        raise RuntimeError("identity space exhausted")  # pragma: no cover

    def division(self) -> tuple:
        """A random administrative division of the demo region (code, names, street list), weighted
        by size."""
        return self.rng.choices(DIVISIONS, weights=DIVISION_WEIGHTS)[0]

    def person(self) -> str:
        """A random Chinese personal name (surname and one or two given characters)."""
        r = self.rng
        given = r.choice(GIVEN) + (r.choice(GIVEN) if r.random() < 0.7 else "")
        return r.choice(SURNAMES) + given

    def firm_name(self, industry: str, tier: int, micro: bool) -> str:
        """A unique firm name fitting *industry* and supply *tier* (a brand, a trade, a legal form;
        micro firms get shop-like names)."""
        r = self.rng
        trades = TRADES.get((industry, tier)) or TRADES[(industry, 1)]

        def draw() -> str:
            brand = r.choice(BRAND) + r.choice(BRAND)
            trade = r.choice(trades)
            if micro:
                name = f"江北区{brand}{trade}经营部"
                self.trade_of[name] = trade
                return name
            place = r.choice(("宁波", "宁波江北", "宁波", "浙江", ""))
            suffix = "有限公司"
            if industry == "manufacturing" and tier in (1, 2) and r.random() < 0.3:
                suffix = "科技有限公司"  # makers like to call themselves technology firms
            name = f"{place}{brand}{trade}{suffix}"
            self.trade_of[name] = trade
            return name

        return self._unique(draw)

    def industry_code(self, name: str, industry: str) -> str:
        """The GB/T 4754 division of a firm named by :meth:`firm_name` with coarse
        *industry*: its trade's (TRADE_DIVISIONS), 批发业 for the wholesale chain's makers."""
        if industry == "wholesale_retail":
            trade = self.trade_of.get(name, "")
            return TRADE_DIVISIONS[trade] if TRADE_DIVISIONS.get(trade, "").startswith(
                "5") else WHOLESALE_DIVISION
        return TRADE_DIVISIONS[self.trade_of[name]]

    def uscc(self, division_code: str, founded_on: date, micro: bool) -> str:
        """A unique, valid unified social credit code in *division_code*; codes of firms founded
        from 2016 start with "MA" as real ones do."""
        r = self.rng
        alphabet = uscc_mod.ALPHABET

        def draw() -> str:
            if founded_on.year >= 2016:  # codes issued after the reform start with "MA"
                body = "MA" + "".join(r.choice(alphabet) for _ in range(6))
            else:
                body = "".join(r.choice("0123456789") for _ in range(8))
            org = body + _org_check(body)
            return uscc_mod.make(("92" if micro else "91") + division_code + org)

        return self._unique(draw)

    def phone(self) -> str:
        """A unique phone number: a mobile (11 digits) or a Ningbo landline (0574-8xxxxxxx)."""
        r = self.rng
        if r.random() < 0.7:
            return self._unique(lambda: "1" + r.choice("3578") + "".join(
                r.choice("0123456789") for _ in range(9)))
        return self._unique(lambda: "0574-8" + "".join(r.choice("0123456789")
                                                      for _ in range(7)))

    def bank_account(self) -> str:
        """A unique 19-digit bank account number with a real bank's prefix."""
        r = self.rng
        prefix = r.choice(("3901", "6228", "1202", "3310", "8101", "3940"))
        return self._unique(lambda: prefix + "".join(r.choice("0123456789")
                                                     for _ in range(15)))

    def address(self, division: tuple) -> str:
        """A unique street address in *division* (street, number, and often building and room)."""
        r = self.rng

        def draw() -> str:
            text = f"{division[2]}{r.choice(division[3])}{r.randint(1, 999)}号"
            if r.random() < 0.6:
                text += f"{r.randint(1, 12)}幢{r.randint(1, 6)}{r.randint(1, 20):02d}室"
            return text

        return self._unique(draw)


def _org_check(body8: str) -> str:
    """GB 11714 check character of an 8-character organisation code body."""
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    total = sum((int(ch) if ch.isdigit() else ord(ch) - 55) * w
                for ch, w in zip(body8, weights, strict=True))
    c = 11 - total % 11
    return "X" if c == 10 else "0" if c == 11 else str(c)
