"""The cold-start expert scorecard: points set by judgement, each with its reason.

Trellis must decide before it has outcomes of its own. This card encodes what supply-chain
credit officers look for in trade flows (DOMAIN.md, "Scoring without tax data"), on the
log-odds scale so that it plugs into the same scaling as a trained card. The intercept
puts an ordinary vendor near 2-3% PD (odds about 40:1), the default rate small-business
lenders in China report for supply-chain receivables; a trained champion replaces it
once the platform's own loans have matured (see :mod:`trellis.scoring.training`).

Missing values are never scored as zero. Where a value is missing because it does not
apply (no tax filing, nothing due yet, no direct anchor), the missing bin is neutral (0)
and never becomes a reason code.
"""

from __future__ import annotations

import numpy as np

from trellis.scoring import policy
from trellis.scoring.scorecard import FORMAT, validate

# 2026.12d: the same bins and points as 2026.12c; the rationale of the sales trend no
# longer calls fast growth penalised (its bin gives the most points: reader, H7), and each
# characteristic's Chinese rationale is part of the card document (``why_zh``), so a
# stored version keeps its own words.
VERSION = "expert-2026.12d"
NAME = "Expert cold-start scorecard (trade flows)"

# The platform's score scale, shared by every card (trained cards take it from here).
# 600 points are odds of 5:1 (PD about 17%) and every 40 points double the odds, so the
# configured range 300-900 covers PDs from about 97% down to 0.1%: the span a
# small-business lender meets, from a distressed park's worst firm to its best. Grade E
# (above 10%) starts at 634, A (up to 1%) at 773. With 20 points to the doubling (before),
# a calibrated card's PDs of 3-90% on a distressed park filled under 250 points and its
# middle 90% about 110, too little for a score to tell firms apart to the eye. The range
# holds the score only: a PD beyond either end keeps its value and its grade.
SCALING = {"base_score": 600, "base_odds": 5, "pdo": 40, "range": [300, 900]}
# Grade by probability of default: A up to 1%, B 2.5%, C 5%, D 10%, E above.
GRADE_PDS = [("A", 0.01), ("B", 0.025), ("C", 0.05), ("D", 0.10), ("E", 1.0)]

NEUTRAL = {"logodds": 0.0, "neutral": True}

DESCRIPTION = (
    "Points set by judgement, before Trellis has outcomes of its own, from what supply-chain "
    "credit officers look for in trade flows: a sales fade, months without sales, money "
    "received far above what is now billed, late "
    "payment to one's own suppliers and from one's buyers, overdue receivables, returns, "
    "concentration, anchor confirmation and tenure, platform debt, defaulted partners, "
    "the firm's scale; and, where the park meters its tenants, power use against its "
    "industry's and against its own invoices, the industry's own power and insured staff. "
    "Scores run from 300 to 900: 600 points are odds of 5:1 (PD about 17%) and every 40 "
    "points double the odds. Missing values that do not "
    "apply (no tax filing, nothing due yet) score 0 and are never a reason. "
    "Whatever the points, a firm behind on its own Trellis loan is graded D at best when a "
    "loan is more than 30 days past due, and E at best when one is more than 90 days past "
    "due or was written off and is still owed; the reason names the days past due and a "
    "flag names the loans, so a person reviews (the lender's own book is a fact, the "
    "card's odds an estimate; see policies). A trained card "
    "replaces this one when it beats it on the platform's matured loans.")


def _num(name, label_en, label_zh, reason_en, reason_zh, why, splits, logodds, missing,
         bin_why=()):
    bins = [{"logodds": lo} for lo in logodds]
    for b, w in zip(bins, bin_why, strict=False):
        b["why"] = w
    return {"name": name, "type": "numeric", "label_en": label_en, "label_zh": label_zh,
            "reason_code": name, "reason_en": reason_en, "reason_zh": reason_zh, "why": why,
            "splits": splits, "bins": bins, "missing": missing}


