"""Privacy faces: erasing a caller and the data-subject export through the API, the
settings page, the admin and the command, with the audit log entry and the owners' receipt.
The erasure itself and the tombstones live on the writing side (`sync.privacy`)."""
