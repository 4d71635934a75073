"""The recogniser's typo tolerance, the limit cache under the firm's data stamp, and the
evaluation script on any labelled file."""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from trellis import clock
from trellis.assistant import intents
from trellis.clock import utcnow

BENCH = Path(__file__).resolve().parents[2] / "bench"


def test_homophone_typos_are_read_as_the_domain_word_and_real_words_are_left_alone():
    r = intents.default()
    assert "额度" in r.correct("额渡是多少")
    assert "冷静期" in r.correct("冷静其还能用吗")
    assert "买房" in r.correct("我想买房")           # a real word, not a typo of 买方
    assert intents.recognise("我的额渡是多少").intent == "limit"


def test_english_slips_are_read_as_the_domain_word_and_real_words_are_left_alone():
    r = intents.default()
    assert r.correct("my limt pls") == "my limit pls"
    assert "interest" in r.correct("whats the intrest rate")
    assert r.correct("recommend a good stock") == "recommend a good stock"   # not stuck
    assert intents.recognise("when is my repaymnt due").intent == "next_repayment"
    assert intents.recognise("I want to talk to a persn").reason == "human"


def test_the_same_question_means_the_anchors_thing_to_an_anchor():
    assert intents.recognise("发票为什么还没确认").intent == "invoice_unconfirmed"
    assert intents.recognise("发票为什么还没确认", "anchor").intent == "anchor_pending"
    assert intents.recognise("转人工", "anchor").handover


@pytest.mark.parametrize("text", ["本月我们要付多少？", "我们本月应付多少",
                                  "这个月要付供应商多少钱",
                                  "how much do we have to pay this month"])
def test_an_anchors_payables_question_is_answered_not_handed_over(text):
    """Reader 12, G5: to an anchor, next_repayment, repay, early_repayment and anchor_owed
    all mean its payables; their probabilities are added up before the hand-over bar
    (apart, none passed it, and the question went to an RM)."""
    got = intents.recognise(text, "anchor")
    assert (got.intent, got.handover) == ("anchor_owed", False), got
    merged = intents.default().recognise(text, intents.FOR_ROLE["anchor"])
    assert merged.confidence >= intents.HANDOVER_BELOW


@pytest.mark.parametrize("text, private", [
    ("某供应商的贷款逾期多少？", True), ("浙江顺诚塑胶制品科技有限公司的贷款逾期多少？", True),
    ("这家供应商的额度是多少", True), ("顺诚对银行的还款逾期了吗", True),
    ("is this supplier behind on its loan", True),
    ("我们欠供应商多少钱", False), ("我们对供应商的付款逾期了多少", False),
    ("供应商在平台上传的发票有多少待确权", False), ("供应商怎么申请贷款", False),
    ("我们欠银行多少", False), ("what is our company grade", False),
])
def test_a_suppliers_standing_at_the_bank_is_the_anchors_confidential_question(text, private):
    got = intents.recognise(text, "anchor")
    assert (got.intent == "supplier_private") == private, got
    # a sensitive hand-over stays one, and a vendor never gets the anchor's answer
    assert intents.recognise(text, "vendor").intent != "supplier_private"
    assert intents.recognise("供应商的贷款逾期了，有人让我先交保证金", "anchor").reason == \
        "fraud_call"


def test_limit_cache_follows_the_firms_data(session, demo):
    from trellis.scoring import frames, limits
    from trellis.scoring import service as scoring
    from trellis.trade.models import Firm, Invoice

    vendor = demo["vendor"]
    today = clock.today()
    scoring.score_firm(session=session, firm_id=vendor.firm_id)
    result = scoring.latest(session=session, firm_id=vendor.firm_id)
    first = limits.explain_limit(session=session, firm_id=vendor.firm_id, result=result,
                                 as_of=today)
    stamp = frames.documents_stamp(session, vendor.firm_id)
    assert limits.explain_limit(session=session, firm_id=vendor.firm_id, result=result,
                                as_of=today) == first   # served from the cache
    anchor_id = session.exec(select(Firm.id).where(Firm.role == "anchor")).first()
    session.add(Invoice(seller_id=vendor.firm_id, buyer_id=anchor_id, number="CACHE-1",
                        amount_fen=50_000_000, issue_date=today - timedelta(days=10),
                        due_date=today + timedelta(days=60), status="confirmed",
                        confirmed_at=utcnow() - timedelta(days=5)))
    session.flush()
    assert frames.documents_stamp(session, vendor.firm_id) != stamp
    cached = limits.explain_limit(session=session, firm_id=vendor.firm_id, result=result,
                                  as_of=today)
    limits._RECEIVABLES.clear()
    fresh = limits.explain_limit(session=session, firm_id=vendor.firm_id, result=result,
                                 as_of=today)
    assert cached == fresh
    assert fresh["eligible_receivables_fen"] > first["eligible_receivables_fen"]


