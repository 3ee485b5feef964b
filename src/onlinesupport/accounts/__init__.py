"""Agents, passwords and desk sessions."""

from onlinesupport.accounts.service import ROLES, AccountError, Accounts, SignedIn

__all__ = ["ROLES", "AccountError", "Accounts", "SignedIn"]
