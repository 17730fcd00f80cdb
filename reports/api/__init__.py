"""The REST API (`/api/v1/`): calls, agents, environments, reports and quality.

Its viewsets (`views`, `reports`, `quality`), serializers and urls.
"""
