"""Double-entry ledger and loan lifecycle (no Flask here).

Modules: :mod:`chart` (accounts), :mod:`journal` (entries as values, hashing),
:mod:`posting` (the only writer), :mod:`reports` (trial balance, check, chain),
:mod:`replay` (a loan as a pure function of its payments), :mod:`accrual` (set-based daily
interest), :mod:`apr` (IRR), :mod:`status` (allowed moves), :mod:`pricing` (products'
rates within the legal cap), :mod:`origination` (apply, decide, offer, accept, draw),
:mod:`financed` (what a loan finances besides invoices: the interface voucher parts
implement), :mod:`lifecycle` (disburse, repay, sweep, cancel, write-off, recover),
:mod:`cooling` (the cooling-off right as a borrower sees it), :mod:`statement` (vendor
statements), :mod:`jobs`.
"""
