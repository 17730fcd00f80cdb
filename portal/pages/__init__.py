"""The portal's own HTML pages: organisations, members, settings, retention."""
