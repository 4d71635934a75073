"""Fit a scorecard from labelled data: monotonic optimal binning with weight of evidence
(optbinning), logistic regression, Platt calibration folded into the card, and a
validation report (out of time when a date column is given).

Works on any table of numeric and categorical columns with missing values, not only
Trellis's own features: a risk team may bring its own history as CSV. The result is a
scorecard document (:mod:`.scorecard`) holding the bins, the log-odds per bin, the
scaling, the grade cut-offs, the training population's shares (for PSI) and the
validation report.

Conventions: the target is 1 for a bad (default) and 0 for a good outcome; optbinning's
weight of evidence is ln(share of goods / share of bads), so a high WoE is a good bin and
the logistic coefficients on WoE come out negative. A characteristic whose coefficient has
the wrong sign (collinearity) is dropped and the model refitted.
"""

from __future__ import annotations

import logging
import math
import warnings
from contextlib import contextmanager

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, train_test_split

from trellis import clock
from trellis.messages import N_, msg
from trellis.scoring import blend_fit, boosting, calibration, metrics, scorecard, stability
from trellis.scoring.errors import TrainingDataError
from trellis.scoring.expert import GRADE_PDS, SCALING

logger = logging.getLogger(__name__)

BAD = {"1", "true", "bad", "default", "defaulted", "yes", "y"}
GOOD = {"0", "false", "good", "no", "n", "paid", "repaid", "performing"}
MIN_ROWS, MIN_BADS = 50, 10
MAX_CATEGORIES = 50
VALIDATION_SHARE = 0.3
MIN_IV = 0.02
MAX_BINS = 6


