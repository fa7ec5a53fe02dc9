"""The bank group: bank accounts, their transactions and balances (``accounts``) and the statement
import (``importing``).
"""
