"""A deterministic simulator of an industrial-park cluster, its loader and the demo seed.

``simulator.simulate`` builds plain rows (:class:`~trellis.demo.data.ClusterData`) with the
planted facts in ``truth``; ``loader.load`` bulk-inserts them; ``seed.seed_demo`` loads the
demo cluster and its users. No Flask here.
"""