@contextmanager
def _quiet():
    """optbinning and scikit-learn warn about small bins and convergence; the report
    shows what matters, and the test suite turns warnings into errors."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def parse_target(series: pd.Series, name: str) -> pd.Series:
    """The target as 0/1 ints (1 = bad). Raises :class:`TrainingDataError`."""
    if series.isna().any():
        raise TrainingDataError(msg(N_("Column %(name)s has %(count)s empty values; "
                                       "every row needs an outcome."),
                                    name=name, count=int(series.isna().sum())), field=name)
    text = series.astype(str).str.strip().str.lower()
    text = text.replace({"1.0": "1", "0.0": "0"})
    unknown = sorted(set(text) - BAD - GOOD)
    if unknown:
        raise TrainingDataError(
            msg(N_("Column %(name)s must hold outcomes such as 0/1, good/bad or yes/no; found "
                   "%(found)s."), name=name, found=[str(v) for v in unknown[:5]]), field=name)
    return text.isin(BAD).astype(int)


def _numbers(s: pd.Series) -> bool:
    """An object column that holds only numbers and gaps (a feature with missing values
    kept as Python floats and None) is numeric, not text."""
    return s.dtype == object and s.notna().any() and pd.api.types.infer_dtype(
        s, skipna=True) in ("floating", "integer", "mixed-integer-float", "decimal")


def _columns(df: pd.DataFrame, target: str, date_column: str | None,
             exclude: tuple[str, ...]) -> tuple[list[str], list[str], list[str]]:
    """(numeric, categorical, dropped-with-reason) feature columns."""
    numeric, categorical, dropped = [], [], []
    for col in df.columns:
        if col in (target, date_column) or col in exclude:
            continue
        s = df[col]
        if pd.api.types.is_bool_dtype(s):
            categorical.append(col)
        elif pd.api.types.is_numeric_dtype(s) or _numbers(s):
            if s.notna().sum() == 0 or s.nunique() < 2:
                dropped.append(f"{col}: constant or empty")
            else:
                numeric.append(col)
        else:
            n = s.nunique(dropna=True)
            if n < 2:
                dropped.append(f"{col}: constant or empty")
            elif n > MAX_CATEGORIES:
                dropped.append(f"{col}: {n} distinct text values (an identifier?)")
            else:
                categorical.append(col)
    return numeric, categorical, dropped


def _prepare(df: pd.DataFrame, numeric: list[str], categorical: list[str]) -> pd.DataFrame:
    # the columns built apart and joined once: inserting a hundred columns one by one makes
    # pandas warn of a fragmented frame (the feature table passed 100 columns in credit11)
    cols = {c: pd.to_numeric(df[c], errors="coerce").astype(float) for c in numeric}
    for c in categorical:
        cols[c] = df[c].astype("object").where(df[c].notna(), None).map(
            lambda v: None if v is None else str(v)).astype("object")
    return pd.DataFrame(cols, index=df.index)


def _fit_binning(X: pd.DataFrame, y: np.ndarray, numeric: list[str], categorical: list[str],
                 *, trend: str = "auto_asc_desc", max_bins: int | None = MAX_BINS,
                 min_bin_size: float | None = 0.05, min_iv: float = MIN_IV):
    from optbinning import BinningProcess  # late: seconds to import; only a WoE fit needs it

    params = {c: {"monotonic_trend": trend} for c in numeric}
    bp = BinningProcess(variable_names=numeric + categorical,
                        categorical_variables=categorical or None,
                        max_n_bins=max_bins, min_bin_size=min_bin_size,
                        binning_fit_params=params,
                        selection_criteria={"iv": {"min": min_iv}} if min_iv > 0 else None)
    with _quiet():
        bp.fit(X[numeric + categorical], y)
    return bp


def _woe(bp, X: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    with _quiet():
        W = bp.transform(X[bp.variable_names], metric="woe", metric_missing="empirical",
                         metric_special="empirical")
    return W[names].astype(float)


def _fit_lr(W: pd.DataFrame, y: np.ndarray) -> LogisticRegression:
    lr = LogisticRegression(C=1.0, max_iter=2000)
    with _quiet():
        lr.fit(W.to_numpy(), y)
    return lr


def _select_signs(bp, X, y, names):
    """Drop characteristics with a wrong-signed coefficient until all are right."""
    names = list(names)
    while names:
        W = _woe(bp, X, names)
        lr = _fit_lr(W, y)
        coef = lr.coef_[0]
        wrong = [n for n, c in zip(names, coef, strict=True) if c >= 0]
        if not wrong:
            return names, lr
        worst = names[int(np.argmax(coef))]
        logger.info("dropping %s: coefficient has the wrong sign", worst)
        names.remove(worst)
    raise TrainingDataError(msg(N_("No column separates good from bad outcomes (information value "
                                   "below %(iv)s for every column)."),
                                iv=MIN_IV), field="target")


def _platt(bp, X, y, names, seed) -> tuple[float, float]:
    """Calibration of the raw logit on out-of-fold predictions: logit' = a + b logit."""
    oof = np.zeros(len(y))
    W = _woe(bp, X, names).to_numpy()
    folds = StratifiedKFold(n_splits=min(5, int(y.sum()), int((1 - y).sum())), shuffle=True,
                            random_state=seed)
    for tr, te in folds.split(W, y):
        lr = LogisticRegression(C=1.0, max_iter=2000)
        with _quiet():
            lr.fit(W[tr], y[tr])
        oof[te] = lr.decision_function(W[te])
    cal = LogisticRegression(C=1e6, max_iter=2000)
    with _quiet():
        cal.fit(oof.reshape(-1, 1), y)
    a, b = float(cal.intercept_[0]), float(cal.coef_[0][0])
    if not math.isfinite(b) or b <= 0:
        return 0.0, 1.0
    return a, b


