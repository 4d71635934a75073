"""The chart of accounts: one set of accounts per currency.

Signs. Every posting amount is an integer number of fen; a debit is positive and a
credit negative, so the postings of a balanced entry sum to zero and the trial balance of
the whole ledger sums to zero. An account's *balance* is the sum of its postings; its
*normal balance* says which sign is usual: assets and expenses are debit-normal (positive),
liabilities and income are credit-normal (negative). Reports show the "natural" amount,
the balance multiplied by the account's sign, so a healthy loan book shows positive
receivables and positive income.

The codes follow the Chinese enterprise chart's first digits (1 assets, 2 liabilities,
6 income and expense) so an accountant recognises them; they are stable identifiers,
seeded by migration ``0005_ledger`` and referenced by code, never by row id, in code.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Kind(enum.StrEnum):
    ASSET = "asset"
    LIABILITY = "liability"
    INCOME = "income"
    EXPENSE = "expense"


class Acct(enum.StrEnum):
    """Account codes. Loan-level accounts (receivables) carry the loan id on postings."""

    CASH = "1002"                  # cash and settlement account at the bank
    LOANS = "1303"                 # loans receivable (principal)
    INTEREST_RECEIVABLE = "1132"   # accrued contract interest not yet paid
    PENALTY_RECEIVABLE = "1133"    # accrued penalty interest not yet paid
    FEES_RECEIVABLE = "1134"       # fees charged not yet paid
    LOSS_ALLOWANCE = "1304"        # contra-asset: allowance for loan losses
    VENDOR_PAYABLE = "2241"        # surpluses owed to vendors (anchor paid more than owed)
    INTEREST_INCOME = "6011"
    FEE_INCOME = "6021"
    PENALTY_INCOME = "6012"
    RECOVERIES = "6301"            # cash recovered on written-off loans
    WRITE_OFF_EXPENSE = "6701"     # credit losses: provisions and write-offs


@dataclass(frozen=True, slots=True)
class AccountDef:
    """One line of the chart: code, English and Chinese names, kind."""

    code: Acct
    name: str
    name_zh: str
    kind: Kind

    @property
    def sign(self) -> int:
        """+1 for debit-normal accounts, -1 for credit-normal ones.

        The loss allowance is an asset-side account with a credit-normal balance.
        """
        if self.code is Acct.LOSS_ALLOWANCE:
            return -1
        return 1 if self.kind in (Kind.ASSET, Kind.EXPENSE) else -1


CHART: tuple[AccountDef, ...] = (
    AccountDef(Acct.CASH, "Cash and settlement", "现金及结算", Kind.ASSET),
    AccountDef(Acct.LOANS, "Loans receivable", "贷款本金", Kind.ASSET),
    AccountDef(Acct.INTEREST_RECEIVABLE, "Interest receivable", "应收利息", Kind.ASSET),
    AccountDef(Acct.PENALTY_RECEIVABLE, "Penalty interest receivable", "应收罚息",
               Kind.ASSET),
    AccountDef(Acct.FEES_RECEIVABLE, "Fees receivable", "应收费用", Kind.ASSET),
    AccountDef(Acct.LOSS_ALLOWANCE, "Loan loss allowance", "贷款损失准备", Kind.ASSET),
    AccountDef(Acct.VENDOR_PAYABLE, "Vendor payable (surplus)", "应付供应商余款",
               Kind.LIABILITY),
    AccountDef(Acct.INTEREST_INCOME, "Interest income", "利息收入", Kind.INCOME),
    AccountDef(Acct.FEE_INCOME, "Fee income", "手续费收入", Kind.INCOME),
    AccountDef(Acct.PENALTY_INCOME, "Penalty interest income", "罚息收入", Kind.INCOME),
    AccountDef(Acct.RECOVERIES, "Recoveries on written-off loans", "已核销贷款收回",
               Kind.INCOME),
    AccountDef(Acct.WRITE_OFF_EXPENSE, "Credit loss expense (write-offs)", "信用减值损失",
               Kind.EXPENSE),
)

BY_CODE: dict[str, AccountDef] = {a.code.value: a for a in CHART}

CURRENCIES = ("CNY",)

#: The loan-level receivable behind each balance column of a loan.
LOAN_BALANCE_ACCOUNTS: dict[str, Acct] = {
    "principal_fen": Acct.LOANS,
    "interest_fen": Acct.INTEREST_RECEIVABLE,
    "penalty_fen": Acct.PENALTY_RECEIVABLE,
    "fees_fen": Acct.FEES_RECEIVABLE,
}

#: Waterfall component -> (receivable account, income account, loan balance column).
COMPONENTS: dict[str, tuple[Acct, Acct, str]] = {
    "penalty": (Acct.PENALTY_RECEIVABLE, Acct.PENALTY_INCOME, "penalty_fen"),
    "fees": (Acct.FEES_RECEIVABLE, Acct.FEE_INCOME, "fees_fen"),
    "interest": (Acct.INTEREST_RECEIVABLE, Acct.INTEREST_INCOME, "interest_fen"),
    "principal": (Acct.LOANS, Acct.CASH, "principal_fen"),
}

DEFAULT_WATERFALL = ("penalty", "fees", "interest", "principal")


def account(code: str | Acct) -> AccountDef:
    """The chart line for *code*; raises KeyError for an unknown code."""
    return BY_CODE[str(code)]
