"""Stable import path of the local state store (`blindvault.client.local.state`)."""

from blindvault.client.local.state import AccountState, StateStore, state_home

__all__ = ["AccountState", "StateStore", "state_home"]
