"""Catalogue pages, one module per feature: public guides and search, the audit, Excel exchange."""
