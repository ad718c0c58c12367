"""Outgoing webhooks: what happened (an operation finished, an approval is needed, a schedule
firing was refused or missed), signed and delivered through the job queue."""
