"""Online charging: network elements ask before usage happens, and balances are debited live."""
