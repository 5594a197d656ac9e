"""A fixed, valid browser key pair for tests that only need well-formed keys."""

P256DH = (
    "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0"
    "VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM"
)
AUTH = "tBHItJI5svbpez7KI4CCXg"
