# ruff: noqa: E501  (each rule pattern reads best on one line)
"""Intent recognition: keyword rules for handover triggers, then BM25 retrieval.

Why two stages: the questions a person must answer (a complaint, a request for a person,
anything about fraud or a changed bank account, a request to raise a limit) are few and
named by a handful of words; missing one costs far more than a wrong FAQ answer, so they
are plain rules checked first. Everything else is retrieval: the question, segmented by
jieba (words) plus Chinese character bigrams (which survive typos and unknown words), is
scored by BM25 (rank-bm25) against the labelled examples and the product's FAQ texts in
``data/``; an intent's score is its best document. A low or ambiguous best score hands the
question over (``low_confidence``) rather than guessing.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).parent / "data"
logger = logging.getLogger(__name__)

# Intents answered from the user's records or the product's rules.
ANSWERED = ("limit", "declined", "next_repayment", "early_repayment", "cooling_off",
            "invoice_unconfirmed", "missing_documents", "grade", "rates", "fees", "consent",
            "apply", "repay", "withdraw_consent", "greeting", "anchor_pending", "anchor_owed")
# Intents that always go to the RM (``fraud_call`` also shows the fraud warnings).
HANDOVER = ("fraud_call", "human", "complaint", "bank_account", "limit_change",
            "other_firm", "low_confidence")

# The same question means a different thing to an anchor clerk (a buyer) and a vendor.
FOR_ROLE = {
    "anchor": {"invoice_unconfirmed": "anchor_pending", "next_repayment": "anchor_owed",
               "repay": "anchor_owed", "early_repayment": "anchor_owed"},
    "vendor": {"anchor_pending": "invoice_unconfirmed", "anchor_owed": "next_repayment"},
}

MIN_SCORE = 3.0      # BM25 score below which nothing matched well enough
MIN_MARGIN = 1.08    # best intent must beat the second by this factor unless it is strong
STRONG_SCORE = 9.0

# Dialect and colloquial words -> the standard word the examples use.
NORMALISE = (
    ("啥子", "什么"), ("啥", "什么"), ("咋个", "怎么"), ("咋", "怎么"), ("么子", "什么"),
    ("木有", "没有"), ("莫得", "没有"), ("冇", "没有"), ("没得", "没有"), ("晓得", "知道"),
    ("几多", "多少"), ("好多钱", "多少钱"), ("多钱", "多少钱"), ("蛮", "很"), ("俺", "我"),
    ("偶", "我"), ("为撒", "为什么"), ("滴", "的"), ("嘛", "吗"), ("撒子", "什么"), ("搞", "做"),
    ("钱钱", "钱"), ("贷款额度", "额度"), ("放款", "贷款"), ("借款", "贷款"),
)
# A message that is only a greeting (checked before everything else).
GREETING = re.compile(r"^\W*(你好|您好|你好呀|在吗|在不在|有人在吗|有人吗|早上好|下午好|晚上好|嗨|哈喽|"
                      r"hi|hello|hey|good (morning|afternoon|evening)|anyone there|"
                      r"你(都|还)?(能|会|可以)(干|做|帮我做)?什么|有什么功能|what can you do)"
                      r"[\W\s]*(你好|您好|请问)?[\W\s]*$", re.I)
RULES: tuple[tuple[str, re.Pattern], ...] = tuple((name, re.compile(rx, re.I)) for name, rx in (
    # The firm boundary: a question about another firm goes to a person, never answered
    # with the asker's own figures.
    ("other_firm", r"隔壁|别人家|别家|别的公司|其他公司|另一家|那家公司|他家|他们家|王老板|"
                   r"neighbou?r|another (company|firm)|other (company|firm)|someone else's"),
    ("fraud_call", r"诈骗|骗子|被骗|骗了|骗钱|冒充|假冒|自称|验证码|涉案|安全账户|公检法|"
                   r"公安|法院|刷单|先交|先付|保证金|解冻|可疑|投资项目|高回报|回报很高|稳赚|是不是真的|是真的吗|靠谱吗.*电话|"
                   r"电话.*(真|假|银行|平台)|scam|fraud|phish|suspicious|impersonat|"
                   r"verification code|call(ed)? .*(real|bank|genuine)|claim(ed|ing)? to be|"
                   r"upfront fee|fee (before|upfront)|high.return|investment opportunit"),
    ("bank_account", r"(换|改|变更|修改|更换|更改|新|变).{0,6}(银行卡|银行账|收款账|账户|账号|卡号|"
                     r"收款卡|结算卡)|(银行卡|账户|账号|卡号).{0,4}(换|改|变|丢|挂失|注销)|"
                     r"(change|update|new|switch|replace)\w* .{0,20}(bank|account|card)|"
                     r"(bank|account) (details|number) .{0,12}(chang|updat|wrong)"),
    ("complaint", r"投诉|不满意|太差|垃圾|坑人|太坑|欺负|举报|维权|恶心|差评|态度差|"
                  r"complain|unacceptable|terrible|awful|ridiculous|disgrace|rip.?off|"
                  r"unhappy with|worst"),
    ("human", r"人工|真人|活人|客户经理|客服经理|找经理|经理.{0,4}(联系|打电话|回电)|"
              r"找个人|找人聊|有人吗|打电话给我|回电|\bperson\b|\bhuman\b|\bagent\b|"
              r"relationship manager|\brm\b|someone (real|to talk)|call me( back)?|"
              r"talk to (someone|somebody)|speak (to|with)|representative"),
    ("limit_change", r"提额|调额|(提高|提升|增加|调高|涨|加|上调).{0,3}额度|"
                     r"额度.{0,5}(提高|提升|增加|调高|高一点|再高|多给|加点|太少|太低|不够)|"
                     r"(increase|raise|higher|bigger|more)\w* .{0,15}(limit|credit line)|"
                     r"limit .{0,10}(increase|raise|higher|too (low|small))"),
))
STOP = set("能不能 会不会 是不是 有没有 可不可以 要不要 的 了 吗 呢 啊 呀 吧 哦 哈 是 我 我们 你 你们 请问 请 一下 下 能 可以 想 要 这 那 个 "
           "有 没 在 和 与 及 就 都 还 也 又 很 嗯 额 哎 诶 么 the a an to of is are my me i "
           "do does did can could you your for in on it and or be please what how".split())
# Words that point strongly to one answered intent: its BM25 score is multiplied by BOOST.
BOOST = 1.6
KEYWORDS: tuple[tuple[str, re.Pattern], ...] = tuple((name, re.compile(rx, re.I)) for name, rx in (
    ("cooling_off", r"冷静期|冷静其|后悔|反悔|不想借了|免息|不收利息|不要利息|没有利息|cooling|changed my mind|cancel|interest.free|no interest"),
    ("early_repayment", r"提前|提早|早还|早点还|结清|还清.*多少|early|settle|pay (it |the loan )?off|(repay|pay (it )?back|pay) (it )?(now|today|before)|before the due"),
    ("invoice_unconfirmed", r"确权|确认|发票|发漂|invoice|confirm"),
    ("grade", r"评级|评分|等级|扣分|信用分|几级|分是多少|grade|rating|score"),
    ("rates", r"利率|利息|年化|lpr|apr|interest"),
    ("fees", r"手续费|费用|收费|罚息|管理费|服务费|几成|融资比例|fee|charge|penalt|advance"),
    ("withdraw_consent", r"(撤回|撤销|取消|关掉|关闭|解除|停止|不想|不要).{0,8}(授权|同意|数据|信息)|"
                         r"(授权|同意).{0,6}(撤掉|关掉|停掉|不要了)|"
                         r"(withdraw|revoke|cancel|stop)\w* .{0,20}(consent|data|permission)"),
    ("consent", r"授权|同意|隐私|个人信息|consent|privacy|agreed to share"),
    ("declined", r"拒|没通过|没批|没过|不通过|审核不过|批不下来|失败|驳回|审批|reject|declin|turn(ed)? down|refus|fail"),
    ("limit", r"额度|额渡|授信|能贷|能借|可借|多少钱.*(贷|借)|limit|borrow|lend"),
    ("next_repayment", r"还款日|到期|几号|哪天|还款计划|下期|下次|下回|due|next (payment|repayment)|when .{0,20}(pay|repay)"),
    ("repay", r"我要还|还钱|还款|repay|pay back|make a payment"),
    ("missing_documents", r"材料|资料|单据|文件|上传|document|paperwork|upload"),
    ("apply", r"申请|融资|借款|apply|application|financ"),
))

# A more specific keyword intent silences the boost of the general ones it contains.
EXCLUDES = {"withdraw_consent": {"consent"}, "declined": {"apply", "limit"},
            "early_repayment": {"repay", "next_repayment", "rates", "fees"},
            "cooling_off": {"rates", "repay", "next_repayment", "early_repayment", "fees"},
            "invoice_unconfirmed": {"apply"}, "grade": {"limit"}, "limit": {"apply"}}

# Words too general to show a question is about this service.
GENERIC = set("怎么 怎么样 什么 为什么 为啥 哪里 哪个 哪些 多少 几 吗 要 想 可以 能 能不能 会 "
              "有 没有 现在 今天 明天 一下 一个 这个 那个 帮 帮我 给 给我 看看 知道 问 问题 "
              "一般 需要 做 弄 办 公司 我们 你们 they it that this when where which who why "
              "much many will would should there any some get want need know tell help make "
              "now today tomorrow what's how's where's who's it's i'm i'd".split())
_CJK = re.compile(r"[\u4e00-\u9fff]+")
_WORD = re.compile(r"[a-z][a-z'-]*|\d+")


@dataclass(frozen=True)
class Recognised:
    intent: str
    confidence: float          # 0-1: best intent's share of the top two scores
    handover: bool
    reason: str = ""           # handover reason: the rule or ``low_confidence``
    score: float = 0.0


def normalise(text: str) -> str:
    """NFKC (full-width to half-width), lower case, dialect words replaced."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    for old, new in NORMALISE:
        text = text.replace(old, new)
    return text


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