CHARACTERISTICS = [
    _num("sales_trend_3v12", "Sales trend (last 3 months vs 12, deseasonalised)",
         "销售趋势（近3个月对比近12个月，剔除季节性）",
         "Sales have fallen in recent months", "近几个月销售额下降",
         "A vendor heading for default sells less months before it stops paying: the "
         "anchor cuts orders or the vendor loses capacity. Growth counts for the firm, "
         "fast growth only a little more than steady trade, because it strains working "
         "capital.",
         [-0.3, -0.13, 0.15], [-0.9, -0.3, 0.1, 0.2], {"logodds": -0.3}),
    _num("sales_drawdown_3m", "Sales of the last 3 months below the best 3 months of the year",
         "近3个月销售额较一年内最佳3个月的降幅", "Sales are well below their recent peak",
         "销售额明显低于近期高点",
         "A slow fade over many months hides in a 3-versus-12-month trend; the drop from "
         "the year's best quarter shows it. Seasonal peaks are removed first when the firm "
         "has two years of history.", [0.15, 0.4, 0.6], [0.3, 0.0, -0.3, -0.9],
         {"logodds": 0.0}),
    _num("sales_yoy_3m", "Sales of the last 3 months against the same months a year before",
         "近3个月销售额对比上年同期", "Sales are below last year's", "销售额低于上年同期",
         "Against the same months a year before, the season cancels out whatever the "
         "firm's history: a fall of half or more is a business shrinking, not a quiet "
         "month. Without a year of history the card cannot tell, which counts a little "
         "against the firm.", [-0.55, -0.3, 0.3], [-0.9, -0.2, 0.1, 0.2], {"logodds": -0.2}),
    _num("active_share_12m", "Share of the last 12 months with sales", "近12个月有销售的月份占比",
         "Months without any sales", "有多个月份没有销售",
         "Firms that invoice every month are going concerns; gaps precede failure.",
         [0.5, 0.75, 0.92], [-0.8, -0.3, 0.1, 0.3], {"logodds": -0.8}),
    _num("own_late_days_3m", "Own lateness paying suppliers, last 3 months (days, "
         "amount-weighted)", "近3个月向供应商付款逾期天数（按金额加权）",
         "Pays its own suppliers late", "向自己的供应商付款逾期",
         "Paying one's own suppliers late is the earliest cash-strain signal in trade data; "
         "the last quarter shows it first, where a year's average dilutes it with the "
         "months before the strain began.",
         [5, 15, 30], [0.3, 0.1, -0.4, -0.9], NEUTRAL),
    _num("buyer_late_days_12m", "Buyers' lateness (days beyond terms, amount-weighted)",
         "买方付款逾期天数（按金额加权）",
         "Its buyers pay late", "其买方付款逾期",
         "When buyers pay late the vendor's own cash cycle stretches; an anchor's payment "
         "also repays Trellis's advance.",
         [5, 15, 30], [0.3, 0.1, -0.2, -0.6], NEUTRAL),
    _num("overdue_share_now", "Receivables overdue more than 30 days (share)",
         "逾期30天以上的应收账款占比", "Many receivables are overdue",
         "较多应收账款已逾期",
         "Old receivables may never be paid; they also lower what can be financed.",
         [0.05, 0.13, 0.4], [0.2, 0.1, -0.5, -0.8], NEUTRAL),
    _num("inflow_to_sales_3m", "Money received in the last 3 months against the sales "
         "invoiced in them", "近3个月回款与同期开票销售额之比",
         "It collects far more than it now sells", "回款远多于当前销售",
         "On terms of a month or two, this quarter's money pays last quarter's sales, so a "
         "going concern receives about what it bills. Receiving well over what it bills is "
         "a receivables book running off: the firm collects what it sold before and sells "
         "less anew, and this is read from the bank's money, which is harder to dress up "
         "than invoices. No sales in the quarter is neutral here (other rules see it).",
         [1.15, 1.6, 2.0], [0.0, -0.2, -0.4, -0.7], NEUTRAL),
    _num("sales_cv_12m", "Volatility of monthly sales (deseasonalised)",
         "月销售额波动（剔除季节性）", "Sales are volatile", "销售额波动大",
         "Erratic sales make repayment from trade uncertain.",
         [0.45, 0.65], [0.2, -0.1, -0.5], {"logodds": 0.0}),
    _num("top_buyer_share_12m", "Share of sales to the largest buyer", "最大买方销售占比",
         "Depends on one buyer", "过度依赖单一买方",
         "Concentration is normal in supply chains, but a vendor selling almost everything "
         "to one buyer has no cushion: losing or being squeezed by that buyer ends the "
         "business.", [0.7, 0.95], [0.6, 0.2, -0.5], NEUTRAL),
    _num("anchor_confirmed_share_12m", "Share of sales confirmed by an anchor",
         "经核心企业确权的销售占比", "Little of its trade is confirmed by an anchor",
         "经核心企业确权的交易较少",
         "Confirmed receivables are the anchor's promise to pay; unconfirmed trade with "
         "small buyers carries their risk.", [0.2, 0.6], [-0.1, 0.1, 0.3], NEUTRAL),
    _num("anchor_tenure_days", "Tenure with its anchor (days)", "与核心企业合作时长（天）",
         "Short relationship with the anchor", "与核心企业合作时间短",
         "Long relationships survive bad months; new vendors are replaced first.",
         [365, 1095], [-0.2, 0.1, 0.3], NEUTRAL),
    _num("credit_note_rate_12m", "Credit notes and returns (share of sales)",
         "红字发票与退货占销售比", "Many returns or credit notes", "退货或红字发票较多",
         "Returns and disputes mean quality problems and receivables that shrink.",
         [0.01, 0.05, 0.15], [0.2, 0.0, -0.3, -0.7], {"logodds": 0.0}),
    _num("order_conversion_12m", "Orders that became invoices (share)", "订单转化为发票的比例",
         "Orders not fulfilled", "订单未能履约",
         "Orders that are never invoiced mean the vendor could not deliver.",
         [0.6, 0.9], [-0.3, 0.0, 0.1], NEUTRAL),
    _num("debt_to_inflow", "Debt on the platform vs monthly inflow (months)",
         "平台负债相当于月回款的倍数", "High debt against its inflow", "负债相对回款偏高",
         "Debt many months of inflow deep cannot be repaid from trade.",
         [1, 3, 6], [0.1, 0.0, -0.3, -0.8], {"logodds": 0.0}),
    _num("neighbours_defaulted_share", "Trading partners that defaulted (share)",
         "交易对手违约占比", "Trading partners have defaulted", "交易对手出现违约",
         "Defaults travel along supply chains: a defaulted buyer does not pay, a defaulted "
         "supplier does not deliver.", [0.001, 0.25], [0.1, -0.3, -0.6], NEUTRAL),
    _num("past_defaults", "Past defaults on known loans", "已知贷款的违约次数",
         "Defaulted on a past loan", "曾有贷款违约",
         "A past default is the strongest single predictor in every credit bureau.",
         [1], [0.1, -1.2], {"logodds": 0.0}),
    _num("history_months", "Months of sales history", "销售记录月数",
         "Short trading history", "交易历史较短",
         "Young firms fail more often; the platform has seen less of them.",
         [12, 24], [-0.3, 0.0, 0.2], {"logodds": -0.3}),
    _num("tax_to_flow_ratio", "Declared VAT sales vs platform sales",
         "申报增值税销售额与平台销售额之比",
         "Tax filing below its invoiced sales", "纳税申报低于开票销售",
         "A filing that covers the platform's flows corroborates them; one far below them "
         "contradicts them. No filing is neutral: most vendors have none.",
         [0.67], [-0.4, 0.2], NEUTRAL),
    _num("power_trend_3v6_vs_peers", "Power use trend (last 3 months vs the 6 before) "
         "against its industry's in the park", "用电量趋势（近3个月对比此前6个月）与园区同行业相比",
         "Its power use has fallen more than its peers'", "用电量降幅大于园区同行",
         "The park's meter sees the workshop itself: a firm that runs its machines less is "
         "producing less, whatever its invoices say. Measured against the median of its "
         "industry's metered firms in the park (the park's, when its industry is unknown or "
         "has too few), so that a season every apparel maker shares is not read as one "
         "firm's decline. The fall is graded (a workshop running a tenth less than its "
         "peers is already losing work), and a workshop running clearly more than its peers "
         "is winning work, which counts for the firm. No readings is neutral.",
         [-0.2, -0.1, -0.03, 0.05, 0.15], [-2.3, -1.1, -0.4, 0.0, 0.4, 0.8], NEUTRAL),
    _num("division_power_yoy_3m", "Its industry's power use in the park against the same "
         "months a year before (median)", "园区内同行业用电量对比上年同期（中位数）",
         "Its industry is in a downturn in this park", "所属行业在本园区处于下行期",
         "A downturn of a whole industry (cars, say) cuts the orders of every firm in it, "
         "whichever anchor they sell to; against the same months a year before the season "
         "cancels out. Lenders rate industries because a downturn raises the default rate "
         "of every firm in it, often to twice its usual level, whatever a firm's own "
         "figures; so a weight near the firm's own strongest signs. Unknown industry "
         "or too few metered firms is neutral.",
         [-0.15, -0.05], [-0.9, -0.4, 0.0], NEUTRAL),
    _num("headcount_trend_12m", "Insured staff, change over 12 months",
         "参保人数近12个月变化", "It has cut staff", "参保人数减少",
         "Firms in trouble stop paying social insurance for part of their staff first. "
         "No record is neutral.", [-0.17, -0.08, 0.05], [-1.1, -0.2, 0.0, 0.5], NEUTRAL),
    _num("headcount_trend_3v6", "Insured staff, last 3 months against the 6 before",
         "参保人数（近3个月对比此前6个月）", "It has cut staff recently", "近期参保人数减少",
         "Cuts that began this quarter hardly move the change over a year; the last three "
         "months against the six before show them first; insurance is paid per head, so "
         "even a cut of one in twenty is a decision to shed staff, and one in ten a firm "
         "shrinking. No record is neutral.",
         [-0.1, -0.05, -0.01, 0.03], [-1.0, -0.6, -0.2, 0.0, 0.5], NEUTRAL),
    _num("power_vs_sales_change", "Power use against invoiced sales (change of the one "
         "less change of the other)", "用电量变化与开票销售额变化之差",
         "Its invoices hold up while its power use falls", "开票销售额维持而用电量下降",
         "The meter and the invoices should move together. When platform sales fall but the "
         "workshop runs on, the firm is selling to buyers off the platform, not failing: "
         "the three sales rules above read the fall three times, so the meter gives part of "
         "it back. When invoices hold up while the machines run down, the sales are on "
         "paper or from stock: a little against the firm. Against the same months a year "
         "before where both have them, else the last 3 months against the 6 before. No "
         "readings is neutral.",
         [-0.1, 0.15, 0.35], [-0.3, 0.0, 0.4, 0.8], NEUTRAL),
    _num("sales_12m_fen", "Sales in the 12 months before the scoring date", "评分日前12个月销售额",
         "Small scale of trade", "交易规模小",
         "Small firms fail more often: they have less cushion against a lost order or a "
         "late payer. Bands from the national SME classification for industry (工业 "
         "micro firms under 3 million yuan of revenue a year, small under 20 million); "
         "below 1 million yuan a year a firm lives from month to month. Sales seen on the "
         "platform are a floor of the firm's revenue, so the bands are lenient.",
         [100_000_000, 300_000_000, 2_000_000_000], [-0.4, 0.0, 0.2, 0.3], NEUTRAL),
    _num("output_per_kwh_vs_industry", "Sales per kWh against its industry in the cluster",
         "单位用电产出与园区同行业之比", "Its sales are far above what its power use supports",
         "销售额远高于其用电量所能支撑的水平",
         "Invoiced sales many times what the power use of similar firms would produce are "
         "trade on paper, or output bought in. No readings is neutral.",
         [3.0], [0.0, -0.5], NEUTRAL),
]


