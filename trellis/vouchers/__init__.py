"""Multi-tier digital payables (the 云信 model): vouchers issued by an anchor against a
confirmed payable, split and transferred down the supply chain, financed in part, and
settled at maturity to every holder. No Flask here."""
