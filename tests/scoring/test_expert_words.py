"""Reader H7 (card13): every rationale of the expert card agrees with its bins.

``expert-2026.12c`` said fast sales growth "is mildly penalised" (快速增长……略有扣分)
while its bins gave fast growth the most points. Each sentence of a rationale, in English
and in Chinese, that says a range counts against the firm, for it, or is neutral must be
one of the claims below, and each claim is checked against the points of the bins it
names: "against" bins give points below 0 and never the characteristic's most; "for" bins
give points above 0 and include the most; a "neutral" missing value gives 0 and is marked
neutral. A new sentence with such words and no claim here fails, so the prose cannot drift
from the points unread. Which values earn the most is not prose at all: the scorecard page
writes it from the bins (``readable.best_words``)."""

from __future__ import annotations

import re

import pytest

from trellis.scoring import expert, scorecard

EN_WORDS = re.compile(r"penalis|against the firm|counts for|neutral|bonus|deduct", re.I)
ZH_WORDS = re.compile(r"扣分|加分|中性|减分")

# characteristic -> [(a phrase of the sentence, "en" or "zh", the bins it speaks of
# (indices, or "missing"), "against" / "for" / "neutral")]
CLAIMS: dict[str, list[tuple[str, str, list[int] | str, str]]] = {
    "sales_trend_3v12": [("Growth counts for the firm", "en", [2, 3], "for"),
                         ("增长计为加分", "zh", [2, 3], "for")],
    "sales_yoy_3m": [("counts a little against the firm", "en", "missing", "against"),
                     ("略有扣分", "zh", "missing", "against")],
    "inflow_to_sales_3m": [("No sales in the quarter is neutral", "en", "missing", "neutral"),
                           ("此项为中性", "zh", "missing", "neutral")],
    "tax_to_flow_ratio": [("No filing is neutral", "en", "missing", "neutral"),
                          ("未申报为中性", "zh", "missing", "neutral")],
    "power_trend_3v6_vs_peers": [("which counts for the firm", "en", [4, 5], "for"),
                                 ("No readings is neutral", "en", "missing", "neutral"),
                                 ("计为加分", "zh", [4, 5], "for"),
                                 ("没有读数为中性", "zh", "missing", "neutral")],
    "division_power_yoy_3m": [("too few metered firms is neutral", "en", "missing", "neutral"),
                              ("计量企业太少为中性", "zh", "missing", "neutral")],
    "headcount_trend_12m": [("No record is neutral", "en", "missing", "neutral"),
                            ("没有记录为中性", "zh", "missing", "neutral")],
    "headcount_trend_3v6": [("No record is neutral", "en", "missing", "neutral"),
                            ("没有记录为中性", "zh", "missing", "neutral")],
    "power_vs_sales_change": [("a little against the firm", "en", [0], "against"),
                              ("No readings is neutral", "en", "missing", "neutral"),
                              ("略有扣分", "zh", [0], "against"),
                              ("没有读数为中性", "zh", "missing", "neutral")],
    "output_per_kwh_vs_industry": [("No readings is neutral", "en", "missing", "neutral"),
                                   ("没有读数为中性", "zh", "missing", "neutral")],
}

SPEC = expert.spec()
BY_NAME = {ch["name"]: ch for ch in SPEC["characteristics"]}


def sentences(text: str, lang: str) -> list[str]:
    cut = r"(?<=[.;:])\s+" if lang == "en" else r"(?<=[。；：])"
    return [s for s in re.split(cut, text) if s.strip()]


def texts(ch: dict) -> list[tuple[str, str]]:
    return [("en", ch["why"]), ("zh", ch["why_zh"])]


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_every_sentence_that_scores_a_range_is_a_checked_claim(name):
    ch = BY_NAME[name]
    phrases = CLAIMS.get(name, [])
    for lang, text in texts(ch):
        words = EN_WORDS if lang == "en" else ZH_WORDS
        for sentence in sentences(text, lang):
            if words.search(sentence):
                assert any(p in sentence for p, lg, _, _ in phrases if lg == lang), (
                    f"{name} ({lang}) says how a range scores, unchecked: {sentence!r}")
    for phrase, lang, _, _ in phrases:
        assert phrase in dict(texts(ch))[lang], (name, phrase)


@pytest.mark.parametrize("name, phrase, lang, bins, direction", [
    (n, *c) for n, claims in sorted(CLAIMS.items()) for c in claims])
def test_each_claim_agrees_with_the_points_of_its_bins(name, phrase, lang, bins, direction):
    ch = BY_NAME[name]
    odds = [float(b["logodds"]) for b in ch["bins"]]
    best = odds.index(max(odds))
    if bins == "missing":
        got = float(ch["missing"]["logodds"])
        if direction == "neutral":
            assert got == 0.0 and ch["missing"].get("neutral"), (name, phrase)
        elif direction == "against":
            assert got < 0 and got < max(odds), (name, phrase)
        else:
            assert got > 0 and got >= max(odds), (name, phrase)
        return
    assert isinstance(bins, list)
    got_bins = [odds[i] for i in bins]
    if direction == "against":
        assert all(x < 0 for x in got_bins) and best not in bins, (name, phrase, odds)
    elif direction == "for":
        assert all(x > 0 for x in got_bins) and best in bins, (name, phrase, odds)
    else:
        assert all(x == 0 for x in got_bins), (name, phrase, odds)


def test_the_card_carries_its_chinese_words_and_a_new_version():
    """The published words changed, so the version did (12c's stored card keeps its own)."""
    assert SPEC["version"] == expert.VERSION != "expert-2026.12c"
    assert all(ch["why_zh"] == expert.WHY_ZH[ch["name"]] for ch in SPEC["characteristics"])
    # the band that earns most, as the pages write it, is the fast-growth bin
    assert scorecard.best_band(BY_NAME["sales_trend_3v12"]) == (0.15, None)
