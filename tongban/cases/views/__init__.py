"""Case pages, one module per audience; each view translates HTTP and calls services/selectors."""
