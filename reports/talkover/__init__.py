"""The Talkover-compatible API: its viewset, its wording of errors and its call listing."""