def spec() -> dict:
    """The expert scorecard document (validated, with the offset and cut-offs filled in);
    each characteristic carries its rationale in Chinese (``why_zh``) beside ``why``."""
    return validate({
        "format": FORMAT, "version": VERSION, "kind": "expert",
        "name": NAME,
        "description": DESCRIPTION,
        "intercept": 2.4, "scaling": dict(SCALING),
        "characteristics": [{**ch, "why_zh": WHY_ZH[ch["name"]]} for ch in CHARACTERISTICS],
        "grades": [{"grade": g, "max_pd": p} for g, p in GRADE_PDS],
        # documentation: trellis.scoring.policy applies these rules to every card
        "policies": policy.document(),
    })


# Features earlier versions of the card scored and this one scores in another form: their
# direction still constrains a boosted card trained on them.
RETIRED_DIRECTIONS = {"own_late_days_12m": 1, "power_trend_3v12": -1}


def monotone() -> dict[str, int]:
    """The direction of each characteristic on the *bad* probability, read from the
    expert's bins (+1: risk rises with the value, -1: falls, 0: neither): monotone
    constraints for a boosted card trained on Trellis's own features."""
    out = dict(RETIRED_DIRECTIONS)
    for ch in CHARACTERISTICS:
        lo = [b["logodds"] for b in ch["bins"]]
        steps = np.sign(np.diff(lo))
        if len(lo) > 1 and (steps <= 0).all() and steps.any():
            out[ch["name"]] = 1
        elif len(lo) > 1 and (steps >= 0).all() and steps.any():
            out[ch["name"]] = -1
        else:
            out[ch["name"]] = 0
    return out