@pytest.fixture
def assistant_eval():
    sys.path.insert(0, str(BENCH))
    try:
        import assistant_eval

        yield assistant_eval
    finally:
        sys.path.remove(str(BENCH))


def test_eval_script_scores_any_labelled_file(tmp_path, capsys, assistant_eval):
    rows = [("limit", "我能借多少钱"), ("human", "转人工"), ("rates", "what is the interest rate")]
    tsv = tmp_path / "q.tsv"
    tsv.write_text("expected\ttext\n" + "".join(f"{e}\t{t}\n" for e, t in rows),
                   encoding="utf-8")
    jsonl = tmp_path / "q.jsonl"
    jsonl.write_text("".join(json.dumps({"expected": e, "text": t}, ensure_ascii=False) + "\n"
                             for e, t in rows), encoding="utf-8")
    for path in (tsv, jsonl):
        assert assistant_eval.main([str(path)]) == 0
        out = capsys.readouterr().out
        assert "questions                        3" in out and "in_scope_accuracy" in out
        assert [r["lang"] for r in assistant_eval.load(path)] == ["zh", "zh", "en"]
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    for bad in (empty, tmp_path / "missing.jsonl"):
        with pytest.raises(SystemExit):
            assistant_eval.main([str(bad)])


OUTSIDE = Path(__file__).with_name("outside_questions.jsonl")


def test_outside_questions_hold_their_measured_level(assistant_eval):
    """Questions written from the issue text alone by someone who never read the code
    (327, zh and en). Measured when they arrived: 85.5% in scope answered, 88.9% of
    the sensitive ones handed over; after the handover rules were broadened from their
    meaning (branch assistant2, developed on the shipped set only): 87.7% and 98.0%;
    with the classifier blended in and a second outside writer's training questions
    (branch assistant3, developed by cross-validation on the training questions only):
    95.2% and 99.0%, against goals of 90% and 95% (see bench/RESULTS.md). The floor,
    about two points under, stops a change from quietly making them worse."""
    rows = assistant_eval.load(OUTSIDE)
    assert len(rows) >= 300
    got = assistant_eval.recognition(rows, show=False)
    # the aggregate only (pytest -rP shows it): the questions and misses stay unseen
    print({k: round(v, 4) if isinstance(v, float) else v for k, v in got.items()})
    assert got["in_scope_accuracy"] >= 0.93, got
    assert got["handed_over_rate"] >= 0.97, got


# Written from the issue's handover list and the label meanings (not from any eval file):
# the scam's own words, anger and formal complaints, asking for a person in dialect and
# English, a changed card, raise/lower requests, other firms, plainly other topics, and
# homophone typos of the sensitive words.
SENSITIVE = [
    ("对方要我下载一个会议软件共享屏幕", "fraud_call"),
    ("短信说额度已冻结 需要交解冻金", "fraud_call"),
    ("说我流水不够 要帮我刷流水才能放款", "fraud_call"),
    ("客服打电话说要给我退款 让我提供卡号", "fraud_call"),
    ("有人打电话说我中奖了 是真的吗", "fraud_call"),
    ("I got an sms saying my loan is frozen and I must pay to unlock it", "fraud_call"),
    ("这是不是炸骗", "fraud_call"),
    ("有人要我的验正码", "fraud_call"),
    ("我要去银保监会告你们", "complaint"),
    ("你们这服务什么玩意 气死我了", "complaint"),
    ("this is a rip-off", "complaint"),
    ("我要头诉", "complaint"),
    ("搵个真人同我倾", "human"),
    ("我要跟人讲话 不要机器人", "human"),
    ("let me talk to a real person pls", "human"),
    ("转人公", "human"),
    ("收款卡挂失了", "bank_account"),
    ("please send the money to a different account", "bank_account"),
    ("能不能把额度调到一百万", "limit_change"),
    ("利息能不能给我便宜点", "limit_change"),
    ("could you waive the late fee", "limit_change"),
    ("帮我查下我朋友公司的额度", "other_firm"),
    ("how much does my competitor owe", "other_firm"),
    ("股票明天涨不涨", "low_confidence"),
    ("how do I get a mortgage", "low_confidence"),
]