@lru_cache(maxsize=1)
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    for word in ("冷静期", "确权", "额度", "提前还款", "可用额度", "授信", "评级", "原因码",
                 "验证码", "核心企业", "应收账款", "还款日", "罚息", "手续费", "撤回", "授权",
                 "没通过", "被拒", "拒贷", "提额", "待确认"):
        jieba.add_word(word)
    jieba.initialize()
    return jieba


def words(text: str) -> list[str]:
    """Words only: jieba for Chinese, stemmed for English; stop words dropped."""
    text = normalise(text)
    out: list[str] = []
    for run in _CJK.findall(text):
        out += [w for w in _jieba().lcut(run) if w not in STOP]
    out += [_stem(w) for w in _WORD.findall(text) if w not in STOP]
    return out


def _pinyin(run: str) -> list[str]:
    from pypinyin import Style, lazy_pinyin

    return lazy_pinyin(run, style=Style.NORMAL, errors="ignore")


def tokens(text: str) -> list[str]:
    """Words and Chinese character bigrams (the retrieval terms)."""
    out = words(text)
    for run in _CJK.findall(normalise(text)):
        out += [run[i:i + 2] for i in range(len(run) - 1)]
    return out


def load_labelled(name: str) -> list[tuple[str, str]]:
    """``intent<TAB>text`` lines of ``data/<name>`` (``#`` starts a comment line)."""
    rows = []
    for line in (DATA / name).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            intent, _, text = line.partition("\t")
            rows.append((intent.strip(), text.strip()))
    return rows