# Plain words for features of the table (features.compute) the expert card does not use,
# for a trained card whose reasons name them: each says what raised the firm's risk.
FEATURE_LABELS = {
    "own_late_days_12m": {"en": "Pays its own suppliers late", "zh": "向自己的供应商付款逾期"},
    "power_trend_3v12": {"en": "Its power use has fallen", "zh": "用电量下降"},
    "industry_division": {
        "en": "The firm's industry (national classification) has fared worse than others "
              "in this park",
        "zh": "所属行业（国民经济行业分类）在本园区的违约风险高于其他行业"},
    "division_power_trend_3v6": {
        "en": "Power use across the firm's industry in the park has fallen in recent months",
        "zh": "园区内同行业企业近几个月用电量整体下降"},
    "division_power_yoy_3m": {
        "en": "Power use across the firm's industry in the park is below the same months a "
              "year before",
        "zh": "园区内同行业企业用电量低于上年同期"},
    "power_trend_3v6_vs_division": {
        "en": "The firm's power use has fallen more than its industry's in the park in "
              "recent months",
        "zh": "近几个月企业用电量的降幅大于园区内同行业企业"},
    "power_yoy_3m_vs_division": {
        "en": "Against the same months a year before, the firm's power use has fallen more "
              "than its industry's in the park",
        "zh": "与上年同期相比，企业用电量的降幅大于园区内同行业企业"},
    "chain_power_trend_3v6": {
        "en": "Power use along the firm's supply chain has fallen in recent months",
        "zh": "所在供应链（同一核心企业）企业近几个月用电量整体下降"},
    "chain_power_yoy_3m": {
        "en": "Power use along the firm's supply chain is below the same months a year before",
        "zh": "所在供应链（同一核心企业）企业用电量低于上年同期"},
}


