"""Multi-tier digital payables (the 云信 model): vouchers issued by an anchor against a
confirmed payable, split and transferred down the supply chain, financed in part, and
settled at maturity to every holder. No Flask here."""

from trellis.vouchers import parts as _parts

# The ledger and the chain registry, below this package, learn about voucher parts here.
_parts.install()
