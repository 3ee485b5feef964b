"""Agents, passwords and desk sessions."""

from onlinesupport.accounts.service import AccountError, Accounts, SignedIn

__all__ = ["AccountError", "Accounts", "SignedIn"]
