"""The organisation: regions, departments, halls, windows, accounts, roles and applicants."""
