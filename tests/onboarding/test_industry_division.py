"""A firm's industry in the national classification (GB/T 4754-2017) kept on import."""

from __future__ import annotations

from sqlalchemy import select

from tests.onboarding.test_importer import csv_bytes, run
from trellis.trade import industries
from trellis.trade.models import Firm
from trellis.trade.uscc import make


def _usccs(n):
    return [make(f"91330110MA2H1{i:03d}" + "0") for i in range(n)]


def test_lookup_reads_official_names_and_codes_and_nothing_else():
    assert industries.lookup("汽车制造业") == "36"
    assert industries.lookup(" 汽车制造业 ") == "36"
    assert industries.lookup("36") == "36"
    assert industries.lookup("C36") == "36"
    assert industries.lookup("C36 汽车制造业") == "36"
    assert industries.lookup("3670") == "36"  # a class code: its division
    assert industries.lookup("计算机，通信和其他电子设备制造业") == "39"  # full-width comma
    assert industries.lookup("制造业") == "C"
    assert industries.lookup("C") == "C"
    assert industries.lookup("房地产业") == "70"  # division and section share the name
    for unknown in ("", None, "汽车", "软件业", "D36", "36 纺织业", "99", "manufacturing"):
        assert industries.lookup(unknown) is None, unknown
    assert industries.label("36") == "36 汽车制造业"
    assert industries.label(None) == "" and industries.label("XX") == ""
    assert len([c for c in industries.NAMES if c.isdigit()]) == 97
    assert len([c for c in industries.NAMES if c.isalpha()]) == 20


def test_import_keeps_the_division_from_the_industry_column(session, make_cluster):
    cluster = make_cluster()
    a, b, c, d, e = _usccs(5)
    data = csv_bytes(["统一社会信用代码", "企业名称", "企业类型", "所属行业"], [
        [a, "苏州恒驰汽车部件股份有限公司", "核心企业", "汽车制造业"],
        [b, "昆山立达光电", "供应商", "39"],
        [c, "锦华服饰", "供应商", "C18 纺织服装、服饰业"],
        [d, "某某软件", "供应商", "软件业"],  # not an official name: blank, no error
        [e, "某某批发", "供应商", "批发和零售业"]])
    result = run(session, cluster, "firms", data)
    assert result.created == 5
    got = dict(session.execute(select(Firm.uscc, Firm.industry_code)).all())
    assert got == {a: "36", b: "39", c: "18", d: None, e: "F"}
    coarse = dict(session.execute(select(Firm.uscc, Firm.industry)).all())
    # the coarse industry is mapped as before
    assert coarse == {a: "manufacturing", b: "other", c: "other", d: "other",
                      e: "wholesale_retail"}


def test_a_division_column_of_its_own_wins_and_unknown_text_keeps_the_code(
        session, make_cluster):
    cluster = make_cluster()
    a, b = _usccs(2)
    run(session, cluster, "firms", csv_bytes(
        ["统一社会信用代码", "企业名称", "角色", "行业", "国民经济行业"],
        [[a, "甲", "vendor", "制造业", "汽车制造业"], [b, "乙", "vendor", "制造业", ""]]))
    got = dict(session.execute(select(Firm.uscc, Firm.industry_code)).all())
    assert got == {a: "36", b: "C"}
    # Again with text the classification does not know: nothing is wiped.
    result = run(session, cluster, "firms", csv_bytes(
        ["统一社会信用代码", "企业名称", "角色", "所属行业"],
        [[a, "甲", "vendor", "汽车配件"], [b, "乙", "vendor", "电气机械和器材制造业"]]))
    assert result.updated == 2
    session.expire_all()
    got = dict(session.execute(select(Firm.uscc, Firm.industry_code)).all())
    assert got == {a: "36", b: "38"}


def test_the_firms_template_has_the_division_column():
    from trellis.onboarding import templates
    from trellis.onboarding.kinds import KINDS

    col = KINDS["firms"].column("industry_code")
    assert col.zh == "国民经济行业" and not col.required
    rows = templates.example_rows("firms")
    at = [c.key for c in KINDS["firms"].columns].index("industry_code")
    assert [industries.lookup(r[at]) for r in rows] == ["36", "33", "54"]


def test_a_section_alone_does_not_coarsen_a_known_division(session, make_cluster):
    cluster = make_cluster()
    a, b = _usccs(2)
    run(session, cluster, "firms", csv_bytes(["统一社会信用代码", "企业名称", "角色", "所属行业"],
                                             [[a, "甲", "vendor", "汽车制造业"],
                                              [b, "乙", "vendor", "汽车制造业"]]))
    # 制造业 (section C) says no more than 36 does; 批发业 (51) is another industry.
    run(session, cluster, "firms", csv_bytes(["统一社会信用代码", "企业名称", "角色", "所属行业"],
                                             [[a, "甲", "vendor", "制造业"],
                                              [b, "乙", "vendor", "批发业"]]))
    session.expire_all()
    got = dict(session.execute(select(Firm.uscc, Firm.industry_code)).all())
    assert got == {a: "36", b: "51"}
