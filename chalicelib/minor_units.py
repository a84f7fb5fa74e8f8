"""Money in minor units (what the API, the tables and the provider carry) as people read it.

Every amount is an integer count of the currency's minor unit; how many of those make a major unit is the
currency's ISO 4217 exponent: 0 for JPY or KRW (1500 JPY is ¥1,500), 3 for BHD, KWD, JOD, OMR, TND
(1500 KWD minor units are 1.500 KWD), 2 for the rest. Every document and email formats money through
`to_major` (emails' `money` filter, the invoice PDF, the product feeds): one table, no `/ 100`.
"""

from decimal import Decimal

EXPONENTS = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND",
                     "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    **dict.fromkeys(("CLF", "UYW"), 4),
}


def exponent(currency: str) -> int:
    """The currency's minor-unit exponent (ISO 4217): 2 unless listed in EXPONENTS."""
    return EXPONENTS.get(currency.upper(), 2)


def to_major(amount: int, currency: str, grouping: bool = True) -> str:
    """The amount in major units with exactly the currency's decimals: to_major(123456, "EUR") == "1,234.56",
    to_major(123456, "JPY") == "123,456", to_major(123456, "KWD") == "123.456"; without `grouping` no
    thousands separator ("1234.56")."""
    places = exponent(currency)
    return f"{Decimal(amount).scaleb(-places):{',' if grouping else ''}.{places}f}"
