"""Onboarding a cluster: bulk import of firms and trade history, import templates, import
runs with progress, and batch invitations for known vendors. No Flask here."""