def _characteristic(bp, name: str, coef: float, b: float, X: pd.DataFrame) -> dict:
    optb = bp.get_binned_variable(name)
    table = optb.binning_table.build()
    table = table[table.index != "Totals"]
    woe = pd.to_numeric(table["WoE"], errors="coerce").fillna(0.0).to_numpy()
    labels = table["Bin"].astype(str).tolist()
    n_bins = len(optb.splits) + 1 if optb.dtype == "numerical" else len(optb.splits)
    miss_row = labels.index("Missing")
    ch = {"name": name, "label_en": name, "label_zh": name, "reason_code": name,
          "reason_en": f"Value of {name}", "reason_zh": f"{name} 的取值",
          "why": f"Information value {float(table['IV'].sum()):.3f} on the training data."}
    logodds = lambda w: round(float(-b * coef * w), 6)  # noqa: E731
    if optb.dtype == "numerical":
        ch["type"] = "numeric"
        ch["splits"] = [float(s) for s in optb.splits]
    else:
        ch["type"] = "categorical"
        ch["groups"] = [[str(v) for v in np.asarray(g).tolist()] for g in optb.splits]
    ch["bins"] = [{"logodds": logodds(woe[i]), "woe": round(float(woe[i]), 6),
                   "label": labels[i]} for i in range(n_bins)]
    ch["missing"] = {"logodds": logodds(woe[miss_row]), "woe": round(float(woe[miss_row]), 6)}
    ch["other"] = {"logodds": 0.0, "neutral": True}
    return ch


def _split(df, y, date_column, seed):
    if date_column:
        if date_column not in df:
            raise TrainingDataError(msg(N_("There is no column %(date_column)s."),
                                        date_column=date_column), field=date_column)
        dates = pd.to_datetime(df[date_column], errors="coerce")
        if dates.isna().any():
            raise TrainingDataError(msg(N_("Column %(date_column)s has %(count)s "
                                           "values that are not dates."),
                                        date_column=date_column, count=int(dates.isna().sum())),
                                        field=date_column)
        cut = dates.quantile(1 - VALIDATION_SHARE)
        val = (dates > cut).to_numpy()
        how = {"kind": "out_of_time", "cut": cut.date().isoformat(),
               "train_from": dates.min().date().isoformat(),
               "validate_to": dates.max().date().isoformat()}
        if y[val].sum() < 2 or y[~val].sum() < MIN_BADS:
            raise TrainingDataError(msg(N_("Too few bad outcomes on one side of the "
                                           "out-of-time cut (%(day)s); use more history or "
                                           "no date column."),
                                        day=cut.date()),
                                    field=date_column)
        return ~val, val, how
    idx = np.arange(len(y))
    tr, va = train_test_split(idx, test_size=VALIDATION_SHARE, stratify=y, random_state=seed)
    train = np.zeros(len(y), dtype=bool)
    train[tr] = True
    return train, ~train, {"kind": "random_stratified", "seed": seed}


def fit(df: pd.DataFrame, y: np.ndarray, numeric: list[str], categorical: list[str], *,
        version: str, seed: int = 0, calibrate: bool = True,
        binning: dict | None = None) -> dict:
    """Binning + logistic regression (+ calibration) on *df*; returns a scorecard spec.
    *binning* overrides :func:`_fit_binning`'s settings (trend, max_bins, min_bin_size,
    min_iv)."""
    X = _prepare(df, numeric, categorical)
    bp = _fit_binning(X, y, numeric, categorical, **(binning or {}))
    selected = [str(n) for n in bp.get_support(names=True)]
    if not selected:
        raise TrainingDataError(msg(N_("No column separates good from bad outcomes (information "
                                       "value below %(iv)s for every column)."),
                                    iv=MIN_IV), field="target")
    names, lr = _select_signs(bp, X, y, selected)
    a, b = _platt(bp, X, y, names, seed) if calibrate else (0.0, 1.0)
    chars = [_characteristic(bp, n, float(c), b, X) for n, c in zip(names, lr.coef_[0],
                                                                      strict=True)]
    spec = scorecard.validate({
        "format": scorecard.FORMAT, "version": version, "kind": "trained",
        "name": f"Trained scorecard {version}",
        "intercept": round(-a - b * float(lr.intercept_[0]), 6),
        "scaling": dict(SCALING), "characteristics": chars,
        "grades": [{"grade": g, "max_pd": p} for g, p in GRADE_PDS],
        "calibration": {"method": "platt_out_of_fold", "a": round(a, 6), "b": round(b, 6)},
    })
    stability.reference_shares(spec, X)
    return spec