def labels() -> dict[str, dict]:
    """Plain-words reasons of the expert characteristics and of the table's other features
    named in FEATURE_LABELS, for any card on those features."""
    from trellis.scoring.dynamics import REASONS

    return {**REASONS, **FEATURE_LABELS,
            **{ch["name"]: {"en": ch["reason_en"], "zh": ch["reason_zh"]}
               for ch in CHARACTERISTICS}}


# The expert card's words in Chinese, for pages (the card document itself stays as
# validated and stored; its name, description and reasons are shown through these).
NAME_ZH = "专家冷启动评分卡（交易流）"
DESCRIPTION_ZH = (
    "在 Trellis 还没有自身贷款结果之前，按供应链信贷人员审视交易流的经验设定分值：销售下滑、"
    "无销售的月份、回款远超当前开票、向自身供应商付款逾期与买方付款逾期、逾期应收账款、退货、集中度、核心企业确权"
    "与合作时长、平台负债、交易对手违约、企业规模；园区计量租户时，还看与同行业相比以及与自身开票相比的"
    "用电量、行业整体用电量和参保人数。分数范围为 300 至 "
    "900 分：600 分对应 5:1 的好坏比（违约概率约 17%），每增加 40 分好坏比翻一倍。"
    "不适用的缺失值（未纳税申报、尚无到期款项）计 0 分，从不作为扣分理由。"
    "无论得分多少，企业在 Trellis 的贷款逾期超过 30 天的，评级最高为 D；逾期超过 90 天或已核销仍未"
    "还清的，评级最高为 E；理由中写明逾期天数，警示中列出相应贷款，须人工复核（贷款人自己的账簿是"
    "事实，评分卡的好坏比只是估计）。"
    "训练所得的评分卡在平台已到期贷款上胜过本卡后取而代之。")
