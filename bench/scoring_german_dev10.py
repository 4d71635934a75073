"""German credit, development only (issue 14, tenth pass): new blend members beside the
shipped five, measured on *fresh development* split seeds 7000-7019 (never used before;
2000-2019 were chosen on by two passes, so their figures are optimistic), never on the
reporting seeds of ``bench/scoring_german.py``.

Protocol as ``bench/scoring_german_dev6.py`` (whose caching and scoring it reuses): per
stratified 70/30 split, each variant is fitted by 5-fold cross-validation on the training
rows (out-of-fold logits) and refitted on all training rows (its test logits); the test
rows are only scored. Cached in /tmp/credit10_dev.

    .venv/bin/python bench/scoring_german_dev10.py --seeds 7000-7019 --jobs 2 \
        --variants woe woe_free gbm_xt rf onehot svm ... --combos "a+b+c" ...
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.svm import SVC

from bench import scoring_german_dev6 as dev6
from trellis.scoring import blend, blend_fit, boosting

dev6.CACHE = Path("/tmp/credit10_dev")
dev6.CURRENT = ("woe", "woe_free", "gbm_xt", "rf", "onehot")
_old_variant = dev6._variant


def _onehot_design(Xa, ya, numeric, categorical):
    model = blend_fit.fit_onehot(Xa, ya, numeric, categorical)
    D, _ = blend.design(model, Xa)
    mu, sd = D.mean(axis=0), D.std(axis=0)
    sd[sd == 0] = 1.0
    return lambda Xb: (blend.design(model, Xb)[0] - mu) / sd


def _variant(name, numeric, categorical, seed, monotone=None):
    def member(kind):
        def f(Xa, ya):
            m = blend_fit._fit_member(kind, Xa, ya, numeric, categorical, seed, monotone)
            return lambda Xb: -blend.member_logodds(m, Xb)
        return f

    def svm(C=1.0, gamma="scale"):
        def f(Xa, ya):
            d = _onehot_design(Xa, ya, numeric, categorical)
            m = SVC(C=C, gamma=gamma).fit(d(Xa), ya)
            return lambda Xb: m.decision_function(d(Xb))
        return f

    def svm_lin(C=0.01):
        def f(Xa, ya):
            d = _onehot_design(Xa, ya, numeric, categorical)
            m = SVC(C=C, kernel="linear").fit(d(Xa), ya)
            return lambda Xb: m.decision_function(d(Xb))
        return f

    def knn(k=60):
        def f(Xa, ya):
            d = _onehot_design(Xa, ya, numeric, categorical)
            m = KNeighborsClassifier(k, weights="distance").fit(d(Xa), ya)
            return lambda Xb: m.predict_proba(d(Xb))[:, 1]
        return f

    def onehot_C(C):
        def f(Xa, ya):
            m = {"kind": "onehot", "model": blend_fit.fit_onehot(Xa, ya, numeric,
                                                                 categorical, C=C)}
            return lambda Xb: -blend.member_logodds(m, Xb)
        return f

    def bagged(params, n=5):
        def f(Xa, ya):
            free = {c: int((monotone or {}).get(c, 0)) for c in numeric}
            cards = [boosting.fit(Xa, ya, numeric, categorical, version="dev",
                                  seed=seed + i, monotone=free, params=params)
                     for i in range(n)]
            return lambda Xb: np.mean([-blend.member_logodds({"kind": "gbm", "card": c}, Xb)
                                       for c in cards], axis=0)
        return f

    def woe_C(C):
        def f(Xa, ya):
            from trellis.scoring import training
            bp = training._fit_binning(Xa, ya, numeric, categorical)
            names = [str(n) for n in bp.get_support(names=True)]
            W = training._woe(bp, Xa, names)
            lr = LogisticRegression(C=C, max_iter=5000).fit(W.to_numpy(), ya)
            return lambda Xb: lr.decision_function(training._woe(bp, Xb, names).to_numpy())
        return f

    table = {
        "gbm_xt": member("gbm_xt"), "rf": member("rf"),
        "svm": svm(), "svm_c03": svm(C=0.3), "svm_lin": svm_lin(), "knn": knn(),
        "onehot_c1": onehot_C(1.0), "onehot_c003": onehot_C(0.03),
        "xt_bag": bagged(blend_fit.TREES["gbm_xt"]), "rf_bag": bagged(blend_fit.TREES["rf"]),
        "woe_c01": woe_C(0.1),
    }
    if name in table:
        return table[name]
    if name in blend_fit.KIND:
        return member(name)
    return _old_variant(name, numeric, categorical, seed)


dev6._variant = _variant

if __name__ == "__main__":
    warnings.simplefilter("ignore")
    dev6.main()