FAMILIES = ("woe", "gbm")  # the pair select_family cross-validates (family "auto")
ALL_FAMILIES = FAMILIES + ("blend",)


def fit_family(family: str, df: pd.DataFrame, y: np.ndarray, numeric: list[str],
               categorical: list[str], *, version: str, seed: int = 0,
               calibrate: bool = True, monotone: dict | None = None,
               labels: dict | None = None) -> dict:
    """Fit one card of *family* (``woe``: binning + logistic regression; ``gbm``:
    monotone boosted trees, :mod:`.boosting`)."""
    if family == "gbm":
        X = _prepare(df, numeric, categorical)
        spec = boosting.fit(X, y, numeric, categorical, version=version, seed=seed,
                            monotone=monotone, labels=labels)
        if calibrate:
            spec = _calibrate_gbm(spec, X, y, numeric, categorical, seed, monotone)
        stability.reference_shares(spec, X)
        return spec
    if family == "blend":
        X = _prepare(df, numeric, categorical)
        spec = blend_fit.fit(X, y, numeric, categorical, version=version, seed=seed,
                             monotone=monotone, labels=labels)
        stability.reference_shares(spec, X)
        return spec
    if family != "woe":
        raise TrainingDataError(msg(N_("Unknown model family %(family)s; use woe, gbm or blend."),
                                    family=family),
                                field="family")
    spec = fit(df, y, numeric, categorical, version=version, seed=seed, calibrate=calibrate)
    for ch in spec["characteristics"]:  # the features' plain words, as the other families
        lab = (labels or {}).get(ch["name"])
        if lab:
            ch["reason_en"], ch["reason_zh"] = lab["en"], lab["zh"]
    return spec


def _calibrate_gbm(spec, X, y, numeric, categorical, seed, monotone):
    """Platt scaling of the boosted margin on out-of-fold margins (as for WoE cards)."""
    oof = np.zeros(len(y))
    folds = StratifiedKFold(n_splits=min(5, int(y.sum()), int((1 - y).sum())), shuffle=True,
                            random_state=seed)
    for tr, te in folds.split(X, y):
        part = boosting.fit(X.iloc[tr], y[tr], numeric, categorical, version="oof", seed=seed,
                            monotone=monotone)
        oof[te] = -scorecard.apply(part, X.iloc[te]).logodds.to_numpy()
    a, b = calibration.fit_slope(oof, y)
    if not math.isfinite(b) or b <= 0:
        return spec
    out = calibration.transform(spec, a, b, {"method": "platt_out_of_fold"})
    return out


def cross_validate(df: pd.DataFrame, *, target: str, folds: int = 5, seed: int = 0,
                   exclude: tuple[str, ...] = (), family: str = "woe",
                   monotone: dict | None = None) -> dict:
    """AUC of the whole fitting procedure under stratified k-fold cross-validation."""
    y = parse_target(df[target], target).to_numpy()
    numeric, categorical, _ = _columns(df, target, None, exclude)
    aucs = []
    for k, (tr, te) in enumerate(StratifiedKFold(folds, shuffle=True, random_state=seed)
                                 .split(df, y)):
        spec = fit_family(family, df.iloc[tr], y[tr], numeric, categorical,
                          version=f"cv{k}", seed=seed, calibrate=False, monotone=monotone)
        s = scorecard.apply(spec, _prepare(df.iloc[te], numeric, categorical))
        aucs.append(metrics.auc(y[te], s.pd))
    return {"family": family, "folds": folds, "auc_mean": round(float(np.mean(aucs)), 4),
            "auc_std": round(float(np.std(aucs)), 4), "aucs": [round(a, 4) for a in aucs]}


