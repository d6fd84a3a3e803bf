"""RecordsDesk services: intake, review, notify, and the HTTP API."""
