"""The only package that imports SpiffWorkflow: parsing, sandboxed scripting, state and runtime."""
