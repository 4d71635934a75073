"""The supply-chain network of a cluster: the graph built from trade data and its analytics.

No Flask here. :mod:`trellis.network.build` turns the trade tables into a NetworkX
``DiGraph`` (goods flow supplier -> buyer); :mod:`trellis.network.analytics` computes
tiers, PageRank, buyer concentration, cut vertices and bridges, short cycles,
communities and shared-identity links; :mod:`trellis.network.summary` gathers them into
the figures the pages, the API and the CLI show.
"""
