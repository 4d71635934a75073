"""The names of the import kinds, importable without the database layer (commands list
them at start-up). ``trellis.onboarding.kinds.KINDS`` and
``trellis.onboarding.models.ImportKind`` hold the same names in the same order (tested)."""

KIND_NAMES = ("firms", "relationships", "orders", "invoices", "payments", "deliveries",
              "credit_notes", "confirmations", "tax_filings", "loans", "utility_readings",
              "headcount")