class Recognizer:
    """Rules, then BM25 over labelled documents; build once, call :meth:`recognise`."""

    def __init__(self, documents: list[tuple[str, str]]):
        from rank_bm25 import BM25Okapi

        self.labels = [intent for intent, _ in documents]
        self.bm25 = BM25Okapi([tokens(text) or ["∅"] for _, text in documents])
        # The domain's words: a question sharing none of them is not about this service
        # (the weather, a car insurance), however well its "how" or "what" matches.
        self.domain = {w for _, text in documents for w in words(text)} - GENERIC
        # Typo tolerance: the commonest slip with a pinyin keyboard is a homophone (额渡
        # for 额度, 冷静其 for 冷静期). Every Chinese word of the documents is indexed by
        # its toneless pinyin; a span of the question that is no known word or character
        # pair, nor a word of jieba's dictionary (买房 is not a typo of 买方), but sounds
        # exactly like one known word is read as that word.
        self.known = {w for _, text in documents for w in words(text)}
        self.known |= {run[i:i + 2] for _, text in documents for run in _CJK.findall(
            normalise(text)) for i in range(len(run) - 1)}
        by_sound: dict[str, set[str]] = {}
        for word in self.domain:
            if 2 <= len(word) <= 4 and _CJK.fullmatch(word):
                by_sound.setdefault("".join(_pinyin(word)), set()).add(word)
        self.sounds = {k: next(iter(v)) for k, v in by_sound.items() if len(v) == 1}

    def correct(self, text: str) -> str:
        """*text* with homophone typos of the domain's words put right (see above)."""
        text = normalise(text)
        out, i = [], 0
        while i < len(text):
            fixed = None
            for n in (4, 3, 2):
                span = text[i:i + n]
                if (len(span) == n and _CJK.fullmatch(span) and span not in self.known
                        and not _jieba().dt.FREQ.get(span)):   # a real word: no typo
                    word = self.sounds.get("".join(_pinyin(span)))
                    if word:
                        fixed = word
                        break
            if fixed:
                out.append(fixed)
                i += len(fixed)
            else:
                out.append(text[i])
                i += 1
        return "".join(out)

    def rule(self, text: str) -> str | None:
        """The intent a hand-written rule gives *text*, or None."""
        norm = normalise(text)
        for name, pattern in RULES:
            if pattern.search(norm):
                return name
        return None

    def recognise(self, text: str) -> Recognised:
        """The intent of *text*: a greeting, a rule's, or the best BM25 match over the examples with
        its confidence (0 to 1)."""
        text = self.correct(text)
        if GREETING.match(normalise(text)):
            return Recognised("greeting", 1.0, False)
        ruled = self.rule(text)
        if ruled:
            return Recognised(ruled, 1.0, True, ruled)
        query = tokens(text)
        if not query or not (set(words(text)) & self.domain):
            return Recognised("low_confidence", 0.0, True, "low_confidence")
        norm = normalise(text)
        boosted = {name for name, pattern in KEYWORDS if pattern.search(norm)}
        for name in list(boosted):
            boosted -= EXCLUDES.get(name, set())
        best: dict[str, float] = {}
        for label, score in zip(self.labels, self.bm25.get_scores(query), strict=True):
            score = float(score) * (BOOST if label in boosted else 1.0)
            if score > best.get(label, 0.0):
                best[label] = score
        ranked = sorted(best.items(), key=lambda kv: kv[1], reverse=True)
        if not ranked:
            return Recognised("low_confidence", 0.0, True, "low_confidence")
        top, top_score = ranked[0]
        second = ranked[1][1] if len(ranked) > 1 else 0.0
        confidence = top_score / (top_score + second) if top_score else 0.0
        weak = top_score < MIN_SCORE or (top_score < STRONG_SCORE
                                         and top_score < second * MIN_MARGIN)
        if weak:
            return Recognised("low_confidence", confidence, True, "low_confidence", top_score)
        if top in HANDOVER:
            return Recognised(top, confidence, True, top, top_score)
        return Recognised(top, confidence, False, "", top_score)


@lru_cache(maxsize=1)
def default() -> Recognizer:
    """The recogniser over the shipped examples and FAQ texts (built once per process)."""
    return Recognizer(load_labelled("examples.tsv") + load_labelled("faq.tsv"))


def recognise(text: str, role: str = "vendor") -> Recognised:
    """The intent of *text* for an asker of *role* (``vendor`` or ``anchor``)."""
    found = default().recognise(text)
    mapped = FOR_ROLE.get(role, {}).get(found.intent)
    if mapped and not found.handover:
        return Recognised(mapped, found.confidence, False, "", found.score)
    return found
