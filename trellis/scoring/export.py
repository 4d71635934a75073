"""The feature table as of a date: what a scorecard sees, one row per firm.

For training on the platform's own data: join it to outcomes observed after the date
(``trellis scoring export-features --as-of D``). Only data dated before *as_of* is read
(:mod:`.frames`), so a table exported for a past date holds no later information.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
from sqlmodel import Session

from trellis.scoring import features, frames


def feature_table(*, session: Session, as_of: date, cluster_id: int | None = None
                  ) -> pd.DataFrame:
    """Columns ``firm_id, uscc, cluster_id, scorable, insufficient`` then every feature."""
    fr = frames.load(session=session, as_of=as_of, cluster_id=cluster_id)
    X = features.compute(fr)
    why = features.sufficiency(X)
    head = pd.DataFrame({
        "firm_id": X.index.astype(int),
        "uscc": fr.firms.loc[X.index, "uscc"].to_numpy(),
        "cluster_id": fr.firms.loc[X.index, "cluster_id"].to_numpy(),
        "scorable": [not why[f] for f in X.index],
        "insufficient": ["; ".join(r.code for r in why[f]) for f in X.index],
    })
    out = pd.concat([head.reset_index(drop=True), X.reset_index(drop=True)], axis=1)
    out.insert(1, "as_of", as_of.isoformat())
    return out
