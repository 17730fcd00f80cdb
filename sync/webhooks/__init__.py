"""Talkover webhooks: the receiver, their registration upstream and their urls."""
