"""What a return is worth: the same arithmetic the order uses for its refunds (a line's price
with its share of the discount and the tax), a restocking fee per reason, and the estimate the
return compares with the shop's support refund limit. The order computes the amount it pays
(capped by what is left of the charge, shipping refunded once); this is its upper bound."""

from __future__ import annotations

from domains.shared import round_half_up

from .messages import OrderMoney, ReturnLine, ReturnPolicy


def goods_share(value: int, money: OrderMoney) -> int:
    """What goods listed at `value` cost the shopper: their part of goods after discount, plus their tax
    (as OrderWorkflow._share, before its cap)."""
    return round(value * (money.subtotal - money.discount + money.tax) / money.subtotal) if money.subtotal else 0


def arrived(line: ReturnLine) -> int:
    """Units refunded: those that came back (restocked or damaged); missing ones are not."""
    return line.restocked + line.damaged


def restocking_fee(lines: list[ReturnLine], money: OrderMoney, policy: ReturnPolicy) -> int:
    return sum(round_half_up(goods_share(li.unit_price * arrived(li), money) * policy.restocking_fees.get(li.reason, 0),
                             100) for li in lines)


def estimate(lines: list[ReturnLine], money: OrderMoney, policy: ReturnPolicy) -> int:
    goods = goods_share(sum(li.unit_price * arrived(li) for li in lines), money)
    shipping = money.shipping if policy.refund_shipping_on_return and goods else 0
    return max(0, min(goods + shipping - restocking_fee(lines, money, policy), money.total))
