"""Users, roles, API tokens, consent and the audit trail. No Flask here."""