def select_family(df: pd.DataFrame, *, target: str, folds: int = 5, seed: int = 0,
                  exclude: tuple[str, ...] = (), monotone: dict | None = None) -> dict:
    """Cross-validate both families on the same folds; the boosted card is chosen only
    when its AUC gain over the WoE card is above the noise (the lower end of the 95%
    interval of the mean paired fold difference above zero)."""
    cv = {f: cross_validate(df, target=target, folds=folds, seed=seed, exclude=exclude,
                            family=f, monotone=monotone) for f in FAMILIES}
    diff = np.asarray(cv["gbm"]["aucs"]) - np.asarray(cv["woe"]["aucs"])
    half = 1.96 * float(diff.std(ddof=1)) / math.sqrt(len(diff)) if len(diff) > 1 else math.inf
    gain = float(diff.mean())
    chosen = "gbm" if gain - half > 0 else "woe"
    return {"chosen": chosen, "gain": round(gain, 4), "ci_low": round(gain - half, 4),
            "ci_high": round(gain + half, 4), "cross_validation": cv}


DESCRIPTIONS = {"woe": "WoE logistic scorecard", "gbm": "Boosted trees (monotone)",
                "blend": "Equal-weight blend of two WoE scorecards (monotone and free "
                         "binning), extra-trees boosting, a random forest and one-hot "
                         "logistic regression"}


def train(df: pd.DataFrame, *, target: str, date_column: str | None = None,
          version: str | None = None, seed: int = 0, cv_folds: int = 0,
          exclude: tuple[str, ...] = (), family: str = "woe", refit: bool = True,
          monotone: dict | None = None, labels: dict | None = None) -> dict:
    """Train a scorecard on a labelled table and validate it; returns the spec (JSON-safe).

    The last 30% of rows by *date_column* (out of time) or a stratified random 30% are
    held out; the card fitted on the rest is validated on them. The delivered card is
    then refitted on every row (*refit*, the default): the validation figures describe
    the procedure, and no outcome is left unused. *family* is ``woe``, ``gbm`` or
    ``auto`` (both cross-validated on the same folds, the boosted card chosen only when
    it beats the WoE card by more than the noise; see :func:`select_family`). With
    *cv_folds*, the report adds a k-fold AUC.
    """
    if target not in df:
        raise TrainingDataError(msg(N_("There is no column %(target)s; columns are "
                                       "%(columns)s."),
                                    target=target, columns=[str(c) for c in df.columns[:20]]),
                                    field=target)
    if len(df) < MIN_ROWS:
        raise TrainingDataError(msg(N_("%(found)s rows are too few to train; at least %(rows)s."),
                                    found=len(df), rows=MIN_ROWS),
                                field="rows")
    y = parse_target(df[target], target).to_numpy()
    if y.sum() < MIN_BADS or (1 - y).sum() < MIN_BADS:
        raise TrainingDataError(msg(N_("Need at least %(bads)s bad and %(bads)s good outcomes; "
                                       "found %(bad)s bad, %(good)s good."),
                                    bads=MIN_BADS, bad=int(y.sum()), good=int((1 - y).sum())),
                                field=target)
    numeric, categorical, dropped = _columns(df, target, date_column, exclude)
    if not numeric and not categorical:
        raise TrainingDataError(N_("The table has no usable columns besides the target."),
                                field="columns")
    train_mask, val_mask, how = _split(df, y, date_column, seed)
    version = version or f"trained-{clock.today():%Y%m%d}"
    plain = df.drop(columns=[date_column]) if date_column else df
    selection = None
    if family == "auto":
        selection = select_family(plain, target=target, folds=max(cv_folds, 5), seed=seed,
                                  exclude=exclude, monotone=monotone)
        family = selection["chosen"]
    kw = {"seed": seed, "monotone": monotone, "labels": labels}
    held = fit_family(family, df[train_mask], y[train_mask], numeric, categorical,
                      version=version, **kw)
    report = validation_report(held, df[val_mask], y[val_mask],
                               train=(df[train_mask], y[train_mask]))
    spec = fit_family(family, df, y, numeric, categorical, version=version, **kw) \
        if refit else held
    fitted_on = len(y) if refit else int(train_mask.sum())
    spec["description"] = (
        f"{DESCRIPTIONS[family]} "
        f"trained with target {target!r} on {fitted_on} rows "
        f"({int(y.sum() if refit else y[train_mask].sum())} bad)"
        + (", refitted on every row after validation" if refit else "")
        + f"; validated on {int(val_mask.sum())} held-out rows ({how['kind']}) by the same "
        f"procedure fitted on the other {int(train_mask.sum())}.")
    spec["target"] = target
    spec["columns"] = {"numeric": numeric, "categorical": categorical, "dropped": dropped}
    spec["validation"] = report
    spec["validation"]["split"] = how
    spec["validation"]["refit_on_all_rows"] = bool(refit)
    if selection:
        spec["validation"]["family_selection"] = selection
        spec["validation"]["cross_validation"] = selection["cross_validation"][family]
    elif cv_folds:
        spec["validation"]["cross_validation"] = cross_validate(
            plain, target=target, folds=cv_folds, seed=seed, exclude=exclude, family=family,
            monotone=monotone)
    return spec


