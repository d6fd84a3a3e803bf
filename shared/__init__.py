"""The contract every RecordsDesk service imports. Importing it does no I/O."""
