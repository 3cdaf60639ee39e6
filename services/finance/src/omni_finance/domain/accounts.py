"""The chart of accounts 会计科目表 finance posts to (codes after the Chinese enterprise chart).

The same rows are seeded by migrations finance0001, finance0002 (store takings), finance0004 (after-sales
and credit terms) and finance0005 (carriers' freight); a test checks the database agrees with this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class AccountType(StrEnum):
    ASSET = "asset"
    LIABILITY = "liability"
    REVENUE = "revenue"
    EXPENSE = "expense"


class Side(StrEnum):
    DEBIT = "debit"
    CREDIT = "credit"


@dataclass(frozen=True)
class Account:
    code: str
    name: str
    type: AccountType
    normal_side: Side

    def balance(self, debit_cents: int, credit_cents: int) -> int:
        """The balance on the account's normal side (positive when it is where it belongs)."""
        return debit_cents - credit_cents if self.normal_side is Side.DEBIT else credit_cents - debit_cents


CASH = "1001"  # 库存现金: the till's cash
BANK = "1002"  # 银行存款: card payments settled to the bank
OTHER_FUNDS = "1012"  # 其他货币资金: WeChat Pay / Alipay balances until withdrawn
AP_CARRIERS = "2202"  # 应付账款-承运商: freight owed to the carriers (per carrier: the carrier_costs ledger)
ADVANCE_RECEIPTS = "2203"  # 预收账款: prepaid vouchers / gift cards redeemed at the till
VAT_OUTPUT = "222101"  # 应交税费-应交增值税(销项税额)
AR_PLATFORM = "1122"  # 应收账款-平台: what the platform owes us for paid orders until it settles
AR_CREDIT = "112201"  # 应收账款-账期客户: what a B2B buyer owes for orders on account (per credit account)
DEFERRED_GOODS = "2205"  # 合同负债: paid for goods not yet delivered
DEFERRED_FREIGHT = "2206"  # 合同负债-运费: paid for freight not yet delivered
SALES_REVENUE = "6001"  # 主营业务收入
FREIGHT_REVENUE = "6051"  # 其他业务收入-运费
COMPENSATION_EXPENSE = "660101"  # 销售费用-售后赔付: money paid to a buyer as compensation (赔付)
FREIGHT_EXPENSE = "660102"  # 销售费用-运费: what the carrier charges for a parcel shipped (its chosen cost)

CHART: dict[str, Account] = {
    a.code: a
    for a in (
        Account(CASH, "库存现金", AccountType.ASSET, Side.DEBIT),
        Account(BANK, "银行存款", AccountType.ASSET, Side.DEBIT),
        Account(OTHER_FUNDS, "其他货币资金", AccountType.ASSET, Side.DEBIT),
        Account(AR_PLATFORM, "应收账款-平台", AccountType.ASSET, Side.DEBIT),
        Account(AR_CREDIT, "应收账款-账期客户", AccountType.ASSET, Side.DEBIT),
        Account(AP_CARRIERS, "应付账款-承运商", AccountType.LIABILITY, Side.CREDIT),
        Account(ADVANCE_RECEIPTS, "预收账款", AccountType.LIABILITY, Side.CREDIT),
        Account(DEFERRED_GOODS, "合同负债", AccountType.LIABILITY, Side.CREDIT),
        Account(DEFERRED_FREIGHT, "合同负债-运费", AccountType.LIABILITY, Side.CREDIT),
        Account(VAT_OUTPUT, "应交税费-应交增值税(销项税额)", AccountType.LIABILITY, Side.CREDIT),
        Account(SALES_REVENUE, "主营业务收入", AccountType.REVENUE, Side.CREDIT),
        Account(FREIGHT_REVENUE, "其他业务收入-运费", AccountType.REVENUE, Side.CREDIT),
        Account(COMPENSATION_EXPENSE, "销售费用-售后赔付", AccountType.EXPENSE, Side.DEBIT),
        Account(FREIGHT_EXPENSE, "销售费用-运费", AccountType.EXPENSE, Side.DEBIT),
    )
}

# Posting as data: the account an order's sale debits, by how it was paid (order.accepted `payment`). Its
# refunds, compensation and cancellation credit the same account (what the platform, or the buyer, owes us).
RECEIVABLE_ACCOUNTS: dict[str, str] = {
    "paid": AR_PLATFORM,  # the platform collected the money: it owes it to us until it settles
    "on_account": AR_CREDIT,  # a B2B order on credit terms (账期): the buyer owes it until it pays
}