def _frame_for(spec: dict, df: pd.DataFrame) -> pd.DataFrame:
    cols = spec.get("columns", {})
    if spec.get("family") == "blend":
        numeric, categorical = spec["model"]["numeric"], spec["model"]["categorical"]
    elif scorecard.is_gbm(spec):
        cats = spec["model"]["categories"]
        numeric = [f for f in spec["model"]["features"] if f not in cats]
        categorical = [f for f in spec["model"]["features"] if f in cats]
    else:
        numeric = [c["name"] for c in spec["characteristics"] if c["type"] == "numeric"]
        categorical = [c["name"] for c in spec["characteristics"]
                       if c["type"] == "categorical"]
    missing = [c for c in numeric + categorical if c not in df]
    if missing:
        raise TrainingDataError(msg(N_("The table lacks the scorecard's columns: %(columns)s."),
                                    columns=list(missing)),
                                field="columns")
    del cols
    return _prepare(df, numeric, categorical)


def validation_report(spec: dict, df: pd.DataFrame, y: np.ndarray,
                      train: tuple[pd.DataFrame, np.ndarray] | None = None) -> dict:
    """AUC, Gini, KS, Brier, calibration table and PSI of *df* against the training
    population (the spec's reference shares)."""
    X = _frame_for(spec, df)
    s = scorecard.apply(spec, X)
    out = {"validation": metrics.report(y, s.pd.to_numpy()),
           "stability": stability.population_shares(spec, X)}
    if train is not None:
        tX = _frame_for(spec, train[0])
        out["training"] = metrics.report(train[1], scorecard.apply(spec, tX).pd.to_numpy())
        out["training"].pop("calibration", None)
    return out


def evaluate(spec: dict, df: pd.DataFrame, *, target: str) -> dict:
    """Validation report of a saved scorecard on a labelled table."""
    if target not in df:
        raise TrainingDataError(msg(N_("There is no column %(target)s."),
                                    target=target), field=target)
    y = parse_target(df[target], target).to_numpy()
    rep = validation_report(spec, df, y)
    rep["version"] = spec["version"]
    return rep


def compare(champion: dict, challenger: dict, df: pd.DataFrame, *, target: str,
            n_boot: int = 1000, seed: int = 0) -> dict:
    """Champion/challenger on the same validation rows: the challenger wins only when the
    lower end of the 95% bootstrap interval of its AUC gain is above zero."""
    y = parse_target(df[target], target).to_numpy()
    p_champ = scorecard.apply(champion, _frame_for(champion, df)).pd.to_numpy()
    p_chall = scorecard.apply(challenger, _frame_for(challenger, df)).pd.to_numpy()
    out = metrics.bootstrap_auc_difference(y, p_champ, p_chall, n_boot=n_boot, seed=seed)
    out["promote"] = bool(out["ci_low"] > 0)
    out["champion"], out["challenger"] = champion["version"], challenger["version"]
    return out


def read_csv(path: str) -> pd.DataFrame:
    """A CSV in UTF-8 (with or without BOM) or GB18030 (common in Chinese exports)."""
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return pd.read_csv(path, encoding=enc)
        except UnicodeDecodeError:
            continue
    raise TrainingDataError(msg(N_("%(path)s is neither UTF-8 nor GB18030 text."),
                                path=path), field="csv")