WHY_ZH = {
    "sales_trend_3v12": "走向违约的供应商在停止还款前几个月销售就会减少：核心企业削减订单或供应商"
                        "丧失产能。增长计为加分，但快速增长只比平稳交易略多一点，因为它占用"
                        "营运资金。",
    "sales_drawdown_3m": "多个月的缓慢下滑在“近3个月对比近12个月”的趋势中看不出来，与一年中最佳"
                         "季度相比的降幅能看出。企业有两年记录时先剔除季节高峰。",
    "sales_yoy_3m": "与上年同期相比，无论企业的记录有多长，季节因素都会相互抵消：降幅达到一半或"
                    "以上说明生意在萎缩，而不是淡季。记录不足一年时本卡无法判断，略有扣分。",
    "active_share_12m": "每个月都开票的企业在持续经营；出现空档往往预示经营失败。",
    "own_late_days_3m": "向自己的供应商付款逾期，是交易数据中最早出现的资金紧张信号；最近一个季度"
                        "最先显示出来，而一年的平均会被资金紧张之前的月份冲淡。",
    "buyer_late_days_12m": "买方付款逾期会拉长供应商自身的资金周期；核心企业的付款也用于偿还 "
                           "Trellis 的融资。",
    "overdue_share_now": "陈旧的应收账款可能永远收不回来，也会降低可融资的金额。",
    "inflow_to_sales_3m": "按一两个月的账期，本季度的回款支付的是上季度的销售，持续经营的企业"
                          "收到的钱与开出的票大致相当。回款远多于开票，说明应收账款在收缩：企业在"
                          "收回以前的货款，新的销售在减少；这是从银行的钱看出来的，比发票更难粉饰。"
                          "本季度没有销售时此项为中性（其他规则会看到）。",
    "sales_cv_12m": "销售忽高忽低，使依靠交易回款还款变得不确定。",
    "top_buyer_share_12m": "供应链中集中度高很常见，但几乎把全部货物卖给一个买方的供应商没有缓冲："
                           "失去这个买方或受其挤压，生意就会终结。",
    "anchor_confirmed_share_12m": "经确权的应收账款是核心企业的付款承诺；与小买方之间未确权的交易"
                                  "承担着对方的风险。",
    "anchor_tenure_days": "长期合作关系经得起不景气的月份；新供应商最先被替换。",
    "credit_note_rate_12m": "退货和争议意味着质量问题和不断缩水的应收账款。",
    "order_conversion_12m": "订单始终没有开票，说明供应商未能交货。",
    "debt_to_inflow": "负债相当于很多个月的回款，无法依靠交易偿还。",
    "neighbours_defaulted_share": "违约沿供应链传导：违约的买方不付款，违约的供应商不交货。",
    "past_defaults": "过往违约是每家征信机构最强的单项预测指标。",
    "history_months": "年轻企业更容易失败，平台对它们的了解也更少。",
    "tax_to_flow_ratio": "覆盖平台交易额的纳税申报能印证这些交易，远低于交易额的申报则与之矛盾。"
                         "未申报为中性：多数供应商没有申报数据。",
    "power_trend_3v6_vs_peers": "园区电表看到的是车间本身：机器开得少的企业产量就低，无论发票怎么"
                                "写。与园区内同行业计量企业的中位数相比（行业未知或同行太少时与全园区"
                                "相比），以免把所有服装企业共有的季节性误读为一家企业的下滑。"
                                "降幅分档计分（比同行少开一成机器已是在失去订单）；明显多于同行的"
                                "用电说明企业在赢得订单，计为加分。没有读数为中性。",
    "division_power_yoy_3m": "整个行业（例如汽车）的下行会减少其中每家企业的订单，无论它们向哪家"
                             "核心企业供货；与上年同期相比季节因素相互抵消。贷款人给行业评级，是因为"
                             "行业下行会使其中每家企业的违约率上升，往往达到平时的两倍，无论企业自身"
                             "数据如何；因此权重接近企业自身最强的信号。行业未知或计量企业太少为中性。",
    "headcount_trend_12m": "陷入困境的企业最先停缴部分员工的社保。没有记录为中性。",
    "headcount_trend_3v6": "本季度才开始的裁员几乎不影响一年的变化；近3个月对比此前6个月最先显示"
                           "出来；社保按人头缴纳，即使减少二十分之一也是裁员的决定，减少十分之一"
                           "则是企业在收缩。没有记录为中性。",
    "power_vs_sales_change": "电表与发票应当同向变化。平台销售额下降而车间照常运转，说明企业在向"
                             "平台以外的买方销售，而不是经营失败：上面三条销售规则把这一下降计了"
                             "三次，电表退回其中一部分。机器开得越来越少而发票维持不变，说明销售"
                             "是纸面交易或消化库存：略有扣分。两者都有上年同期数据时与上年同期相比，"
                             "否则为近3个月对比此前6个月。没有读数为中性。",
    "sales_12m_fen": "小企业更容易失败：丢掉一笔订单或遇到拖欠的买方时缓冲更少。分档参照国家中小"
                     "企业划型标准（工业微型企业年营业收入300万元以下，小型2000万元以下）；年销售额"
                     "不足100万元的企业只能月月维持。平台上看到的销售额是企业收入的下限，因此分档"
                     "从宽。",
    "output_per_kwh_vs_industry": "开票销售额是同类企业用电量所能产出的好几倍，说明是纸面交易或"
                                  "外购产品。没有读数为中性。",
}
