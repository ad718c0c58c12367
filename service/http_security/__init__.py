"""What every HTTP answer carries and how it travels: security headers, HTTPS (served directly
or behind a trusted proxy), the redirect from plain HTTP, and slowed answers."""
