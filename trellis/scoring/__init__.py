"""Credit scoring from trade flows: features, fraud screens, scorecards, limits and prices.

No Flask here. Services take ``session`` as a keyword argument and only flush.

- :mod:`.frames` reads the trade tables once each into pandas DataFrames, as of a date;
- :mod:`.features` turns the frames into one row of features per firm (vectorised);
- :mod:`.graph` reads the network area's supply graph (tier, PageRank, cycles);
- :mod:`.screens` runs the fraud and integrity screens (flags with evidence);
- :mod:`.scorecard` holds the scorecard format (versioned data) and applies it;
- :mod:`.expert` is the cold-start expert scorecard, with its reasons written down;
- :mod:`.training` fits a scorecard from labelled data (optbinning + logistic regression),
  :mod:`.boosting` and :mod:`.blend` the other families (:mod:`.blend_fit` fits a blend);
  only fitting imports scikit-learn, so the pages apply a stored card without it;
- :mod:`.calibration` and :mod:`.anchoring` set a card's PD level (anchor, recalibrate);
- :mod:`.export` writes the feature table as of a date;
- :mod:`.service` scores a firm or the portfolio and stores reproducible results;
- :mod:`.limits` and :mod:`.pricing` turn a result into a limit and a rate;
- :mod:`.stability` measures the champion's population stability (PSI);
- :mod:`.jobs` rescores the portfolio, monitors stability and recalibrates.
"""
