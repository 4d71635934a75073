"""Firms, clusters and the trade between them: the evidence Trellis lends on. No Flask."""
