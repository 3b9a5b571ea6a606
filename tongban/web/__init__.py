"""The web shell: base layout, navigation, sign-in pages and each role's home page."""
