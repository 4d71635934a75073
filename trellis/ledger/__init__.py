"""Double-entry ledger and loan lifecycle (no Flask here).

Modules: :mod:`chart` (accounts), :mod:`journal` (entries as values, hashing),
:mod:`posting` (the only writer), :mod:`reports` (trial balance, check, chain),
:mod:`replay` (a loan as a pure function of its payments), :mod:`accrual` (set-based daily
interest), :mod:`apr` (IRR), :mod:`status` (allowed moves), :mod:`products`,
:mod:`lifecycle` (apply, decide, offer, disburse, repay, sweep, write-off, recover),
:mod:`statement` (vendor statements), :mod:`jobs`.
"""
