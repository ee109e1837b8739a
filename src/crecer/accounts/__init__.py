"""Signing in: two-factor (TOTP and recovery codes), the client's address behind proxies, throttling of
bad API tokens, the audit of sign-ins, and the pages for passwords and for managing users."""
