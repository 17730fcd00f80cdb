"""Report pages of the portal: dashboard, calls explorer, callbacks, agents, sync status."""