@pytest.mark.parametrize(("text", "reason"), SENSITIVE)
def test_sensitive_questions_are_handed_over_for_their_reason(text, reason):
    got = intents.recognise(text)
    assert got.handover and got.reason == reason, got


# A word of anger or a mention of the manager does not hide a plain question.
ANSWERABLE = [
    ("利息怎么这么高？年化多少", "rates"),
    ("为什么被拒了？太离谱了吧", "declined"),
    ("冷静期真的不收利息吗", "cooling_off"),
    ("客户经理说可以提前还，要多少钱", "early_repayment"),
    ("提前还款能少付点利息吗", "early_repayment"),
    ("额度还够不够再借一笔", "limit"),
    ("手续费收几多", "fees"),
    ("why is the interest so high??", "rates"),
    ("is there a fee to apply", "fees"),
]


@pytest.mark.parametrize(("text", "intent"), ANSWERABLE)
def test_answerable_questions_with_emotion_or_a_manager_are_answered(text, intent):
    got = intents.recognise(text)
    assert not got.handover and got.intent == intent, got


# Written from the meaning of the changes on branch assistant3 (not from any eval file).
LEARNED = [
    ("工人工资压得喘不过气 最多能借多少", "limit"),          # 工人工资 holds no 人工
    ("营业执照传了 还缺什么材料", "missing_documents"),        # paperwork beside a keyword
    ("好的谢谢", "greeting"),
    ("thank you", "greeting"),
    ("把我的资料都删了 不想再授权", "withdraw_consent"),
]


@pytest.mark.parametrize(("text", "intent"), LEARNED)
def test_words_inside_a_question_do_not_hide_what_it_asks(text, intent):
    got = intents.recognise(text)
    assert not got.handover and got.intent == intent, got


def test_other_lenders_products_are_not_answered_as_ours():
    for text in ("招商银行的经营贷利率是多少", "借呗的额度怎么提", "what is the loan rate at ICBC"):
        got = intents.recognise(text)
        assert got.handover and got.reason == "low_confidence", (text, got)


def test_typo_correction_stays_inside_words():
    r = intents.default()
    assert r.correct("应收款确认状态查询") == "应收款确认状态查询"    # no 太差 across 状态|查询


def test_retrieval_scores_are_rank_bm25s():
    from rank_bm25 import BM25Okapi

    docs = intents.load_labelled(intents.FAQ) + intents.load_labelled("examples.tsv")[:60]
    r = intents.Recognizer(docs)
    bm25 = BM25Okapi([intents.tokens(t) or ["∅"] for _, t in docs])
    for text in ("我的额度是多少", "how much is the late fee", "冷静期 提前还款 利息"):
        want: dict[str, float] = {}
        for label, score in zip(r.labels, bm25.get_scores(intents.tokens(text)), strict=True):
            if score > want.get(label, 0.0):
                want[label] = float(score)
        norm = intents.normalise(text)
        boosted = {n for n, p in intents.KEYWORDS if p.search(norm)}
        for n in list(boosted):
            boosted -= intents.EXCLUDES.get(n, set())
        got = r.retrieval(text)
        assert set(got) == set(want)
        for label, score in want.items():
            factor = intents.BOOST if label in boosted else 1.0
            assert got[label] == pytest.approx(score * factor)
