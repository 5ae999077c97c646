"""Abandoned carts: a session's cart under the README's rules, in plain Python (the streaming query keeps
one per open session in its state)."""
