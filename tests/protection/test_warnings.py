"""Fraud warnings as data: the right ones for each person and moment, editable."""

from __future__ import annotations

from datetime import date

import pytest

from trellis.protection import warnings as fraud
from trellis.protection.errors import BadWarning
from trellis.protection.models import AgeBand, FirmAge

TODAY = date(2026, 11, 30)


@pytest.mark.parametrize("birth_year, band", [
    (None, AgeBand.ANY), (2000, AgeBand.YOUNG), (1992, AgeBand.YOUNG), (1991, AgeBand.MIDDLE),
    (1967, AgeBand.MIDDLE), (1966, AgeBand.SENIOR), (1950, AgeBand.SENIOR)])
def test_age_band_from_birth_year(session, birth_year, band):
    assert fraud.age_band(birth_year, TODAY, fraud.policy(session=session)) == band


@pytest.mark.parametrize("founded_on, age", [
    (None, FirmAge.ANY), (date(2025, 6, 1), FirmAge.NEW), (date(2024, 12, 1), FirmAge.NEW),
    (date(2024, 11, 30), FirmAge.ESTABLISHED), (date(2010, 1, 1), FirmAge.ESTABLISHED)])
def test_firm_age_from_founding_date(session, founded_on, age):
    assert fraud.firm_age(founded_on, TODAY, fraud.policy(session=session)) == age


def codes(session, moment, birth_year, founded_on, lang="zh"):
    return [w.code for w in fraud.for_moment(session=session, moment=moment,
                                             birth_year=birth_year, founded_on=founded_on,
                                             lang=lang, today=TODAY)]


@pytest.mark.parametrize("moment, birth_year, founded_on, expected, absent", [
    # older vendor, established firm: fake police and courts
    ("registration", 1958, date(2005, 1, 1), {"reg_senior_authority", "reg_password"},
     {"reg_young_credit_repair", "reg_new_firm_deals"}),
    # young founder of a new firm: credit repair and fake deals
    ("registration", 2001, date(2026, 3, 1),
     {"reg_young_credit_repair", "reg_new_firm_deals", "reg_password"},
     {"reg_senior_authority"}),
    # middle-aged, established: only the general warning
    ("registration", 1980, date(2012, 1, 1), {"reg_password"},
     {"reg_senior_authority", "reg_young_credit_repair", "reg_new_firm_deals"}),
    # before an offer, everyone sees "never a fee before a loan"
    ("offer", 1980, date(2012, 1, 1), {"offer_no_fee"}, {"offer_young_fast_loan"}),
    ("offer", 2001, date(2012, 1, 1), {"offer_no_fee", "offer_young_fast_loan"},
     {"offer_senior_time"}),
    ("offer", 1950, date(2026, 1, 1), {"offer_no_fee", "offer_senior_time",
                                       "offer_new_firm_schemes"}, set()),
    ("repayment", 1950, None, {"repay_only_platform", "repay_senior_impostor"},
     {"repay_young_collector"}),
    ("bank_change", 1999, date(2026, 1, 1), {"bank_change_any", "bank_change_new_firm"},
     {"bank_change_senior"}),
])
def test_warnings_fit_the_person(session, moment, birth_year, founded_on, expected, absent):
    shown = set(codes(session, moment, birth_year, founded_on))
    assert expected <= shown
    assert not (absent & shown)


def test_offer_warning_comes_first_and_in_both_languages(session):
    zh = fraud.for_moment(session=session, moment="offer", birth_year=1980,
                          founded_on=date(2010, 1, 1), lang="zh", today=TODAY)
    en = fraud.for_moment(session=session, moment="offer", birth_year=1980,
                          founded_on=date(2010, 1, 1), lang="en", today=TODAY)
    assert zh[0].code == en[0].code == "offer_no_fee"
    assert "Trellis never asks for a fee before a loan" == en[0].title
    assert "放款前绝不收取任何费用" in zh[0].title


def test_risk_team_edits_take_effect_without_a_release(session):
    row = next(w for w in fraud.all_warnings(session=session) if w.code == "offer_no_fee")
    values = {k: getattr(row, k) for k in ("moment", "age_band", "firm_age", "title_en",
                                           "title_zh", "body_en", "body_zh", "sort")}
    fraud.save(session=session, values={**values, "title_en": "No fee, ever", "active": True},
               warning_id=row.id)
    en = fraud.for_moment(session=session, moment="offer", birth_year=None, founded_on=None,
                          lang="en", today=TODAY)
    assert en[0].title == "No fee, ever"
    fraud.save(session=session, values={**values, "active": False}, warning_id=row.id)
    assert "offer_no_fee" not in codes(session, "offer", None, None)
    new = fraud.save(session=session, values={
        "code": "offer_qr_code", "moment": "offer", "age_band": "any", "firm_age": "any",
        "title_en": "Never scan a stranger's QR code", "title_zh": "不要扫陌生人的二维码",
        "body_en": "Loans are paid into your firm's account.", "body_zh": "贷款只打入贵公司账户。",
        "sort": 2})
    assert new.code in codes(session, "offer", None, None)


@pytest.mark.parametrize("change, field", [
    ({"title_en": ""}, "title_en"), ({"body_zh": "长" * 301}, "body_zh"),
    ({"moment": "lunch"}, "moment"), ({"age_band": "teen"}, "age_band"),
    ({"sort": "first"}, "sort"), ({"code": "bad code!"}, "code"),
    ({"code": "reg_password"}, "code")])
def test_bad_warnings_are_refused(session, change, field):
    values = {"code": "x_new", "moment": "offer", "age_band": "any", "firm_age": "any",
              "title_en": "t", "title_zh": "标题", "body_en": "b", "body_zh": "内容", "sort": 5,
              **change}
    before = len(fraud.all_warnings(session=session))
    with pytest.raises(BadWarning) as info:
        fraud.save(session=session, values=values)
    assert info.value.field == field
    assert len(fraud.all_warnings(session=session)) == before
