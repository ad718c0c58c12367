"""Who is asking and what they may do: tokens, roles, scopes, and the audit log."""
