"""The hooks of the shipped routes; importing this package registers them (see process_hooks)."""
